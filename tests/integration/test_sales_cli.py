"""The sales side on the demo company: the main-job section and `retain goals|deals|forecast|winloss|sales`."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.results import spec
from retain.warehouse import Warehouse

runner = CliRunner()
END = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def db(demo_file, tmp_path_factory) -> str:
    """The small demo (250 accounts, two years, seed 7) in its own file, a copy of the session's: these commands
    store results."""
    return str(demo_file.copy_to(tmp_path_factory.mktemp("sales_demo")))


@pytest.fixture(scope="module")
def section(db):
    from retain.jobs.sales import sales_section

    wh = Warehouse.open(db)
    result = sales_section(wh, END)
    wh.con.disconnect()
    return result


def test_the_seed_goal_is_shipped_and_on_its_way(section):
    goals = section.product_goals.set_index("goal_id")
    units = goals.loc["copilot_units_fy2026"]
    assert units["target"] == 1000 and 0.5 < units["attainment"] < 1.0  # 9 of 12 months elapsed
    assert units["projected_low"] < units["projected"] < units["projected_high"]
    share = goals.loc["copilot_add_on_share_fy2026"]
    assert share["target"] == pytest.approx(0.7) and 0.5 < share["actual"] < 1.0


def test_the_model_beats_the_crm_probability_and_the_stage_alone(section):
    check = section.model_check.set_index("method")
    assert check.loc["model", "auc_low"] > check.loc["crm_probability", "auc_high"]
    assert check.loc["model", "auc_low"] > check.loc["stage_only", "auc_high"]
    assert check.loc["model", "brier"] < min(check.loc["crm_probability", "brier"], check.loc["stage_only", "brier"])
    assert section.backtest_error["model"] < section.backtest_error["crm"]


def test_below_benchmark_deals_have_reasons_and_the_result_is_stored(section, db):
    below = section.below
    assert len(below) and (below["p_win"] < below["stage_benchmark"] - 0.10).all()
    assert below["reasons"].str.len().gt(0).all()
    wh = Warehouse.open(db)
    stored = wh.execute(wh.result("opportunity_scores", END))
    assert list(stored.columns) == [*spec("opportunity_scores").names, "as_of"]
    assert len(stored) == section.open_deals and stored["below_benchmark"].sum() == len(below)
    for name in ("sales_goals", "sales_team_goals", "sales_forecast", "sales_backtest", "sales_model_check",
                 "win_loss", "sales_capacity", "sales_bookings", "sales_deals"):
        assert wh.execute(wh.result(name, END).count()) > 0, name
    wh.con.disconnect()


def test_forecast_sums_the_scored_deals(section, db):
    wh = Warehouse.open(db)
    scores = wh.execute(wh.result("opportunity_scores", END))
    wh.con.disconnect()
    company = section.forecast[section.forecast["team"] == "all"]
    assert company["expected"].sum() == pytest.approx((scores["p_win"] * scores["amount"]).sum())
    assert company["open_deals"].sum() == len(scores)
    assert (company["expected_low"] <= company["expected"]).all()


def test_render_section_prints_goals_deals_and_the_backtest(section):
    from retain.cli.common import console
    from retain.cli.sales_cmds import render_section

    with console.capture() as out:
        render_section(section)
    text = out.get()
    assert "1,000 units of Retain Copilot" in text and "below benchmark" in text
    assert "mean absolute error: model" in text


def test_cli_commands(db, tmp_path, section):
    day = ["--as-of", END.isoformat()]
    r = runner.invoke(app, ["--db", db, "goals", *day])
    assert r.exit_code == 0, r.output
    out = tmp_path / "deals.csv"
    r = runner.invoke(app, ["--db", db, "deals", *day, "--below-benchmark", "--out", str(out)])
    assert r.exit_code == 0, r.output
    deals = pd.read_csv(out)
    assert len(deals) and deals["below_benchmark"].all()
    r = runner.invoke(app, ["--db", db, "deals", *day, "--warnings", "--out", str(out)])
    assert r.exit_code == 0 and (pd.read_csv(out)["warning_count"] > 0).all()
    r = runner.invoke(app, ["--db", db, "forecast", *day])
    assert r.exit_code == 0 and "Forecast as of 2026-10-31" in r.output
    report = tmp_path / "winloss.csv"
    r = runner.invoke(app, ["--db", db, "winloss", *day, "--by", "competitor", "--out", str(report)])
    assert r.exit_code == 0, r.output
    assert {"segment", "rep", "renewal", "churn", "attribute"} <= set(pd.read_csv(report)["dimension"])
    r = runner.invoke(app, ["--db", db, "winloss", *day, "--by", "colour"])
    assert r.exit_code != 0 and "no such win/loss dimension" in r.output


def test_a_bad_goals_file_is_a_config_error(db, tmp_path):
    bad = tmp_path / "goals.yaml"
    bad.write_text("version: 1\ngoals:\n  - goal_id: g\n    metric: revenue\n", encoding="utf-8")
    r = runner.invoke(app, ["--db", db, "goals", "--goals", str(bad)])
    assert r.exit_code == 2 and "goals.0.metric" in r.output
