"""``retain act``, its backtest, ``retain ctas`` and ``retain tasks done`` through the CLI runner on a small demo."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.action.spec import DEFAULT_RULES
from retain.cli.main import app
from retain.demo import DemoSpec, build_demo
from retain.health.history import score, store
from retain.warehouse import Warehouse

runner = CliRunner()
END = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[str, str]:
    """A small demo (150 accounts over 1.5 years) with monthly health stored for the last four months; no
    predictions (so the rules on them are skipped, which the command says)."""
    folder = tmp_path_factory.mktemp("act")
    path = folder / "demo.duckdb"
    wh = Warehouse.open(path)
    build_demo(wh, DemoSpec(accounts=150, years=1.5, seed=3, end=END), out_dir=folder / "parquet")
    for day in (dt.date(2026, 7, 1), dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1), END):
        store(wh, score(wh, day), day, measures=False)
    wh.con.disconnect()
    return str(path), f"sqlite:///{folder / 'state.sqlite'}"


def flat(res) -> str:
    """The output on one line (Rich wraps long lines at the runner's width)."""
    return " ".join(res.output.split())


def run(demo, *args: str):
    db, url = demo
    return runner.invoke(app, ["--db", db, *args], env={"RETAIN_DATABASE_URL": url})


def test_act_creates_ctas_per_owner_then_changes_nothing(demo, tmp_path):
    first = run(demo, "act", "--as-of", END.isoformat(), "--out", str(tmp_path / "owners.csv"))
    assert first.exit_code == 0, first.output
    assert "skipped rule churn_risk:" in flat(first) and "retain predict" in flat(first)
    created = int(first.output.split("created ")[1].split(",")[0].replace(",", ""))
    owners = pd.read_csv(tmp_path / "owners.csv")
    assert created > 0 and owners["created"].sum() == created
    assert list(owners.columns[:2]) == ["owner_id", "owner_name"] and owners["owner_name"].notna().all()
    second = run(demo, "act", "--as-of", END.isoformat())
    assert second.exit_code == 0, second.output
    assert "created 0, updated 0, reopened 0, auto-closed 0, escalated 0" in flat(second)


def test_ctas_lists_with_names_and_tasks_can_be_checked_off(demo, tmp_path):
    out = tmp_path / "ctas.csv"
    res = run(demo, "ctas", "--tasks", "--out", str(out))
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(out)
    assert {"cta_id", "account_id", "account_name", "owner_id", "owner_name", "reason", "detail",
            "priority"} <= set(frame.columns)
    assert frame["account_name"].notna().all() and set(frame["status"]) == {"open"}
    assert "Tasks" in res.output
    owner = frame["owner_id"].dropna().iloc[0]
    mine = run(demo, "ctas", "--owner", owner, "--status", "open", "--out", str(tmp_path / "mine.csv"))
    assert mine.exit_code == 0 and set(pd.read_csv(tmp_path / "mine.csv")["owner_id"]) == {owner}
    from retain.action.service import task_frame

    wh = Warehouse.open(demo[0], create=False)
    tasks = task_frame(wh, demo[1], [int(i) for i in frame["cta_id"]])
    wh.con.disconnect()
    task_id = str(int(tasks["task_id"].iloc[0]))
    done = run(demo, "tasks", "done", task_id, "--by", "cleo")
    assert done.exit_code == 0 and f"task {task_id} of CTA" in flat(done)
    again = run(demo, "tasks", "done", task_id)
    assert again.exit_code == 2 and "already done" in flat(again) and "Traceback" not in again.output


def test_a_bad_status_or_rule_file_is_one_line_and_an_exit_code(demo, tmp_path):
    res = run(demo, "ctas", "--status", "closed")
    assert res.exit_code == 2 and "'closed' is not a CTA status" in flat(res)
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: 1\nrules:\n  - {name: x, type: risk, reason: Why not, trigger: {kind: nps}}\n")
    res = run(demo, "act", "--rules", str(bad))
    assert res.exit_code == 2 and str(bad) in res.output.replace("\n", "")
    assert "rules.0.trigger.nps.category" in flat(res)
    assert "Traceback" not in res.output
    ok = runner.invoke(app, ["validate", str(DEFAULT_RULES)])
    assert ok.exit_code == 0, ok.output


def test_backtest_reports_per_rule(demo, tmp_path):
    out = tmp_path / "bt.csv"
    res = run(demo, "act", "--backtest", "--as-of", END.isoformat(), "--months", "4", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "replayed 5 dates from 2026-07-01 to 2026-10-31" in flat(res)
    frame = pd.read_csv(out)
    assert list(frame["rule"])[-1] == "all risk rules"
    health = frame.set_index("rule").loc["critical_factor"]
    assert health["dates_replayed"] == 5 and health["ctas_per_owner_week"] >= 0
    assert frame.set_index("rule").loc["churn_risk", "dates_replayed"] == 0  # no predictions stored
