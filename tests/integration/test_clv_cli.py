"""`retain clv` through the CLI runner: per-account CLV stored per as_of, groupings, exports, plot, CDNOW."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.warehouse import Warehouse

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "clv"))
from clv_data import AS_OF, load_book  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("clv") / "retain.duckdb"
    wh = Warehouse.open(path)
    load_book(wh, n_per_segment=150)
    wh.con.disconnect()
    return str(path)


def test_clv_stores_results_and_exports(db, tmp_path):
    out, plot = tmp_path / "clv.csv", tmp_path / "clv.png"
    result = runner.invoke(app, ["--db", db, "clv", "--as-of", AS_OF.isoformat(), "--by", "channel",
                                 "--out", str(out), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "Top accounts by CLV" in result.output and "CLV by channel" in result.output
    assert "sbg:smb" in result.output  # the parameter table
    exported = pd.read_csv(out)
    assert {"account_id", "name", "clv", "p_alive", "method"} <= set(exported.columns)
    assert plot.stat().st_size > 1000
    wh = Warehouse.open(db)
    stored = wh.execute(wh.result("clv", AS_OF))
    assert list(stored.columns) == ["account_id", "clv", "expected_purchases", "p_alive", "expected_spend", "method",
                                    "as_of"]
    assert len(stored) == len(exported) and stored["clv"].sum() == pytest.approx(exported["clv"].sum())
    wh.con.disconnect()


def test_clv_simple_by_cohort(db):
    result = runner.invoke(app, ["--db", db, "clv", "--as-of", AS_OF.isoformat(), "--model", "simple",
                                 "--by", "cohort", "--horizon-months", "24"])
    assert result.exit_code == 0, result.output
    assert "CLV by cohort" in result.output


def test_clv_on_an_empty_warehouse_is_a_message_not_a_traceback(tmp_path):
    empty = str(tmp_path / "empty.duckdb")
    assert runner.invoke(app, ["--db", empty, "init"]).exit_code == 0  # a missing file: see test_cli_input
    result = runner.invoke(app, ["--db", empty, "clv", "--as-of", "2024-01-01"])
    assert result.exit_code == 6
    assert "nothing to value" in result.output and "Traceback" not in result.output


def test_clv_bad_option(db):
    result = runner.invoke(app, ["--db", db, "clv", "--model", "magic"])
    assert result.exit_code == 2


def test_clv_cdnow_example():
    result = runner.invoke(app, ["clv", "cdnow"])
    assert result.exit_code == 0, result.output
    assert "Ours vs the published estimates" in result.output and "Holdout" in result.output
    assert "-9,582.4" in result.output and "-9,595.0" in result.output


def test_main_job_section(db, capsys):
    from retain.cli.job import print_section

    wh = Warehouse.open(db)
    print_section(wh, AS_OF, "value")
    wh.con.disconnect()
    printed = capsys.readouterr().out
    assert "Top accounts by CLV" in printed and "value at risk" in printed
