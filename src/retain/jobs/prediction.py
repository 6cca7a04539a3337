"""The prediction section of the main job: the churn and upsell models chosen by validation and trained, then
every account scored as of the day (stored as the ``propensity`` result, which the value section reads).

What keeps it quick without weakening the validation:

- **One frame per outcome, one feature build.** Training, the backtest shown and scoring share one
  :class:`~retain.models.pipeline.FrameCache`: churn and expansion are built on the same observations, so their
  features are computed once, and the scoring rows are the frame's rows at the day.
- **Fewer fits, the same test dates.** With many observation dates, validation scores up to 12 test dates
  (rolling origin); the main job lets consecutive test dates share one fit (at most :data:`MAIN_JOB_FITS` per
  candidate, each trained on rows at least one horizon before its block's *first* date, so the gap only grows).
  Every test date is still scored out of sample by a model that never saw its outcome window; only the later dates
  of a block are scored by a slightly older fit (a little pessimistic, never optimistic). ``retain backtest`` and
  ``retain train`` keep one fit per test date.
- **Remembered models.** The chosen models, the adoption tiers and the validation are remembered in the warehouse
  (:mod:`retain.models.model_cache`) by day, options and a fingerprint of the data: the same data and day reuse
  them, any load misses and trains again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from retain.errors import ModelError
from retain.models import model_cache, pipeline
from retain.models.adoption import AdoptionTiers
from retain.models.backtest import BacktestResult
from retain.models.propensity import ChosenModel
from retain.warehouse import Warehouse

MAIN_JOB_STEP_DAYS = 60  # the fallback grid when the data gives no observation frequency
MAIN_JOB_FITS = 4  # fits per candidate in validation (consecutive test dates share one)
RISKIEST = 10
CACHE_OPTIONS = f"main job: step {MAIN_JOB_STEP_DAYS} days, {MAIN_JOB_FITS} fits"
REMEMBERED = "models remembered from an earlier run on the same data and day (not trained again)"


@dataclass(frozen=True)
class PredictionSection:
    """The churn model's validation (None when it could not train), every account's prediction, the
    ``RISKIEST`` most likely to churn, and notes (e.g. a model skipped because its outcome never occurs)."""

    as_of: dt.date
    backtest: BacktestResult | None
    prediction: pd.DataFrame
    riskiest: pd.DataFrame
    notes: tuple[str, ...] = ()
    remembered: bool = False  # the models came from the model cache (same data, same day)

    @property
    def horizon_days(self) -> int | None:
        return self.backtest.horizon_days if self.backtest is not None else None


@dataclass(frozen=True)
class Models:
    churn: ChosenModel | None
    upsell: ChosenModel | None
    tiers: AdoptionTiers | None
    notes: list[str]
    backtest: BacktestResult | None


def trained_models(wh: Warehouse, as_of: dt.date, cache: pipeline.FrameCache) -> tuple[Models, bool]:
    """The models as of ``as_of``: remembered for this data and day, else chosen, trained and remembered; and
    whether they were remembered."""
    print_ = model_cache.fingerprint(wh)
    payload = model_cache.recall(wh, as_of, CACHE_OPTIONS, print_)
    if payload is not None:
        try:
            return Models(*model_cache.decode(payload)), True
        except (ModelError, ValueError, KeyError, TypeError):
            pass  # written by another Retain: train again below
    trained = pipeline.train(wh, as_of, cache=cache, step_days=MAIN_JOB_STEP_DAYS, max_folds=MAIN_JOB_FITS)
    options = pipeline.FrameOptions(None, None, MAIN_JOB_STEP_DAYS)
    models = Models(trained.churn, trained.upsell, trained.tiers, list(trained.notes),
                    pipeline.backtest_of(trained, cache, options))
    model_cache.remember(wh, as_of, CACHE_OPTIONS, print_,
                         model_cache.encode(models.churn, models.upsell, models.tiers, models.notes, models.backtest))
    return models, False


def prediction_section(wh: Warehouse, as_of: dt.date) -> PredictionSection:
    """Choose and train the models as of ``as_of`` (their validation is the backtest shown), or reuse the ones
    remembered for this data and day, and score every account."""
    cache = pipeline.FrameCache(wh, as_of)
    models, remembered = trained_models(wh, as_of, cache)
    prediction = pipeline.predict(wh, as_of, models.churn, models.upsell, models.tiers, cache=cache)
    notes = [*models.notes, *([REMEMBERED] if remembered else [])]
    return PredictionSection(as_of, models.backtest, prediction, pipeline.riskiest(prediction, RISKIEST),
                             tuple(notes), remembered)
