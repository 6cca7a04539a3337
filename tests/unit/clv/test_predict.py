"""Per-customer predictions, discounted CLV (checked against lifetimes) and the holdout check."""

from __future__ import annotations

import numpy as np
import pytest

from retain.clv import BetaGeoFitter, GammaGammaFitter
from retain.clv.holdout import holdout_check
from retain.clv.predict import DAYS_PER_MONTH, customer_predictions, discounted_clv, expected_spend, monthly_rate
from retain.errors import ModelError


@pytest.fixture(scope="module")
def fitted(cdnow):
    return BetaGeoFitter().fit(cdnow), GammaGammaFitter().fit(cdnow[cdnow["frequency"] > 0])


def test_customer_predictions(cdnow, fitted):
    model, spend_model = fitted
    out = customer_predictions(model, cdnow, spend_model=spend_model, horizon_months=12, discount_rate=0.0)
    assert list(out.columns) == ["customer_id", "expected_purchases", "p_alive", "expected_spend", "clv"]
    assert out["p_alive"].between(0, 1).all() and (out["expected_purchases"] >= 0).all()
    # undiscounted, margin 1: CLV = expected spend × expected purchases in the horizon
    np.testing.assert_allclose(out["clv"], out["expected_spend"] * out["expected_purchases"], rtol=1e-9)
    discounted = customer_predictions(model, cdnow, spend_model=spend_model, horizon_months=12, discount_rate=0.2)
    assert (discounted["clv"] <= out["clv"] + 1e-12).all() and discounted["clv"].sum() < out["clv"].sum()


def test_discounted_clv_equals_lifetimes(cdnow, fitted):
    utils = pytest.importorskip("lifetimes.utils")
    lifetimes = pytest.importorskip("lifetimes")
    model, spend_model = fitted
    theirs_model = lifetimes.BetaGeoFitter()
    theirs_model.params_ = model.params_.copy()
    theirs_model.predict = theirs_model.conditional_expected_number_of_purchases_up_to_time
    spend = expected_spend(cdnow, spend_model)
    monthly = 0.01
    # lifetimes steps months of 4.345 weeks; use the same month length here
    ours = discounted_clv(model, cdnow, spend, horizon_months=12, discount_rate=(1 + monthly) ** 12 - 1,
                          margin=1.0, unit_days=DAYS_PER_MONTH / 4.345)
    theirs = utils._customer_lifetime_value(theirs_model, cdnow["frequency"], cdnow["recency"], cdnow["T"],
                                            spend, time=12, discount_rate=monthly, freq="W")
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-8)


def test_spend_without_a_spend_model_is_the_customers_mean(cdnow):
    spend = expected_spend(cdnow, None)
    repeat = cdnow["frequency"].to_numpy() > 0
    np.testing.assert_array_equal(spend[repeat], cdnow["monetary_value"].to_numpy()[repeat])
    assert np.all(spend[~repeat] == cdnow.loc[repeat, "monetary_value"].mean())


def test_monthly_rate():
    assert (1 + monthly_rate(0.1)) ** 12 == pytest.approx(1.1)
    with pytest.raises(ModelError):
        monthly_rate(-1.5)


def test_holdout_check(cdnow, fitted):
    table = holdout_check(fitted[0], cdnow)
    assert table["frequency"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+", "all"]
    assert table["customers"].iloc[:-1].sum() == table["customers"].iloc[-1] == 2357
    all_row = table.iloc[-1]
    assert all_row["actual"] == pytest.approx(cdnow["frequency_holdout"].mean())
    # BG/NBD predicts the CDNOW holdout within about 15% overall (FHL 2005, figure 3)
    assert all_row["predicted"] == pytest.approx(all_row["actual"], rel=0.15)
    assert table["predicted"].iloc[:-1].is_monotonic_increasing


def test_holdout_check_needs_holdout_columns(cdnow, fitted):
    with pytest.raises(ModelError, match="frequency_holdout"):
        holdout_check(fitted[0], cdnow.drop(columns="frequency_holdout"))
