"""The prediction section of the main job: a backtest, then the churn and upsell models trained and every
account scored as of the day (stored as the ``propensity`` result, which the value section reads)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from retain.models import pipeline
from retain.models.backtest import BacktestResult
from retain.warehouse import Warehouse

MAIN_JOB_STEP_DAYS = 60  # the fallback grid when the data gives no observation frequency
RISKIEST = 10


@dataclass(frozen=True)
class PredictionSection:
    """The churn model's validation (None when it could not train), every account's prediction, the
    ``RISKIEST`` most likely to churn, and notes (e.g. a model skipped because its outcome never occurs)."""

    as_of: dt.date
    backtest: BacktestResult | None
    prediction: pd.DataFrame
    riskiest: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def horizon_days(self) -> int | None:
        return self.backtest.horizon_days if self.backtest is not None else None


def prediction_section(wh: Warehouse, as_of: dt.date) -> PredictionSection:
    """Choose and train the models as of ``as_of`` (their validation is the backtest shown) and score every
    account, sharing one cache of training frames: each frame is built once and each model validated once."""
    cache = pipeline.FrameCache(wh, as_of)
    trained = pipeline.train(wh, as_of, cache=cache, step_days=MAIN_JOB_STEP_DAYS)
    options = pipeline.FrameOptions(None, None, MAIN_JOB_STEP_DAYS)
    result = pipeline.backtest_of(trained, cache, options)
    prediction = pipeline.predict(wh, as_of, trained.churn, trained.upsell, trained.tiers, cache=cache)
    return PredictionSection(as_of, result, prediction, pipeline.riskiest(prediction, RISKIEST), tuple(trained.notes))
