"""The main job's prediction: one feature build for churn and expansion, one frame for training and scoring, and
trained models remembered by a fingerprint of the data and the day (a changed warehouse trains again)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pytest

from retain.jobs import prediction
from retain.models import model_cache, pipeline
from retain.models.dataset import build_model_frame
from retain.models.pipeline import FrameCache, FrameOptions, Outcome
from retain.warehouse import Warehouse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "models"))

from synthetic import build_company  # noqa: E402


@pytest.fixture(scope="module")
def company() -> tuple[Warehouse, dt.date]:
    """A small synthetic company of this module's own (the section writes results and its cache)."""
    wh = Warehouse.open(":memory:")
    end = build_company(wh, n=200, days=900, seed=11)
    return wh, end


def test_the_expansion_frame_is_the_churn_frame_relabelled(company):
    wh, end = company
    cache = FrameCache(wh, end)
    churn = cache.model_frame(Outcome.CHURN, end, FrameOptions(), health=False)
    expansion = cache.model_frame(Outcome.EXPANSION, end, FrameOptions(), health=False)
    want = build_model_frame(wh, as_of=end, outcome="expansion")  # what the builder gives on its own
    pd.testing.assert_frame_equal(expansion.frame, want.frame)
    assert (expansion.features, expansion.categorical, expansion.label, expansion.source, expansion.horizon_days) \
        == (want.features, want.categorical, "expanded", want.source, want.horizon_days)
    assert churn.label == "churned" and expansion.frame["expanded"].notna().sum() > 0
    pd.testing.assert_frame_equal(expansion.frame[list(churn.features)], churn.frame[list(churn.features)])


def test_features_are_built_once_per_grid_whatever_the_outcome_or_how_options_are_given(company, monkeypatch):
    wh, end = company
    built = []
    real = pipeline.build

    def counting(*args, **kwargs):
        built.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "build", counting)
    cache = FrameCache(wh, end)
    horizon, frequency = cache.resolved(end, FrameOptions())
    a = cache.model_frame(Outcome.CHURN, end, FrameOptions(None, None, 60), health=False)
    b = cache.model_frame(Outcome.CHURN, end, FrameOptions(horizon, frequency, 30), health=False)  # as scoring asks
    cache.model_frame(Outcome.EXPANSION, end, FrameOptions(horizon, None, 30), health=False)
    assert a is b and built == [Outcome.CHURN]
    cache.model_frame(Outcome.CHURN, end, FrameOptions(30, frequency), health=False)  # another horizon: a new build
    assert built == [Outcome.CHURN, Outcome.CHURN]


def test_models_are_remembered_for_the_same_data_and_day_and_retrained_after_a_load(company, monkeypatch):
    wh, end = company
    trained = []
    real = pipeline.train
    monkeypatch.setattr(pipeline, "train", lambda *a, **k: trained.append(k) or real(*a, **k))
    first = prediction.prediction_section(wh, end)
    assert not first.remembered and len(trained) == 1 and trained[0]["max_folds"] == prediction.MAIN_JOB_FITS
    assert first.backtest is not None and len(first.backtest.test_dates) > 1
    again = prediction.prediction_section(wh, end)
    assert again.remembered and len(trained) == 1  # not trained again
    pd.testing.assert_frame_equal(again.prediction, first.prediction)
    pd.testing.assert_frame_equal(again.backtest.summary, first.backtest.summary)
    pd.testing.assert_frame_equal(again.backtest.per_date, first.backtest.per_date)
    assert (again.backtest.chosen, again.backtest.why, again.backtest.test_dates, again.notes) == (
        first.backtest.chosen, first.backtest.why, first.backtest.test_dates, (*first.notes, prediction.REMEMBERED))
    # another day is another entry
    assert model_cache.recall(wh, end - dt.timedelta(days=1), prediction.CACHE_OPTIONS,
                              model_cache.fingerprint(wh)) is None
    # a row loaded changes the fingerprint: the next run trains again
    before = model_cache.fingerprint(wh)
    wh.con.raw_sql("INSERT INTO support_tickets (ticket_id, account_id, opened_at) "
                   "SELECT 'extra', account_id, TIMESTAMPTZ '2020-01-01 00:00:00+00' FROM accounts LIMIT 1")
    assert model_cache.fingerprint(wh) != before
    third = prediction.prediction_section(wh, end)
    assert not third.remembered and len(trained) == 2


def test_a_read_only_cache_is_no_error_and_a_bad_payload_trains_again(company, monkeypatch):
    wh, end = company
    day = end - dt.timedelta(days=30)
    print_ = model_cache.fingerprint(wh)
    assert model_cache.remember(wh, day, prediction.CACHE_OPTIONS, print_, '{"churn": "not a model"}')
    trained = []
    real = pipeline.train
    monkeypatch.setattr(pipeline, "train", lambda *a, **k: trained.append(1) or real(*a, **k))
    section = prediction.prediction_section(wh, day)
    assert not section.remembered and trained == [1] and len(section.prediction) > 0
    monkeypatch.setattr(wh.con, "insert", lambda *a, **k: (_ for _ in ()).throw(PermissionError("read-only")))
    assert not model_cache.remember(wh, day, "other", print_, "{}")
