"""Model choice by validation: the same out-of-sample rows for every candidate, the simpler model when the
difference is uncertain, LightGBM when the signal is nonlinear, calibration on out-of-fold predictions, reasons."""

from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic import model_frame

from retain.errors import ModelError
from retain.models.candidates import HEALTH_COLUMN, Kind, LogisticCandidate
from retain.models.frame import ModelFrame
from retain.models.propensity import ChosenModel
from retain.models.selection import select
from retain.models.validation import Scheme


@pytest.fixture(scope="module")
def linear():
    mf = model_frame(n_accounts=600, n_dates=12, signal="linear", seed=0)
    return mf, select(mf, reps=200)


def test_linear_signal_chooses_logistic_within_its_interval(linear):
    mf, sel = linear
    assert sel.plan.scheme is Scheme.ROLLING_ORIGIN
    table = sel.table.set_index("model")
    assert list(table.index) == [Kind.LOGISTIC.value, Kind.FITTED_SCORECARD.value, Kind.LIGHTGBM.value]
    assert sel.chosen is Kind.LOGISTIC and table["chosen"].tolist() == [True, False, False]
    row = table.loc[Kind.LOGISTIC.value]
    assert row["auc_low"] < row["auc"] < row["auc_high"] and row["auc"] > 0.75
    assert row["lift_low"] < row["lift"] < row["lift_high"] and row["brier_low"] < row["brier"] < row["brier_high"]
    assert "logistic regression" in sel.why


def test_every_candidate_is_scored_on_the_same_rows(linear):
    mf, sel = linear
    test_dates = {d for f in sel.plan.folds for d in f.test_dates}
    assert set(sel.oof["as_of"]) == test_dates
    assert sel.oof[[k.value for k in (Kind.LOGISTIC, Kind.LIGHTGBM)]].notna().all().all()
    assert sel.per_date["rows"].sum() == len(sel.oof) and sel.per_date["positives"].sum() == sel.oof["y"].sum()


def test_nonlinear_signal_chooses_lightgbm():
    mf = model_frame(n_accounts=600, n_dates=12, signal="nonlinear", seed=1)
    sel = select(mf, reps=200)
    table = sel.table.set_index("model")
    assert sel.chosen is Kind.LIGHTGBM
    assert table.loc["LightGBM", "auc"] > table.loc["logistic regression", "auc_high"]
    assert "clearly above" in sel.why


def test_snapshot_frame_uses_grouped_kfold_and_still_chooses():
    mf = model_frame(n_accounts=800, n_dates=1, unknown_tail=False, seed=2)
    sel = select(mf, reps=100)
    assert sel.plan.scheme is Scheme.GROUPED_KFOLD and len(sel.oof) == 800
    assert sel.chosen is Kind.LOGISTIC


def test_scorecard_enters_the_race_when_health_totals_exist():
    mf = model_frame(n_accounts=600, n_dates=12, seed=3)
    frame = mf.frame.copy()
    frame[HEALTH_COLUMN] = np.clip(60 - 15 * frame["x1"] + 10 * frame["x2"], 0, 100)  # a decent hand score
    sel = select(ModelFrame(frame, mf.features, mf.label, mf.horizon_days, mf.source, mf.categorical), reps=100)
    assert sel.table["model"].tolist() == ["logistic regression", "scorecard", "fitted scorecard", "LightGBM"]
    assert sel.table.set_index("model").loc["scorecard", "auc"] > 0.7  # higher total = lower risk


def test_no_positives_refused_with_the_requirement_message():
    with pytest.raises(ModelError, match="needs >= 20 accounts with the outcome"):
        select(model_frame(signal="none"))


def test_chosen_model_calibrates_on_out_of_fold_predictions_and_explains(linear, tmp_path):
    mf, sel = linear
    model = ChosenModel.fit(mf, sel, outcome="churn")
    oof = sel.oof
    assert model.calibration_.rows_ == len(oof)
    latest = mf.frame[mf.frame["as_of"] == max(mf.frame["as_of"])].reset_index(drop=True)
    p = model.predict_proba(latest)
    assert ((p > 0) & (p < 1)).all()
    # calibrated on out-of-fold rows: the mean probability there matches the observed rate
    assert model.calibration_.predict(oof["logistic regression"]).mean() == pytest.approx(oof["y"].mean(), abs=0.01)
    # logistic contributions are coefficient x standardised value and add up (with the intercept) to the log-odds
    contrib = model.model.contributions(latest)
    assert isinstance(model.model, LogisticCandidate)
    logit = np.log(model.raw_score(latest) / (1 - model.raw_score(latest)))
    np.testing.assert_allclose(contrib.sum(axis=1) + model.model.intercept_, logit, rtol=1e-4, atol=1e-4)
    grouped = model.contributions(latest)
    assert set(grouped.columns) == {"usage", "support", "noise", "plan"}
    np.testing.assert_allclose(grouped["usage"], contrib["x1"] + contrib["x2"], rtol=1e-6)
    reasons = [json.loads(r) for r in model.reasons(latest.head(50))]
    for row in reasons:
        assert all(set(r) == {"feature", "phrase", "contribution", "direction"} for r in row)
        assert all((r["contribution"] > 0) == (r["direction"] == "raises") for r in row)
        assert all(r["phrase"] and "{" not in r["phrase"] for r in row)
    path = model.save(tmp_path / "churn.json")
    np.testing.assert_allclose(ChosenModel.load(path).predict_proba(latest), p, rtol=1e-5)
