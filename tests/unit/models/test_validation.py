"""Validation fits the data at hand: rolling origin with a gap of one horizon, grouped k-fold for a snapshot,
requirements stated up front, account-bootstrap intervals and tie-fair lift."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from synthetic import model_frame

from retain.models import metrics
from retain.models.frame import ModelFrame
from retain.models.validation import MIN_POSITIVE_ACCOUNTS, Scheme, per_date, plan_folds, requirements


def test_rolling_origin_never_trains_on_a_label_window_reaching_the_test_date():
    mf = model_frame(n_accounts=300, n_dates=18, seed=1)
    plan = plan_folds(mf, max_folds=3)
    frame = mf.labelled().frame
    assert plan.scheme is Scheme.ROLLING_ORIGIN and len(plan.folds) == 3
    gap = dt.timedelta(days=mf.horizon_days)
    for fold in plan.folds:
        train_days = set(frame["as_of"].iloc[fold.train])
        test_days = set(frame["as_of"].iloc[fold.test])
        assert test_days == set(fold.test_dates)
        assert max(train_days) + gap <= min(test_days)  # every training label window ends by the test date
        # ... and every row allowed by the gap is used: all the history before, not a few early dates
        assert train_days == {d for d in frame["as_of"] if d + gap <= min(test_days)}


def test_one_fit_per_test_date_by_default_and_test_dates_are_the_later_half():
    mf = model_frame(n_accounts=300, n_dates=18, seed=1)
    plan = plan_folds(mf)
    tests = [d for f in plan.folds for d in f.test_dates]
    assert len(plan.folds) == len(tests) and tests == sorted(tests)
    labelled = sorted(mf.labelled().frame["as_of"].unique())
    assert tests[-1] == labelled[-1]  # the latest labelled date is always tested
    table = per_date(mf, plan)
    assert table["test_date"].tolist() == tests and (table["rows"] == 300).all()
    assert (table["positives"] > 0).all()


def test_single_snapshot_uses_grouped_kfold_keeping_accounts_together():
    mf = model_frame(n_accounts=400, n_dates=1, unknown_tail=False, seed=2)
    plan = plan_folds(mf)
    assert plan.scheme is Scheme.GROUPED_KFOLD and "snapshot" in plan.note
    acc = mf.labelled().frame["account_id"].to_numpy()
    seen = np.concatenate([f.test for f in plan.folds])
    assert sorted(seen) == list(range(len(acc)))  # every row scored once
    for fold in plan.folds:
        assert not set(acc[fold.train]) & set(acc[fold.test])


def test_grouped_kfold_on_several_dates_keeps_an_account_in_one_fold():
    mf = model_frame(n_accounts=300, n_dates=5, seed=3)  # 2 labelled dates, 30 days apart: no room for a gap
    plan = plan_folds(mf)
    assert plan.scheme is Scheme.GROUPED_KFOLD and "time order not kept" in plan.note
    acc = mf.labelled().frame["account_id"].to_numpy()
    for fold in plan.folds:
        assert not set(acc[fold.train]) & set(acc[fold.test])


def test_no_positives_is_refused_with_a_clear_message():
    verdict = requirements(model_frame(signal="none"))
    assert not verdict.ok and verdict.positive_accounts == 0
    assert verdict.message.startswith(f"needs >= {MIN_POSITIVE_ACCOUNTS} accounts with the outcome")
    assert "load more history" in verdict.message


def test_no_known_outcome_is_refused():
    mf = model_frame(n_dates=2)  # both dates within one horizon of the end
    frame = mf.frame.assign(churned=np.nan)
    verdict = requirements(ModelFrame(frame, mf.features, mf.label, mf.horizon_days, mf.source, mf.categorical))
    assert not verdict.ok and "no observation has a known outcome" in verdict.message


def test_enough_data_passes_and_names_the_scheme():
    verdict = requirements(model_frame(n_accounts=300, n_dates=12))
    assert verdict.ok and verdict.scheme is Scheme.ROLLING_ORIGIN and "rolling origin" in verdict.message


def test_weighted_metrics_equal_the_plain_ones_and_resampled_rows():
    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.2).astype(int)
    risk = np.round(rng.normal(size=3000) + y, 1)  # many ties
    p = 1 / (1 + np.exp(-risk))
    ranked = metrics.RankedScores(y, risk, p)
    ones = np.ones(len(y))
    assert ranked.auc(ones) == pytest.approx(metrics.auc(y, risk))
    assert ranked.lift(ones) == pytest.approx(metrics.top_decile_lift(y, risk))
    assert ranked.brier(ones) == pytest.approx(metrics.brier(y, p))
    w = rng.integers(0, 3, len(y)).astype(float)
    idx = np.repeat(np.arange(len(y)), w.astype(int))
    assert ranked.auc(w) == pytest.approx(metrics.auc(y[idx], risk[idx]))
    assert ranked.lift(w) == pytest.approx(metrics.top_decile_lift(y[idx], risk[idx]))


def test_lift_ignores_row_order_under_ties():
    y = np.array([1, 0] * 50)
    risk = np.ones(100)
    assert metrics.RankedScores(y, risk).lift(np.ones(100)) == pytest.approx(1.0)
    assert metrics.RankedScores(y[::-1], risk).lift(np.ones(100)) == pytest.approx(1.0)


def test_account_bootstrap_is_seeded_resamples_accounts_and_covers_the_estimate():
    groups = np.repeat(np.arange(200), 3)
    boot = metrics.AccountBootstrap(groups, reps=5, seed=4)
    first, again = list(boot), list(boot)
    assert all((a == b).all() for a, b in zip(first, again, strict=True))
    for w in first:  # an account's rows share one weight and the weights add up to the rows
        assert (w.reshape(200, 3) == w.reshape(200, 3)[:, :1]).all() and w.sum() == 600
    rng = np.random.default_rng(5)
    y = (rng.random(600) < 0.3).astype(int)
    risk = rng.normal(size=600) + y
    draws = metrics.metric_draws(metrics.RankedScores(y, risk, 1 / (1 + np.exp(-risk))),
                                 metrics.AccountBootstrap(groups, reps=300, seed=0))
    for m in metrics.BOOT_METRICS:
        low, high = metrics.interval(draws.loc[0:, m])
        assert low < draws.loc[-1, m] < high
