"""The prediction commands end to end on a small synthetic company (CLI runner, DuckDB file)."""

from __future__ import annotations

import json
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
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("models") / "co.duckdb"
    wh = Warehouse.open(path)
    build_company(wh, n=120, days=800, seed=3)
    wh.con.disconnect()
    return str(path)


def test_predict_without_models_is_a_clear_error(db, tmp_path):
    result = runner.invoke(app, ["--db", db, "predict", "--model-dir", str(tmp_path / "none")])
    assert result.exit_code == 6
    assert "no trained models" in result.output and "retain train" in result.output


def test_bad_horizon_and_frequency_are_one_line_errors(db):
    result = runner.invoke(app, ["--db", db, "backtest", "--horizon", "45"])
    assert result.exit_code == 2 and "'45' is not one of: 30, 60, 90, 180, 365" in result.output
    result = runner.invoke(app, ["--db", db, "train", "--frequency", "daily"])
    assert result.exit_code == 2 and "week, month" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_train_predict_store_and_insights(db, tmp_path):
    models = tmp_path / "m"
    result = runner.invoke(app, ["--db", db, "train", "--model-dir", str(models), "--horizon", "90"])
    assert result.exit_code == 0, result.output
    assert {"churn.json", "upsell.json"} <= {p.name for p in models.iterdir()}
    assert "churn within 90 days:" in result.output
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["--db", db, "predict", "--model-dir", str(models), "--out", str(out)])
    assert result.exit_code == 0, result.output
    wh = Warehouse.open(db)
    stored = wh.execute(wh.result("propensity"))
    assert {"account_id", "churn_probability", "upsell_probability", "reasons", "next_product",
            "adoption_tier", "as_of"} <= set(stored.columns)
    assert stored["churn_probability"].between(0, 1).all()
    assert all(isinstance(json.loads(r), list) for r in stored["reasons"])
    wh.con.disconnect()
    # A model file of another format is refused with a typed error (exit code of ModelError).
    payload = json.loads((models / "churn.json").read_text())
    payload["format"] = 2
    (models / "churn.json").write_text(json.dumps(payload))
    result = runner.invoke(app, ["--db", db, "predict", "--model-dir", str(models)])
    assert result.exit_code == 6 and "retain train" in result.output
    for cmd in (["survey-insight"], ["adoption"]):
        result = runner.invoke(app, ["--db", db, *cmd])
        assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_backtest_prints_every_test_date_and_the_comparison(db, tmp_path, monkeypatch):
    from retain.cli import common

    monkeypatch.setattr(common.console, "_width", 200)  # no terminal here: the tables unwrapped, whatever width
    # the console took when it was created
    out = tmp_path / "bt.csv"
    result = runner.invoke(app, ["--db", db, "backtest", "--horizon", "60", "--as-of", "2024-02-01",
                                 "--out", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out)
    assert summary["model"].tolist() == ["logistic regression", "scorecard", "fitted scorecard", "LightGBM"]
    assert summary["auc"].between(0, 1).all() and summary["chosen"].sum() == 1
    assert (summary["auc_low"] <= summary["auc"]).all() and (summary["auc"] <= summary["auc_high"]).all()
    assert "churn within 60 days" in result.output and "rolling origin" in result.output
    assert "AUC [95 % CI]" in result.output and "lift@10 % [CI]" in result.output and "<- chosen" in result.output
    assert "chosen:" in result.output
    # every test date is listed with its rows and positives
    dates = [line for line in result.output.splitlines() if line.startswith("│ 2023-")]
    assert len(dates) >= 2 and all(d.split("│")[2].strip().isdigit() for d in dates)
