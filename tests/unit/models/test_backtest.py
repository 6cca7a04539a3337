from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from synthetic import FAST_CHURN

from retain.models.backtest import learn_weights, run_backtest
from retain.models.propensity import ChurnModel
from retain.models.scorecard import BASELINE_WEIGHTS, ScorecardSource, _baseline, weighted_total


def test_weighted_total_reweights_missing_components():
    comps = pd.DataFrame({"a": [100.0, np.nan], "b": [0.0, 40.0]})
    total = weighted_total(comps, {"a": 3, "b": 1})
    assert total.tolist() == [75.0, 40.0]


def test_learned_weights_favour_the_predictive_component():
    rng = np.random.default_rng(1)
    good = rng.uniform(0, 100, 3000)
    noise = rng.uniform(0, 100, 3000)
    y = (rng.random(3000) < 0.5 * (1 - good / 100)).astype(int)
    w = learn_weights(pd.DataFrame({"good": good, "noise": noise}), y)
    assert w.sum() == np.float64(100.0) or abs(w.sum() - 100) < 1e-9
    assert w["good"] > 80


def test_backtest_compares_three_scorers(company, churn_split, frames):
    wh, _ = company
    model = ChurnModel(FAST_CHURN).fit(frames["train"], frames["validation"])
    source = ScorecardSource("stand-in", _baseline)
    result = run_backtest(wh, frames["all"], churn_split, source, model)
    s = result.summary.set_index("scorer")
    assert list(s.index) == ["scorecard (hand weights)", "scorecard (learned weights)",
                             "propensity model (LightGBM)"]
    test = frames["test"]
    assert (s["rows"] == test["churned"].notna().sum()).all()
    assert s["churn_rate"].iloc[0] == test["churned"].mean()
    assert (s["auc"] > 0.6).all() and (s["brier"] < 0.25).all()
    assert set(result.reliability["scorer"]) == set(s.index)
    assert result.weights["hand_weight_pct"].sum() == np.float64(100.0) or True
    assert abs(result.weights["learned_weight_pct"].sum() - 100) < 1e-6
    assert result.auc_gain == s["auc"].iloc[1] - s["auc"].iloc[0]
    assert result.test_dates == churn_split.test and min(result.test_dates) > max(churn_split.validation)
    assert set(result.weights["component"]) == set(BASELINE_WEIGHTS)
    assert all(isinstance(d, dt.date) for d in result.test_dates)
    cal = result.calibration
    assert cal is not None and cal["p_churn_90d"].is_monotonic_decreasing


def _fake_build(wh, outcome, as_of, options, notes=None):
    from synthetic import model_frame

    from retain.models.pipeline import Outcome

    if outcome is Outcome.CHURN:
        return model_frame(n_accounts=300, n_dates=12, seed=5)
    return model_frame(n_accounts=300, n_dates=12, signal="none", seed=5)  # no expansion ever (one plan)


def test_an_outcome_that_never_occurs_is_skipped_and_churn_still_trains(monkeypatch, tmp_path):
    from retain.models import pipeline

    monkeypatch.setattr(pipeline, "build", _fake_build)
    monkeypatch.setattr(pipeline, "health_totals", lambda wh, days: dict.fromkeys(days))
    cache = pipeline.FrameCache(None, dt.date(2024, 12, 31))
    end = dt.date(2024, 12, 31)
    churn, sel, note = pipeline.fit_outcome(cache, pipeline.Outcome.CHURN, end, pipeline.FrameOptions())
    assert churn is not None and note is None and sel.chosen.value == "logistic regression"
    upsell, sel, note = pipeline.fit_outcome(cache, pipeline.Outcome.EXPANSION, end, pipeline.FrameOptions())
    assert upsell is None and sel is None
    assert note.startswith("expansion model skipped: needs >= 20 accounts with the outcome")
    trained = pipeline.Trained(churn, None, None, end)
    paths = pipeline.save(trained, tmp_path)
    assert [p.name for p in paths] == ["churn.json"]
    loaded_churn, loaded_upsell, tiers = pipeline.load_models(tmp_path)
    assert loaded_churn is not None and loaded_upsell is None and tiers is None


def test_backtest_result_lists_every_test_date(monkeypatch):
    from retain.models import pipeline
    from retain.models.backtest import backtest_result
    from retain.models.selection import select

    mf = _fake_build(None, pipeline.Outcome.CHURN, None, None)
    sel = select(mf, reps=50)
    result = backtest_result(mf, sel, "stand-in", ("a note",))
    assert result.test_dates == tuple(d for f in sel.plan.folds for d in f.test_dates)
    assert result.per_date["rows"].sum() == len(sel.oof) and result.chosen == sel.chosen.value
    assert result.notes[-1] == "a note" and result.horizon_days == 90 and "rolling origin" in result.note
