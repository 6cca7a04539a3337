"""Names beside ids in the CLI's tables, namesakes told apart, and spinners that never touch stdout.

A tiny warehouse made here: three team members, two of them both called "Alex Kim"; two accounts; one dropped lead
with a call that mentions a budget and a competitor; a second call with an account.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import ibis
import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.cli.common import working
from retain.cli.main import app
from retain.warehouse import Warehouse
from retain.warehouse.names import with_names

HERE = Path(__file__).resolve().parent
FX = HERE.parent / "fixtures" / "conversations"
AS_OF = "2026-03-31"
runner = CliRunner()


def load(wh: Warehouse, name: str, rows: list[dict]) -> None:
    schema = wh.raw(name).schema()
    frame = pd.DataFrame([{col: row.get(col) for col in schema.names} for row in rows])
    wh.con.insert(name, ibis.memtable(frame).cast(schema))


def ts(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def fill_people(wh: Warehouse) -> None:
    load(wh, "team_members", [{"member_id": "m_001", "name": "Alex Kim", "role": "csm"},
                              {"member_id": "m_007", "name": "Alex Kim", "role": "rep"},
                              {"member_id": "m_002", "name": "Bo Li", "role": "rep"}])
    load(wh, "accounts", [
        {"account_id": "acc_1", "name": "Acme Corp", "created_at": ts("2025-01-01"), "owner_id": "m_001"},
        {"account_id": "acc_2", "name": "Globex", "created_at": ts("2025-01-01"), "owner_id": "m_002"},
    ])
    load(wh, "leads", [{"lead_id": "L1", "created_at": ts("2026-01-10"), "source": "inbound", "status": "dropped",
                        "company": "Initech", "owner_id": "m_007", "last_touched_at": ts("2026-03-04")}])


@pytest.fixture(autouse=True, scope="module")
def wide_tables():
    """Tables as wide as they need, so a name and its id are never wrapped onto two lines."""
    from retain.cli.common import console

    saved, console._width = console._width, 250
    yield
    console._width = saved


def run(db, *args: str, env: dict | None = None):
    return runner.invoke(app, ["--db", str(db), *args], env=env)


@pytest.fixture(scope="module")
def calls_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("names") / "w.duckdb"
    wh = Warehouse.open(db)
    fill_people(wh)
    wh.con.disconnect()
    for path, link, started in ((FX / "call.txt", ("--lead", "L1", "--rep", "m_007"), "2026-03-04T15:00:00"),
                                (FX / "call.vtt", ("--account", "acc_1", "--rep", "m_001"), "2026-03-05T15:00:00")):
        res = run(db, "calls", "import", str(path), *link, "--started-at", started)
        assert res.exit_code == 0, res.output
    res = run(db, "calls", "analyze", "--as-of", AS_OF)
    assert res.exit_code == 0, res.output
    assert "Alex Kim (m_001)" in res.output and "Alex Kim (m_007)" in res.output  # QA per rep
    return db


def _rows(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("│")]


def test_calls_search_names_the_rep_and_tells_namesakes_apart(calls_db):
    res = run(calls_db, "calls", "search", "--as-of", AS_OF)
    assert res.exit_code == 0, res.output
    rows = _rows(res.output)
    assert len(rows) == 2
    assert "member_name" in res.output
    assert any("m_001" in r and "Alex Kim (m_001)" in r for r in rows)
    assert any("m_007" in r and "Alex Kim (m_007)" in r for r in rows)
    assert rows[0].index("2026-03-05") > 0  # newest first, as before the names were joined


def test_leads_recover_names_the_owner(calls_db):
    res = run(calls_db, "leads", "recover", "--as-of", AS_OF)
    assert res.exit_code == 0, res.output
    (row,) = _rows(res.output)
    assert "L1" in row and "Initech" in row and "m_007" in row and "Alex Kim (m_007)" in row


def test_tags_suggest_names_the_entity(calls_db):
    res = run(calls_db, "tags", "suggest", "--as-of", AS_OF)
    assert res.exit_code == 0, res.output
    assert "entity_name" in res.output
    named = [r for r in _rows(res.output) if "L1" in r]
    assert named and all("Initech" in r for r in named)


def test_calls_cadence_names_the_rep(calls_db):
    res = run(calls_db, "calls", "cadence", "--as-of", AS_OF)
    assert res.exit_code == 0, res.output
    assert any("m_007" in r and "Alex Kim (m_007)" in r for r in _rows(res.output))


def test_score_names_the_accounts(tmp_path):
    spec = importlib.util.spec_from_file_location("health_data_names", HERE.parent / "unit" / "health" /
                                                  "health_data.py")
    health = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(health)
    db = tmp_path / "h.duckdb"
    wh = Warehouse.open(db)
    health.fill_tiny(wh)
    wh.con.raw_sql("UPDATE accounts SET name = 'Company ' || account_id")
    wh.con.disconnect()
    res = run(db, "score", "--as-of", health.AS_OF.isoformat())
    assert res.exit_code == 0, res.output
    assert "account_name" in res.output
    rows = [r for r in _rows(res.output) if "Company" in r]
    assert {"Company A", "Company B"} <= {name for r in rows for name in ("Company A", "Company B") if name in r}
    assert all(r.split("│")[1].strip() == r.split("│")[2].strip().removeprefix("Company ") for r in rows)


def test_with_names_keeps_order_and_only_namesakes_carry_their_id():
    wh = Warehouse.open(":memory:")
    fill_people(wh)
    frame = pd.DataFrame({"account_id": ["acc_2", "nope", "acc_1"], "owner_id": ["m_002", "m_007", None],
                          "score": [3.0, 2.0, 1.0]})
    out = wh.execute(with_names(wh, frame, as_of=AS_OF))
    assert list(out.columns) == ["account_id", "account_name", "owner_id", "owner_name", "score"]
    assert out["account_id"].tolist() == ["acc_2", "nope", "acc_1"]  # the frame's order survives the join
    assert out["account_name"].tolist()[::2] == ["Globex", "Acme Corp"] and pd.isna(out.at[1, "account_name"])
    assert out["owner_name"].tolist()[:2] == ["Bo Li", "Alex Kim (m_007)"] and pd.isna(out.at[2, "owner_name"])


def test_spinner_writes_nothing_to_stdout(capsys, monkeypatch):
    for choice in ("always", "never", ""):
        monkeypatch.setenv("RETAIN_PROGRESS", choice)
        with working("fitting models") as update:
            update("still fitting")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "still fitting" in captured.err  # only when forced ("always"), and on stderr


def test_command_output_is_the_same_with_or_without_spinner(calls_db):
    args = ("leads", "recover", "--as-of", AS_OF)
    plain = run(calls_db, *args)
    forced = run(calls_db, *args, env={"RETAIN_PROGRESS": "always"})
    assert plain.exit_code == forced.exit_code == 0
    assert plain.stderr == ""  # not a terminal (the runner): no spinner at all
    assert "ranking leads to recover" in forced.stderr
    assert forced.stdout == plain.stdout


def test_by_owner_titles_name_the_owner(tmp_path):
    db = tmp_path / "m.duckdb"
    wh = Warehouse.open(db)
    fill_people(wh)
    load(wh, "subscriptions", [
        {"subscription_id": f"s_{a}", "account_id": a, "product_id": "p1", "started_on": dt.date(2025, 1, 1),
         "mrr": 100.0, "quantity": 1} for a in ("acc_1", "acc_2")])
    wh.con.disconnect()
    for args in (("retention", "--by", "owner"), ("survival", "--by", "owner"),
                 ("cohorts", "--by", "owner", "--cohorts", "24")):
        res = run(db, *args, "--as-of", AS_OF)
        assert res.exit_code == 0, (args, res.output)
        assert "Bo Li (m_002)" in res.output and "Alex Kim (m_001)" in res.output, args
