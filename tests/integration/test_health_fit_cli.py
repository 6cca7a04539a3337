"""``retain health fit`` through the CLI runner on the synthetic events-only company (a DuckDB file)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.warehouse import Warehouse

runner = CliRunner()
HERE = Path(__file__).resolve().parent


def _synth():
    spec = importlib.util.spec_from_file_location("health_synth_cli", HERE.parent / "unit" / "health" /
                                                  "health_synth.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _db(tmp_path_factory, name: str, accounts: int) -> str:
    path = tmp_path_factory.mktemp("health_fit") / f"{name}.duckdb"
    wh = Warehouse.open(path)
    _synth().build(wh, accounts=accounts, seed=11)
    wh.con.disconnect()
    return str(path)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    return _db(tmp_path_factory, "synth", 250)


def test_fit_writes_a_valid_scorecard_that_scores_with_probabilities(db, tmp_path):
    out = tmp_path / "mine.yaml"
    res = runner.invoke(app, ["--db", db, "health", "fit", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "out-of-sample" in res.output and "plain logistic regression" in res.output
    assert "probability of churn within 90 days" in res.output
    text = out.read_text()
    assert text.startswith("# Health scorecard fitted by `retain health fit`") and "calibration:" in text
    ok = runner.invoke(app, ["validate", str(out)])
    assert ok.exit_code == 0, ok.output
    scored = runner.invoke(app, ["--db", db, "score", "--scorecard", str(out), "--top", "3"])
    assert scored.exit_code == 0, scored.output
    assert "churn_pct" in scored.output


def test_bad_horizon_is_one_line_and_exit_2(db):
    res = runner.invoke(app, ["--db", db, "health", "fit", "--horizon", "45"])
    assert res.exit_code == 2
    assert "45 is not one of 30, 60, 90, 180, 365" in res.output and "Traceback" not in res.output


def test_too_few_churned_accounts_says_what_is_missing(tmp_path_factory, tmp_path):
    small = _db(tmp_path_factory, "small", 20)
    res = runner.invoke(app, ["--db", small, "health", "fit", "--out", str(tmp_path / "x.yaml")])
    assert res.exit_code == 6, res.output
    assert "a fitted scorecard needs 20" in res.output and "fix:" in res.output
    assert not (tmp_path / "x.yaml").exists()
