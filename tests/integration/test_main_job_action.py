"""The main job's action section: ``retain run`` evaluates the shipped rules after scoring and keeps the CTAs in
the application database next to the warehouse, printing one line per owner; degrade, never abort."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.unit.action.act_company import DAY, company, health
from typer.testing import CliRunner

from retain.cli.main import app
from retain.jobs import action
from retain.jobs import main as jobs_main
from retain.state.actions import Cta
from retain.state.db import ENV_URL, app_database
from retain.warehouse import Warehouse

runner = CliRunner()


def on_file(path: Path) -> Warehouse:
    """The tiny action company (a team, five accounts in service) with health stored on ``DAY``, in a DuckDB file."""
    mem = company()
    health(mem, DAY, {"a1": (40, "red", "champion_left"), "a2": (35, "red", "payment_failed"), "a3": (80, "green"),
                      "a5": (30, "red", "champion_left")})
    wh = Warehouse.open(path)
    raw = wh.con.con  # DuckDB's own connection: copy every table as it is
    for name in mem.con.list_tables():
        raw.register("_copy", mem.con.table(name).to_pyarrow())
        raw.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _copy')
        raw.unregister("_copy")
    return wh


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Warehouse:
    monkeypatch.delenv(ENV_URL, raising=False)
    return on_file(tmp_path / "w.duckdb")


def test_the_section_creates_ctas_next_to_the_warehouse_once(warehouse, tmp_path):
    first = action.action_section(warehouse, DAY)
    assert action.database_url(warehouse) == f"sqlite:///{tmp_path / 'retain.sqlite'}"
    assert (tmp_path / "retain.sqlite").is_file()
    # the shipped rules: a critical factor on a1, a2 and a5; no touch ever on the five accounts in service
    assert first.total("created") == first.fired == 8
    with app_database(action.database_url(warehouse)) as db:
        got = {(c.rule, c.account_id, c.owner_id) for c in db.scalars(select(Cta))}
    owners = {a: o for r, a, o in got if r == "critical_factor"}
    assert {(r, a) for r, a, _ in got} == {("critical_factor", a) for a in ("a1", "a2", "a5")} | {
        ("no_touch", a) for a in ("a1", "a2", "a3", "a4", "a5")}
    assert owners["a1"] == "c1" and owners["a2"] == "r1"  # the CSM; a2 has none: its owner
    rows = first.per_owner.set_index("owner_id")
    assert rows.loc["c1", "owner_name"] == "Cleo CSM" and (rows["open"] == rows["created"]).all()
    assert int(rows["open"].sum()) == 8 and "(nobody)" not in rows.index  # a5's went round-robin
    again = action.action_section(warehouse, DAY)
    assert again.total("created") == again.total("updated") == 0 and int(again.per_owner["open"].sum()) == 8
    # rules whose stored inputs are missing (no predictions, no calls, no deal scores) are skipped, with why
    assert {"churn_risk", "callback_missed", "deal_below_benchmark"} <= set(again.skipped_rules)


def test_retain_run_prints_one_line_per_owner(warehouse, tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    warehouse.con.disconnect()
    keep = tuple(s for s in jobs_main.SECTIONS if s.name == jobs_main.SectionName.ACTION)
    monkeypatch.setattr(jobs_main, "SECTIONS", keep)
    res = runner.invoke(app, ["--db", str(path), "run", "--as-of", DAY.isoformat()])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "Calls to action" in out and "8 (account, rule) pairs fired; created 8" in out
    assert re.search(r"Cleo CSM \(c1\): (\d+) open; \1 created", out)
    assert "skipped rule churn_risk: no 'propensity' stored" in out


def test_a_database_that_cannot_be_opened_skips_the_section_with_what_to_check(warehouse, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv(ENV_URL, f"sqlite:///{blocker / 'state.sqlite'}")
    run = jobs_main.run_section(next(s for s in jobs_main.SECTIONS if s.name == "action"), warehouse, DAY)
    assert not run.ran and "application database" in run.skipped.error.message
    assert "RETAIN_DATABASE_URL" in run.skipped.error.hint


def test_a_warehouse_in_memory_gets_a_database_in_memory(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_URL, raising=False)
    monkeypatch.chdir(tmp_path)
    wh = company()
    health(wh, DAY, {"a1": (40, "red", "champion_left")})
    assert action.database_url(wh) == action.IN_MEMORY_URL
    section = action.action_section(wh, DAY)
    assert section.total("created") >= 1 and list(tmp_path.iterdir()) == []  # nothing written in the folder
    assert section.as_of == DAY and section.database == "sqlite://"


def test_the_section_runs_after_what_it_reads():
    names = [s.name for s in jobs_main.SECTIONS]
    assert names.index("health") < names.index("prediction") < names.index("calls") < names.index("action")
    assert names.index("sales") < names.index("action") < names.index("plans")  # deal scores in, CTAs out
