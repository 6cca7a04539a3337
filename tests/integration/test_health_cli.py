"""The health commands through the CLI runner, on the tiny hand-made tables in a DuckDB file."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.warehouse import Warehouse

runner = CliRunner()
HERE = Path(__file__).resolve().parent


def _health_data():
    spec = importlib.util.spec_from_file_location("health_data_cli", HERE.parent / "unit" / "health" / "health_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("health") / "w.duckdb"
    wh = Warehouse.open(path)
    _health_data().fill_tiny(wh)
    wh.con.disconnect()
    return str(path)


def run(db: str, *args: str):
    return runner.invoke(app, ["--db", db, *args])


def test_validate_default_and_bad_file(tmp_path):
    ok = runner.invoke(app, ["validate"])
    assert ok.exit_code == 0, ok.output
    assert "1 file(s) valid" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\ncomponents:\n  - name: c\n    weight: -1\n    measures:\n"
                   "      - {name: m, measure: tickts, scoring: {kind: linear, low: 0, high: 1}}\n")
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 2
    assert "tickts" in res.output and "did you mean 'tickets'?" in res.output and "weight is negative" in res.output


def test_score_stores_and_exports(db, tmp_path):
    out = tmp_path / "scores.csv"
    res = run(db, "score", "--as-of", "2024-06-30", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "riskiest" in res.output and "Grade distribution" in res.output
    frame = pd.read_csv(out)
    assert list(frame["account_id"]) == ["B", "C", "A"] and frame.loc[0, "grade"] == "red"
    wh = Warehouse.open(db)
    stored = wh.execute(wh.result("health_scores", "2024-06-30"))
    wh.con.disconnect()
    assert len(stored) == 3


def test_score_sql_shows_the_query(db):
    res = run(db, "score", "--as-of", "2024-06-30", "--sql")
    assert res.exit_code == 0, res.output
    assert "SELECT" in res.output and "usage" in res.output


def test_explain_shows_change_and_what_to_improve(db, tmp_path):
    out = tmp_path / "m.parquet"
    res = run(db, "explain", "B", "--as-of", "2024-06-30", "--since", "2024-05-31", "--out", str(out))
    assert res.exit_code == 0, res.output
    for text in ("critical", "invoice_60_days_overdue", "Why it changed", "What to improve", "lifts the total"):
        assert text in res.output
    assert {"component", "measure", "change"} <= set(pd.read_parquet(out).columns)


def test_explain_unknown_account_is_a_message_not_a_traceback(db):
    res = run(db, "explain", "NOPE", "--as-of", "2024-06-30")
    assert res.exit_code == 7 and "NOPE" in res.output


def test_backfill_then_books(db):
    res = run(db, "backfill", "--start", "2024-06-20", "--end", "2024-06-30", "--freq", "W")
    assert res.exit_code == 0, res.output
    assert "2024-06-30" in res.output
    res = run(db, "books", "--as-of", "2024-06-30")
    assert res.exit_code == 0, res.output
    assert "csm1" in res.output


def test_main_job_prints_the_riskiest(db):
    from retain.cli.common import console
    from retain.cli.job import print_section

    wh = Warehouse.open(db)
    with console.capture() as cap:
        print_section(wh, dt.date(2024, 6, 30), "health")
    wh.con.disconnect()
    text = cap.get()
    assert "Customer health" in text and "riskiest" in text
    assert text.index(" B ") < text.index(" A ")  # riskiest first
    assert "invoice 60+" in text
