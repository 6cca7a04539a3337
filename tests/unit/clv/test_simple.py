"""Simple CLV: the business formula, hand-checked, and its per-account inputs from the warehouse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clv_data import load

from retain.clv.simple import expected_lifetime_years, simple_clv, yearly_churn_rate, yearly_inputs
from retain.errors import ModelError


def test_undiscounted_is_frequency_times_spend_times_lifetime():
    # 4 purchases a year of 50 at 60% margin, 25% yearly churn: 120 a year for 4 years
    assert simple_clv(4, 50, 0.25, margin=0.6) == pytest.approx(120 * 4)
    assert expected_lifetime_years(0.25) == 4


def test_costs_discounting_and_horizon():
    value = 4 * 50 * 0.6 - 20  # 100 a year after costs
    keep = 0.75 / 1.1
    assert simple_clv(4, 50, 0.25, margin=0.6, costs=20, discount_rate=0.1) == pytest.approx(value / (1 - keep))
    two_years = simple_clv(4, 50, 0.25, margin=0.6, costs=20, discount_rate=0.1, horizon_years=2)
    assert two_years == pytest.approx(value * (1 + keep))
    assert simple_clv(1, 100, 0.0, horizon_years=3) == pytest.approx(300)
    np.testing.assert_allclose(simple_clv(np.array([1, 2]), np.array([10, 10]), 0.5), [20, 40])


def test_rejects_bad_rates():
    with pytest.raises(ModelError, match="churn_rate"):
        simple_clv(1, 1, 1.5)
    with pytest.raises(ModelError, match="discount_rate"):
        simple_clv(1, 1, 0.2, discount_rate=-0.1)


def test_yearly_inputs_and_churn_from_the_warehouse(wh):
    load(wh, "accounts", pd.DataFrame({"account_id": ["a", "b", "c"], "name": ["A", "B", "C"],
                                       "created_at": pd.to_datetime(["2022-01-01"] * 3).tz_localize("UTC")}))
    load(wh, "subscriptions", pd.DataFrame({
        "subscription_id": ["s1", "s2"], "account_id": ["a", "b"], "product_id": ["p", "p"],
        "started_on": pd.to_datetime(["2022-01-01", "2022-01-01"]).date, "mrr": [100.0, 50.0],
        "ended_on": [None, pd.Timestamp("2023-06-01").date()],
    }))
    load(wh, "transactions", pd.DataFrame({
        "transaction_id": ["t1", "t2", "t3"], "account_id": ["c", "c", "a"], "amount": [30.0, 10.0, 60.0],
        "occurred_at": pd.to_datetime(["2023-03-01", "2023-09-01", "2023-10-01"]).tz_localize("UTC"),
    }))
    got = wh.execute(yearly_inputs(wh, "2023-12-31")).set_index("account_id").sort_index()
    assert got.loc["a"].to_dict() == {"yearly_revenue": 1260.0, "purchase_frequency": 2.0, "average_spend": 630.0,
                                      "active": True, "tx_count": 1, "tx_revenue": 60.0}
    assert not got.loc["b", "active"]
    assert got.loc["c"].to_dict() == {"yearly_revenue": 40.0, "purchase_frequency": 2.0, "average_spend": 20.0,
                                      "active": True, "tx_count": 2, "tx_revenue": 40.0}
    # active a year earlier: a and b (c had not bought yet); b left
    assert float(wh.execute(yearly_churn_rate(wh, "2023-12-31"))) == pytest.approx(0.5)
