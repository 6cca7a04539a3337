"""The fitted scorecard in the validation race: fitted on each fold's training rows only, scored on the same
out-of-sample rows as the models, shown beside them and never chosen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import model_frame

from retain.models import metrics
from retain.models.candidates import FittedScorecardCandidate, Kind, from_dict
from retain.models.frame import ModelFrame
from retain.models.selection import out_of_fold, select
from retain.models.validation import plan_folds

FEATURES = ("x1", "x2", "x3", "noise")


@pytest.fixture(scope="module")
def linear():
    mf = model_frame(n_accounts=500, n_dates=12, signal="linear", seed=4)
    return mf, select(mf, reps=100)


def test_fitted_scorecard_is_validated_on_the_same_rows_and_never_chosen(linear):
    mf, sel = linear
    table = sel.table.set_index("model")
    assert Kind.FITTED_SCORECARD.value in table.index
    assert not table.loc[Kind.FITTED_SCORECARD.value, "chosen"]
    assert sel.oof[Kind.FITTED_SCORECARD.value].notna().all()
    # on a signal monotone in each feature, the banded scorecard ranks close to the logistic regression
    gap = table.loc["logistic regression", "auc"] - table.loc[Kind.FITTED_SCORECARD.value, "auc"]
    assert 0.0 <= gap < 0.05 and table.loc[Kind.FITTED_SCORECARD.value, "auc"] > 0.7
    assert f"auc {Kind.FITTED_SCORECARD.value}" in sel.per_date.columns


def test_no_leakage_test_labels_never_reach_the_fit(linear):
    """Flipping every label the folds score leaves the fitted scorecard's out-of-sample scores unchanged;
    flipping the training labels of the same folds changes them (so this test can fail)."""
    mf, sel = linear
    kinds = (Kind.FITTED_SCORECARD,)
    frame = mf.labelled().frame
    plan = plan_folds(mf)
    test = plan.test_rows
    train_only = np.setdiff1d(np.concatenate([f.train for f in plan.folds]), test)
    assert len(train_only), "some rows only ever train"

    def flipped(rows: np.ndarray) -> ModelFrame:
        f = frame.copy()
        col = f.columns.get_loc(mf.label)
        f.iloc[rows, col] = 1.0 - f.iloc[rows, col]
        return ModelFrame(f, mf.features, mf.label, mf.horizon_days, mf.source, mf.categorical)

    base = out_of_fold(mf.labelled(), plan, kinds)[Kind.FITTED_SCORECARD.value].to_numpy()
    same = out_of_fold(flipped(test), plan, kinds)[Kind.FITTED_SCORECARD.value].to_numpy()
    np.testing.assert_array_equal(base, same)
    moved = out_of_fold(flipped(train_only), plan, kinds)[Kind.FITTED_SCORECARD.value].to_numpy()
    assert not np.allclose(base, moved)


def test_each_fold_trains_only_before_its_test_dates_minus_the_horizon(linear):
    mf, sel = linear
    frame = mf.labelled().frame
    for fold in sel.plan.folds:
        latest_train = pd.to_datetime(frame.iloc[fold.train]["as_of"]).max()
        first_test = pd.to_datetime(frame.iloc[fold.test]["as_of"]).min()
        assert (first_test - latest_train).days >= mf.horizon_days


def test_points_are_monotone_and_the_fit_round_trips():
    mf = model_frame(n_accounts=400, n_dates=6, signal="linear", seed=5, unknown_tail=False)
    frame = mf.frame
    y = frame["churned"].to_numpy()
    model = FittedScorecardCandidate(FEATURES, ("plan",)).fit(frame, y)
    assert "noise" not in model.kept_ or model.weights_[model.kept_.index("noise")] < min(model.weights_[:2])
    grid = pd.DataFrame({"x1": np.linspace(-3, 3, 50), "x2": 0.0, "x3": 0.0, "noise": 0.0, "plan": "pro"})
    risk = model.raw_score(grid)
    assert np.all(np.diff(risk) >= -1e-12) and risk[-1] > risk[0]  # x1 raises churn: risk never falls with it
    total = model.total(grid)
    assert ((total >= 0) & (total <= 100)).all()
    again = from_dict(model.to_dict())
    np.testing.assert_allclose(again.raw_score(frame), model.raw_score(frame))
    contrib = model.contributions(frame.head(50))
    assert list(contrib.columns) == [*FEATURES, "plan"] and np.isfinite(contrib.to_numpy()).all()
    assert metrics.auc(y, model.raw_score(frame)) > 0.7
