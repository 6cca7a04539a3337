"""Lifetime value: compute per-account CLV, store it (result ``clv``), keep the fitters' notes; the main job's
value section adds the value at risk (CLV x P(churn))."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd

from retain.clv.base import StatisticalWarning
from retain.clv.value import ClvResult, ClvSettings, account_clv, value_at_risk, with_accounts
from retain.errors import ResultError, RetainError
from retain.warehouse import Warehouse

RESULT_NAME = "clv"
CHURN_RESULT = "propensity"


@dataclass(frozen=True)
class ClvRun:
    """A stored CLV computation and its notes for people: fallbacks used and why, and any warning a library
    still raised (as text, never with a source path)."""

    as_of: dt.date
    settings: ClvSettings
    result: ClvResult
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return float(self.result.values["clv"].sum())


def compute_and_store(wh: Warehouse, day: dt.date, settings: ClvSettings | None = None) -> ClvRun:
    """Compute per-account CLV as of ``day`` and store it for the dashboard (result ``clv``).

    The fitters report problems as notes, not Python warnings; a warning a library still raises becomes a note too.
    """
    settings = settings or ClvSettings()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = account_clv(wh, day, settings)
        wh.store_result(RESULT_NAME, result.values, day)
    raised = [str(w.message) for w in caught if issubclass(w.category, UserWarning | StatisticalWarning)]
    return ClvRun(day, settings, result, list(dict.fromkeys([*result.notes, *raised])))


def stored_churn(wh: Warehouse, as_of: dt.date) -> pd.DataFrame | None:
    """Churn probabilities the propensity model stored for ``as_of``, if it ran (earlier in the main job)."""
    try:
        frame = wh.execute(wh.result(CHURN_RESULT, as_of).select("account_id", "churn_probability"))
    except RetainError:
        return None
    return frame if not frame.empty else None


class ChurnSource(StrEnum):
    """Where the value section's P(churn) came from."""

    MODEL = "the churn model"
    P_ALIVE = "1 - P(alive) (run `retain predict` for per-account risk)"


@dataclass(frozen=True)
class ValueSection:
    """Top accounts by CLV (with names), the value at risk and where P(churn) came from; or, when CLV could not
    be computed on this data, the error that says why (the section still counts as run)."""

    as_of: dt.date
    run: ClvRun | None = None
    ranked: pd.DataFrame | None = None
    at_risk: pd.DataFrame | None = None
    churn_source: ChurnSource = ChurnSource.P_ALIVE
    unavailable: RetainError | None = None

    @property
    def value_at_risk(self) -> float:
        return float(self.at_risk["value_at_risk"].sum()) if self.at_risk is not None else 0.0


def value_section(wh: Warehouse, as_of: dt.date) -> ValueSection:
    """CLV with the default settings, stored; value at risk from the stored churn probabilities when present."""
    try:
        run = compute_and_store(wh, as_of)
    except ResultError:
        raise  # a result that does not fit its declaration is a bug, never "not computable"
    except RetainError as exc:
        return ValueSection(as_of, unavailable=exc)
    ranked = wh.execute(with_accounts(wh, as_of, run.result.values))
    churn = stored_churn(wh, as_of)
    source = ChurnSource.MODEL if churn is not None else ChurnSource.P_ALIVE
    return ValueSection(as_of, run, ranked, value_at_risk(ranked, churn), source)
