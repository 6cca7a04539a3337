"""``retain features``: the summary, the exported table, the SQL, and one-line errors (CLI runner, DuckDB file)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.warehouse import Warehouse

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "models"))

from synthetic import build_company  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> tuple[str, dt.date]:
    path = tmp_path_factory.mktemp("features") / "co.duckdb"
    wh = Warehouse.open(path)
    end = build_company(wh, n=60, days=500, seed=5)
    wh.con.disconnect()
    return str(path), end


def test_summary_and_exported_table(company, tmp_path):
    db, end = company
    day = end - dt.timedelta(days=30)
    out = tmp_path / "features.parquet"
    result = runner.invoke(app, ["--db", db, "features", "--as-of", day.isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"as of {day}" in result.output
    for name in ("events_30d", "tenure_days", "nps_last"):
        assert name in result.output
    frame = pd.read_parquet(out)
    assert set(frame["as_of"].astype(str)) == {day.isoformat()}
    assert frame["account_id"].is_unique and len(frame) > 10
    assert {"events_30d", "days_since_usage", "tickets_90d", "tenure_days"} <= set(frame.columns)
    assert (frame["events_30d"] >= 0).all() and frame["tenure_days"].notna().all()


def test_sql_prints_every_family_query(company, tmp_path):
    db, end = company
    result = runner.invoke(app, ["--db", db, "features", "--sql", "--as-of", end.isoformat()])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith(f"-- as of {end}")
    for family in ("tenure", "contract", "usage", "support", "surveys"):
        assert f"-- family: {family}\n" in text
    assert '"usage"' in text and text.count("SELECT") > 5
    out = tmp_path / "features.sql"
    result = runner.invoke(app, ["--db", db, "features", "--sql", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "-- family: usage" in out.read_text()


@pytest.mark.parametrize("args, says", [
    (["--out", "f.json"], "cannot hold the feature table"),
    (["--sql", "--out", "f.csv"], "cannot hold the SQL"),
    (["--as-of", "2024-02-30"], "is not a date"),
])
def test_bad_options_are_one_line_errors(company, args, says):
    db, _ = company
    result = runner.invoke(app, ["--db", db, "features", *args])
    assert result.exit_code == 2
    assert says in result.output and "Traceback" not in result.output
    assert result.output.count("error:") == 1


def test_missing_warehouse_is_refused(tmp_path):
    result = runner.invoke(app, ["--db", str(tmp_path / "none.duckdb"), "features"])
    assert result.exit_code == 5 and "no warehouse" in result.output
