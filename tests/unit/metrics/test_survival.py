import numpy as np
import pandas as pd
import pytest
from metrics_book import AS_OF
from scipy.stats import norm

from retain.metrics.survival import kaplan_meier, lifetimes, median_lifetime, survival, survival_at


def test_lifetimes_use_first_spell_and_censor_at_as_of(saas):
    t = saas.execute(lifetimes(saas, AS_OF)).set_index("account_id")
    assert t.loc["c", "duration_days"] == 184 and t.loc["c", "event"] == 1  # first spell only
    assert t.loc["a", "duration_days"] == 547 and t.loc["a", "event"] == 0  # 2023-01-01 .. end of 2024-06-30


def test_kaplan_meier_by_hand(saas):
    curve = survival(saas, AS_OF).set_index("time_days")
    # deaths at 51 (n=6), 184 (n=4), 259 (n=3), 336 (n=2); censored at 151 and 547
    expected = {0: 1.0, 51: 5 / 6, 151: 5 / 6, 184: 5 / 6 * 3 / 4, 259: 5 / 6 * 3 / 4 * 2 / 3,
                336: 5 / 6 * 3 / 4 * 2 / 3 * 1 / 2, 547: 5 / 6 * 3 / 4 * 2 / 3 * 1 / 2}
    assert curve.survival.to_dict() == pytest.approx(expected)
    assert list(curve.at_risk) == [6, 6, 5, 4, 3, 2, 1]
    # exponential Greenwood band at t=51, as lifelines computes it
    s, var = 5 / 6, 1 / (6 * 5)
    sd = np.sqrt(var) / abs(np.log(s))
    z = norm.ppf(0.975)
    assert curve.loc[51, "ci_lower"] == pytest.approx(np.exp(-np.exp(np.log(-np.log(s)) + z * sd)))
    assert curve.loc[51, "ci_upper"] == pytest.approx(np.exp(-np.exp(np.log(-np.log(s)) - z * sd)))
    assert (curve.ci_lower <= curve.survival).all() and (curve.survival <= curve.ci_upper).all()


def test_median_and_fixed_ages(saas):
    curve = survival(saas, AS_OF)
    med = median_lifetime(curve).iloc[0]
    assert med.median_days == 259 and med.accounts == 6
    at = survival_at(curve, (6, 12, 24)).set_index("months")
    assert at.loc[6, "survival"] == pytest.approx(5 / 6)
    assert np.isnan(at.loc[24, "survival"])  # beyond the longest observed lifetime


def test_by_segment_and_ties():
    summary = pd.DataFrame({
        "dimension": "segment", "dimension_value": ["x", "x", "x", "y"],
        "duration_days": [10, 10, 20, 5], "event": [1, 0, 1, 1], "accounts": [2, 1, 1, 3],
    })
    curve = kaplan_meier(summary).set_index(["dimension_value", "time_days"])
    assert curve.loc[("x", 10), "survival"] == pytest.approx(0.5)  # 2 of 4 die at 10, one censored there
    assert curve.loc[("x", 20), "survival"] == 0.0
    assert curve.loc[("y", 5), "survival"] == 0.0
    assert median_lifetime(curve.reset_index()).set_index("dimension_value").loc["x", "median_days"] == 10
