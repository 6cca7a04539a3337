"""Score the open pipeline as of a day: features, validation on past quarters, the fitted model, warnings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from retain.errors import ModelError
from retain.results import spec
from retain.sales.features import deal_features
from retain.sales.scores import DealModel, ScoreSettings, Validation, fit_model, history, score_open, validate
from retain.sales.warnings import WarningRules, with_warnings
from retain.warehouse import Warehouse

SCORES = "opportunity_scores"


@dataclass(frozen=True)
class ScoredPipeline:
    """Open deals scored as of a day, the model behind the scores, and how it validated (None: too little
    history to validate, with the reason in ``note``)."""

    as_of: dt.date
    scores: pd.DataFrame
    model: DealModel
    validation: Validation | None
    note: str | None = None
    history: pd.DataFrame | None = None  # the monthly snapshots the model learned from

    @property
    def below(self) -> pd.DataFrame:
        return self.scores[self.scores["below_benchmark"]].sort_values("amount", ascending=False)


def current_features(wh: Warehouse, day: dt.date, rules: WarningRules = WarningRules()) -> pd.DataFrame:
    """The open deals at ``day`` with their features and warnings (one engine query)."""
    frame = wh.execute(with_warnings(deal_features(wh, [day], reference=day), rules))
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame


def score_pipeline(wh: Warehouse, day: dt.date, settings: ScoreSettings = ScoreSettings(), *,
                   validate_model: bool = True) -> ScoredPipeline:
    """Validate on past quarters, fit on everything known by ``day``, and score the deals open at ``day``."""
    past = history(wh, day, settings.train_months)
    validation, note = None, None
    if validate_model:
        try:
            validation = validate(past, day, settings)
        except ModelError as exc:
            note = f"{exc.message} ({exc.hint})" if getattr(exc, "hint", None) else str(exc)
    kind = validation.chosen if validation is not None and validation.chosen else None
    train = past[past["won"].notna() & (past["closed_at"] < pd.Timestamp(day + dt.timedelta(days=1), tz="UTC"))]
    model = fit_model(train, kind) if kind else fit_model(train)
    now = current_features(wh, day)
    scored = score_open(model, now, settings.margin)  # forecast_category: the CRM's own, as known at ``day``
    return ScoredPipeline(day, scored, model, validation, note, past)


def store(wh: Warehouse, scored: ScoredPipeline) -> None:
    """Store the scores (``opportunity_scores``) and the model check (``sales_model_check``)."""
    frame = scored.scores.copy()
    frame["close_on"] = pd.to_datetime(frame["close_on"]).dt.date
    wh.store_result(SCORES, frame[spec(SCORES).names], scored.as_of)
    if scored.validation is not None:
        wh.store_result("sales_model_check", scored.validation.table, scored.as_of)
