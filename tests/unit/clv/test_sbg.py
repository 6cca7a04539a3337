"""Shifted-beta-geometric: DERL and remaining lifetime against their definitions, recovery, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retain.clv import simulate as sim
from retain.clv.sbg import ShiftedBetaGeometricFitter, survivors_to_rows
from retain.errors import ModelError

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


@pytest.fixture(scope="module")
def regular():
    return ShiftedBetaGeometricFitter().fit_survivors(REGULAR)


def test_survivors_to_rows():
    rows, weights = survivors_to_rows([10, 6, 5])
    assert rows.to_dict("list") == {"periods": [1, 2, 2], "churned": [1.0, 1.0, 0.0]}
    assert weights.tolist() == [4.0, 1.0, 5.0]


def test_fitted_curve_tracks_the_series(regular):
    projected = 1000 * regular.survival_function(np.arange(8))
    np.testing.assert_allclose(projected, REGULAR, rtol=0.03)
    rates = regular.retention_rate(np.arange(1, 8))
    assert np.all(np.diff(rates) > 0)  # retention rises with tenure: the heterogeneity the model captures


def _derl_by_sum(model, d, renewals, periods=2_000):
    """Σ_{t>=n} S(t)/S(n-1) / (1+d)^(t-n), n = renewals + 1: the definition, summed directly."""
    n = renewals + 1
    t = np.arange(n, n + periods)
    return np.sum(model.survival_function(t) / model.survival_function(n - 1) / (1 + d) ** (t - n))


@pytest.mark.parametrize("renewals", [0, 1, 4, 10])
def test_derl_equals_its_definition(regular, renewals):
    closed = float(regular.derl(0.10, renewals))
    assert closed == pytest.approx(_derl_by_sum(regular, 0.10, renewals), rel=1e-9)
    assert float(regular.derl(0.10, renewals, horizon=5)) == pytest.approx(
        _derl_by_sum(regular, 0.10, renewals, periods=5), rel=1e-12)


def test_derl_grows_with_tenure_and_falls_with_discounting(regular):
    values = regular.derl(0.10, np.arange(6))
    assert np.all(np.diff(values) > 0)
    assert regular.derl(0.20, 2) < regular.derl(0.10, 2)


def test_expected_remaining_lifetime():
    model = ShiftedBetaGeometricFitter()
    model.params_ = pd.Series({"alpha": 2.5, "beta": 4.0})
    # alpha > 1: finite, beta'/(alpha - 1)
    assert float(model.expected_remaining_lifetime(3)) == pytest.approx(7.0 / 1.5)
    assert float(model.expected_remaining_lifetime(3)) == pytest.approx(
        _derl_by_sum(model, 0.0, 3, periods=1_000_000), rel=1e-7)
    model.params_ = pd.Series({"alpha": 0.7, "beta": 1.2})
    assert np.isinf(model.expected_remaining_lifetime(0))  # a heavy tail never leaves
    assert float(model.expected_remaining_lifetime(0, horizon=10)) == pytest.approx(
        _derl_by_sum(model, 0.0, 0, periods=10))


def test_recovers_simulated_parameters():
    survivors = sim.sbg_survivors(20_000, 0.7, 2.0, periods=8, seed=5)
    fitted = ShiftedBetaGeometricFitter().fit_survivors(survivors)
    for name, value in {"alpha": 0.7, "beta": 2.0}.items():
        assert abs(fitted.params_[name] - value) <= 4 * fitted.standard_errors_[name]


def test_errors():
    with pytest.raises(ModelError, match="must not increase"):
        ShiftedBetaGeometricFitter().fit_survivors([100, 120, 90])
    with pytest.raises(ModelError, match="at least two"):
        ShiftedBetaGeometricFitter().fit_survivors([100])
    with pytest.raises(ModelError, match="no churn"):
        ShiftedBetaGeometricFitter().fit(pd.DataFrame({"periods": [1.0, 2.0], "churned": [0.0, 0.0]}))
    with pytest.raises(ModelError, match="'churned'"):
        ShiftedBetaGeometricFitter().fit(pd.DataFrame({"periods": [1.0]}))
