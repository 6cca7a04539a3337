"""Which scorecard health uses, remembered per run so that every face scores and explains with the same one.

The main job asks :func:`choose` (the fitted scorecard when the outcomes suffice, else the shipped default with a
warning: :func:`retain.health.fit.choose_scorecard`) and stores the answer as the ``health_scorecard`` result of its
day (:func:`store_choice`): the scorecard set itself, a short *digest* of it, whether it was fitted, why, and the
warning every face shows when it was not. ``retain score`` and ``retain explain`` without ``--scorecard`` load the
choice stored for the latest day on or before theirs (:func:`scorecard_for`), so they agree with the run; only when
no run stored one do they choose now (the fit is cached, so that is done once per data). ``retain publish`` copies
the choice to the pages and the API (a warning line on the Portfolio and Account pages, a field of the API's
account detail).

A fitted scorecard is named ``fitted-<digest>`` so the stored scores say which fit produced them, and the main
job's history is re-scored when the fit changes (:func:`retain.jobs.health.history_to_backfill`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import ibis
import pandas as pd

from retain.errors import WarehouseError
from retain.health.fit import choose_scorecard
from retain.health.spec import ScorecardSetSpec
from retain.warehouse import AsOf, Warehouse, as_of_date

RESULT = "health_scorecard"
FITTED_PREFIX = "fitted-"


def digest(spec: ScorecardSetSpec) -> str:
    """A short hash of a scorecard set's JSON: equal digests, the same points, weights and grades."""
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:10]


@dataclass(frozen=True)
class ScorecardChoice:
    """A scorecard set, why it was chosen, and whether it was fitted to this company's outcomes."""

    spec: ScorecardSetSpec
    reason: str
    fitted: bool
    given: bool = False  # a scorecard file the user named (``--scorecard``): their choice, no warning

    @property
    def digest(self) -> str:
        """The digest of the scorecard set (a fitted one's: the digest its name carries, taken before naming)."""
        if self.fitted and self.name.startswith(FITTED_PREFIX):
            return self.name[len(FITTED_PREFIX):]
        return digest(self.spec)

    @property
    def name(self) -> str:
        return self.spec.default_name

    @property
    def warning(self) -> str | None:
        """What every face shows when health does not use a fitted scorecard (None when it does)."""
        return None if self.fitted or self.given else self.reason

    @property
    def horizon_days(self) -> int | None:
        """The horizon of the calibrated churn probability of a health total (None: uncalibrated)."""
        cal = self.spec.scorecards[0].calibration
        return cal.horizon_days if cal is not None else None

    def row(self) -> dict:
        """The ``health_scorecard`` result row."""
        return {"digest": self.digest, "scorecard": self.name, "fitted": self.fitted, "reason": self.reason,
                "warning": self.warning, "horizon_days": self.horizon_days, "spec": self.spec.model_dump_json()}

    def summary(self) -> dict:
        """What the pages and the API show (no scorecard body)."""
        return {"scorecard": self.name, "digest": self.digest, "fitted": self.fitted, "reason": self.reason,
                "warning": self.warning, "horizon_days": self.horizon_days}

    @classmethod
    def from_row(cls, row: dict) -> ScorecardChoice:
        return cls(ScorecardSetSpec.model_validate_json(row["spec"]), str(row["reason"]), bool(row["fitted"]))


def _named(spec: ScorecardSetSpec) -> ScorecardSetSpec:
    """A fitted set whose one scorecard is named after its digest (``fitted-<digest>``)."""
    card = spec.scorecards[0]
    renamed = card.model_copy(update={"name": FITTED_PREFIX + digest(spec)})
    return spec.model_copy(update={"scorecards": (renamed, *spec.scorecards[1:]), "default": None})


def choose(wh: Warehouse, as_of: AsOf, horizon_days: int | None = None) -> ScorecardChoice:
    """The scorecard health should use as of ``as_of`` (fitted when the outcomes suffice) and why."""
    spec, reason = choose_scorecard(wh, as_of, horizon_days)
    fitted = spec.scorecards[0].calibration is not None
    return ScorecardChoice(_named(spec) if fitted else spec, reason, fitted)


def store_choice(wh: Warehouse, choice: ScorecardChoice, as_of: AsOf) -> None:
    """Store ``choice`` as the ``health_scorecard`` result of ``as_of``."""
    wh.store_result(RESULT, pd.DataFrame([choice.row()]), as_of)


def stored_choice(wh: Warehouse, as_of: AsOf) -> ScorecardChoice | None:
    """The choice stored for the latest day on or before ``as_of`` (None when no run stored one)."""
    try:
        t = wh.raw_result(RESULT)
    except WarehouseError:
        return None
    day = ibis.literal(as_of_date(as_of), type="date")
    found = wh.execute(t.filter(t.as_of <= day).order_by(ibis.desc("as_of")).limit(1))
    return None if found.empty else ScorecardChoice.from_row(found.iloc[0].to_dict())


def stored_summary(wh: Warehouse, as_of: AsOf) -> dict | None:
    """:meth:`ScorecardChoice.summary` of :func:`stored_choice`, for publishing (None when none is stored)."""
    choice = stored_choice(wh, as_of)
    return None if choice is None else choice.summary()


def scorecard_for(wh: Warehouse, as_of: AsOf) -> ScorecardChoice:
    """The scorecard a face scores or explains with by default: the run's (stored), else chosen now."""
    return stored_choice(wh, as_of) or choose(wh, as_of)


def probability_text(probability: float | None, horizon_days: int | None) -> str:
    """``"14 % chance of churn within 90 days"``; empty when uncalibrated."""
    if probability is None or probability != probability or not horizon_days:
        return ""
    return f"{100.0 * probability:.0f} % chance of churn within {horizon_days} days"
