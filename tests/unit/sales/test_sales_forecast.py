"""Forecast sums, the simulation interval and the backtest, by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from retain.sales.forecast import backtest, forecast, mean_abs_error, simulate
from retain.sales.scores import Validation

DAY = dt.date(2026, 5, 15)


def scores() -> pd.DataFrame:
    return pd.DataFrame({
        "opportunity_id": ["a", "b", "c"], "owner_id": ["r1", "r2", "r3"], "amount": [1000.0, 2000.0, 500.0],
        "p_win": [0.5, 0.25, 0.9], "crm_probability": [0.6, 0.5, None],
        "forecast_category": ["best_case", "best_case", None],
        "close_on": [dt.date(2026, 5, 1), dt.date(2026, 6, 30), dt.date(2026, 8, 1)]})


def test_expected_bookings_categories_and_slipped_deals():
    teams = {"r1": "East", "r2": "East", "r3": "West"}
    won = pd.DataFrame({"owner_id": ["r1"], "amount": [700.0], "closed_on": [dt.date(2026, 4, 2)]})
    goals = pd.DataFrame({"metric": ["new_business_arr"], "period_start_on": [dt.date(2026, 4, 1)],
                          "member_id": ["r1"], "team": [None], "target": [2700.0]})
    f = forecast(scores(), DAY, teams, goals, won).set_index(["period", "team"])
    q2 = f.loc[("2026-Q2", "all")]
    assert q2["open_deals"] == 2 and q2["pipeline"] == 3000.0
    assert q2["expected"] == pytest.approx(0.5 * 1000 + 0.25 * 2000)
    assert q2["crm_expected"] == pytest.approx(0.6 * 1000 + 0.5 * 2000)
    assert q2["best_case"] == 3000.0 and q2["slipped_deals"] == 1 and q2["slipped_amount"] == 1000.0
    assert q2["won_to_date"] == 700.0 and q2["goal"] == 2700.0
    assert q2["coverage"] == pytest.approx(3000 / 2000)
    assert f.loc[("2026-Q3", "West"), "expected"] == pytest.approx(450.0)
    assert np.isnan(f.loc[("2026-Q3", "West"), "coverage"])


def test_simulation_interval_brackets_the_mean_and_matches_the_normal_approximation():
    rng = np.random.default_rng(1)
    p, amount = rng.uniform(0.1, 0.9, 3000), rng.uniform(100, 1000, 3000)
    low, high = simulate(p, amount, seed=3)
    mean, sd = np.sum(p * amount), np.sqrt(np.sum(p * (1 - p) * amount**2))
    assert low < mean < high
    assert low == pytest.approx(mean - 1.645 * sd, rel=0.01) and high == pytest.approx(mean + 1.645 * sd, rel=0.01)
    assert simulate(np.array([1.0, 0.0]), np.array([10.0, 20.0])) == (10.0, 10.0)


def test_backtest_sums_each_quarter_start():
    q1, q2 = dt.date(2026, 1, 1), dt.date(2026, 4, 1)
    scored = pd.DataFrame({
        "as_of": [q1, q1, dt.date(2026, 2, 1), q2], "quarter": [q1, q1, q1, q2],
        "opportunity_id": ["a", "b", "a", "c"], "amount": [100.0, 300.0, 100.0, 50.0], "won": [1, 0, 1, 1],
        "model": [0.8, 0.2, 0.9, 0.5], "crm_probability": [0.5, 0.5, 0.5, 0.1], "stage_only": [0.4, 0.4, 0.4, 0.4]})
    bt = backtest(Validation(scored, pd.DataFrame(), None, "")).set_index("period")
    assert bt.loc["2026-Q1", "open_deals"] == 2 and bt.loc["2026-Q1", "actual_won"] == 100.0
    assert bt.loc["2026-Q1", "model_forecast"] == pytest.approx(80 + 60)
    assert bt.loc["2026-Q1", "crm_error_pct"] == pytest.approx((200 - 100) / 100)
    assert bt.loc["2026-Q2", "model_error_pct"] == pytest.approx(-0.5)
    assert mean_abs_error(bt)["model"] == pytest.approx((0.4 + 0.5) / 2)


def test_the_interval_does_not_depend_on_the_order_the_engine_returned_the_deals():
    rng = np.random.default_rng(5)
    many = pd.DataFrame({"opportunity_id": [f"o{i:03d}" for i in range(60)], "owner_id": "r1",
                         "amount": rng.uniform(100, 5000, 60).round(), "p_win": rng.uniform(0.05, 0.95, 60),
                         "crm_probability": 0.5, "forecast_category": None, "close_on": dt.date(2026, 6, 30)})
    one = forecast(many, DAY, {"r1": "East"})
    other = forecast(many.sample(frac=1.0, random_state=1), DAY, {"r1": "East"})
    pd.testing.assert_frame_equal(one, other)
    assert (one["expected_low"] < one["expected"]).all()
