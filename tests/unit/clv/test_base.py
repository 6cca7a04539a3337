"""The base fitter: unique rows, input errors naming the column, typed convergence error, summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import retain.errors
from retain.clv import BetaGeoFitter, ConvergenceError, GammaGammaFitter
from retain.clv.base import unique_rows
from retain.errors import ModelError


def test_unique_rows_counts_and_sums_weights():
    data = {"a": np.array([1.0, 2, 1, 3, 2, 1]), "b": np.array([0.0, 0, 0, 1, 0, 5])}
    rows, weights = unique_rows(data)
    got = sorted(zip(rows["a"], rows["b"], weights, strict=True))
    assert got == [(1.0, 0.0, 2.0), (1.0, 5.0, 1.0), (2.0, 0.0, 2.0), (3.0, 1.0, 1.0)]
    _, weighted = unique_rows(data, np.arange(6))
    assert weighted.sum() == 15


def test_missing_column_is_named():
    frame = pd.DataFrame({"frequency": [1, 2], "recency": [1.0, 2.0]})
    with pytest.raises(ModelError, match="'T'") as info:
        BetaGeoFitter().fit(frame)
    assert "rfm_summary" in info.value.hint


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"frequency": [1.0], "recency": [5.0], "T": [3.0]}, "recency must be between 0 and T"),
        ({"frequency": [0.0], "recency": [1.0], "T": [3.0]}, "frequency 0 must have recency 0"),
        ({"frequency": [1.5], "recency": [1.0], "T": [3.0]}, "whole number"),
        ({"frequency": [np.nan], "recency": [1.0], "T": [3.0]}, "missing or infinite"),
        ({"frequency": [], "recency": [], "T": []}, "no rows"),
    ],
)
def test_unusable_input(frame, message):
    with pytest.raises(ModelError, match=message):
        BetaGeoFitter().fit(pd.DataFrame(frame))


def test_convergence_error_is_typed_and_says_what_to_try(cdnow):
    with pytest.raises(ConvergenceError) as info:
        BetaGeoFitter().fit(cdnow, maxiter=2)
    assert isinstance(info.value, retain.errors.ConvergenceError)
    assert "penalizer_coef" in info.value.hint


def test_fit_returns_self_with_summary(cdnow):
    model = BetaGeoFitter()
    assert model.fit(cdnow) is model
    assert list(model.summary.columns) == ["coef", "se", "lower 95%", "upper 95%"]
    assert list(model.summary.index) == ["r", "alpha", "a", "b"]
    lower, upper = model.summary["lower 95%"], model.summary["upper 95%"]
    assert ((lower < model.params_) & (model.params_ < upper)).all()
    aic = 8 - 2 * model.log_likelihood_
    assert abs(model.AIC_ - aic) < 1e-9
    assert "r=" in repr(model)


def test_not_fitted_is_a_model_error():
    with pytest.raises(ModelError, match="not fitted"):
        GammaGammaFitter().summary  # noqa: B018


def test_weights_equal_repeated_rows(cdnow):
    small = cdnow.head(400)
    doubled = BetaGeoFitter().fit(pd.concat([small, small]))
    weighted = BetaGeoFitter().fit(small, weights=np.full(len(small), 2.0))
    np.testing.assert_allclose(doubled.params_, weighted.params_, rtol=1e-6)
    assert doubled.log_likelihood_ == pytest.approx(weighted.log_likelihood_)


def test_large_data_path_matches_the_direct_fit(cdnow):
    class Subsampling(BetaGeoFitter):
        _warm_start_rows = 300  # CDNOW has ~1,000 unique rows: take the subsample + Newton path

    direct, staged = BetaGeoFitter().fit(cdnow), Subsampling().fit(cdnow)
    np.testing.assert_allclose(staged.params_, direct.params_, rtol=1e-6)
    np.testing.assert_allclose(staged.standard_errors_, direct.standard_errors_, rtol=1e-3)
