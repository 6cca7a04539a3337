"""Health: scoring every account (and storing it), the main job's history policy, backfills and explanations.

**The history policy.** The main job backfills a monthly history of the last year before it scores the day
(dates already stored are kept, the last four weeks are left to the day itself), so trends and "why it changed"
have something to compare with on a first run. ``retain backfill`` scores every date of a range; without
``--start`` the range begins where the data begins.

**The scorecard.** The main job scores with the scorecard fitted to the company's outcomes when they suffice, else
the shipped default with a warning (:func:`retain.health.choice.choose`), stores that choice as the
``health_scorecard`` result and re-scores history dates another scorecard scored, so the history, ``retain score``,
``retain explain``, the pages and the API all use one scorecard (:func:`scorecard_for`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from retain.health.choice import ScorecardChoice, choose, store_choice
from retain.health.choice import scorecard_for as _scorecard_for
from retain.health.explain import Change, explain_change, grade_distribution, result_at, riskiest, what_to_improve
from retain.health.history import (
    Frequency,
    backfill,
    backfill_dates,
    first_data_date,
    resolve,
    score,
    score_many,
    store,
)
from retain.health.history import stored_dates as stored_health_dates
from retain.health.scoring import HealthResult
from retain.health.spec import ScorecardSetSpec
from retain.warehouse import Warehouse, as_of_date
from retain.warehouse.names import with_names

HISTORY_DAYS = 365  # the main job's history reaches back a year...
HISTORY_FREQ = Frequency.MONTH  # ...one date a month...
HISTORY_GAP_DAYS = 28  # ...up to four weeks before the day, which the day itself covers
RISKIEST = 10

Scorecard = str | Path | ScorecardSetSpec | None  # a scorecard YAML or set; None: the run's (scorecard_for)


def scorecard_for(wh: Warehouse, day: dt.date, scorecard: Scorecard = None) -> ScorecardChoice:
    """The scorecard to score or explain with: ``scorecard`` when given (a file the user chose), else the one the
    main job stored for the latest run on or before ``day`` (chosen now when no run stored one)."""
    if scorecard is None:
        return _scorecard_for(wh, day)
    spec = resolve(scorecard)
    named = "" if isinstance(scorecard, ScorecardSetSpec) else f" ({scorecard})"
    return ScorecardChoice(spec, f"health uses the scorecard you gave{named}",
                           fitted=spec.scorecards[0].calibration is not None, given=True)


@dataclass(frozen=True)
class HealthScoring:
    """Every account scored as of ``as_of`` (stored unless asked not to), the riskiest ``n`` with names and
    reasons, and the grade distribution. ``riskiest`` and ``grades`` are empty when nobody was scored."""

    as_of: dt.date
    n: int
    result: HealthResult
    riskiest: pd.DataFrame
    grades: pd.DataFrame
    stored: bool
    choice: ScorecardChoice | None = None  # the scorecard scored with and why (its warning when the default)

    @property
    def empty(self) -> bool:
        return self.result.scores.empty


def score_accounts(wh: Warehouse, day: dt.date, scorecard: Scorecard | ScorecardChoice = None, n: int = RISKIEST,
                   *, store_results: bool = True) -> HealthScoring:
    """Score every account as of ``day`` (with :func:`scorecard_for`'s scorecard unless one is given), store the
    scores, components and measures, rank the riskiest ``n``."""
    choice = scorecard if isinstance(scorecard, ScorecardChoice) else scorecard_for(wh, day, scorecard)
    spec = choice.spec
    result = score(wh, day, spec)
    if store_results:
        store(wh, result, day)
    if result.scores.empty:
        return HealthScoring(day, n, result, pd.DataFrame(), pd.DataFrame(), store_results, choice)
    ranked = wh.execute(with_names(wh, riskiest(result, spec, n), as_of=day))
    return HealthScoring(day, n, result, ranked, grade_distribution(result), store_results, choice)


def history_to_backfill(wh: Warehouse, as_of: dt.date, spec: ScorecardSetSpec | None = None) -> list[dt.date]:
    """The monthly dates of the year before ``as_of`` without stored scores, or (given ``spec``) scored by a
    scorecard ``spec`` does not hold (another fit, or the default before a fit): the history policy."""
    start = as_of - dt.timedelta(days=HISTORY_DAYS)
    done = set(stored_health_dates(wh, None if spec is None else {c.name for c in spec.scorecards}))
    dates = backfill_dates(start, as_of - dt.timedelta(days=HISTORY_GAP_DAYS), HISTORY_FREQ)
    return [d for d in dates if d not in done]


def backfill_history(wh: Warehouse, as_of: dt.date, spec: ScorecardSetSpec | None = None) -> list[dt.date]:
    """Score and store (without per-measure rows) every date :func:`history_to_backfill` lists; returns them."""
    missing = history_to_backfill(wh, as_of, spec)
    for day, result in score_many(wh, missing, spec).items():
        store(wh, result, day, measures=False)
    return missing


@dataclass(frozen=True)
class HealthSection:
    """The health section of the main job: the history dates it filled in, then the day's scoring."""

    history_start: dt.date
    backfilled: list[dt.date]
    scoring: HealthScoring
    choice: ScorecardChoice | None = None

    @property
    def warning(self) -> str | None:
        """Set when health uses the shipped default scorecard: what is missing for a fitted one."""
        return None if self.choice is None else self.choice.warning


def health_section(wh: Warehouse, as_of: dt.date) -> HealthSection:
    """Choose the scorecard (fitted when the outcomes suffice) and store the choice, backfill the monthly history
    it has not scored, then score everyone as of ``as_of`` with it and store that."""
    choice = choose(wh, as_of)
    store_choice(wh, choice, as_of)
    backfilled = backfill_history(wh, as_of, choice.spec)
    return HealthSection(as_of - dt.timedelta(days=HISTORY_DAYS), backfilled, score_accounts(wh, as_of, choice),
                         choice)


@dataclass(frozen=True)
class Backfill:
    """A backfill's range, frequency and one summary row per date scored."""

    first: dt.date
    last: dt.date
    freq: Frequency
    summary: pd.DataFrame


def backfill_range(wh: Warehouse, start: str | dt.date | None, last: dt.date) -> tuple[dt.date, dt.date]:
    """The dates a backfill covers: ``start`` (default: the first day of data, else ``last``) to ``last``."""
    return (as_of_date(start) if start else (first_data_date(wh) or last)), last


def backfill_scores(wh: Warehouse, start: str | dt.date | None, last: dt.date, freq: Frequency | str = Frequency.WEEK,
                    scorecard: Scorecard = None, *, measures: bool = False,
                    progress: Callable[[dt.date, int], None] | None = None) -> Backfill:
    """Score and store every date of :func:`backfill_range` at ``freq``."""
    first, last = backfill_range(wh, start, last)
    freq = Frequency(freq)
    spec = scorecard_for(wh, last, scorecard).spec
    summary = backfill(wh, first, last, freq, spec, measures=measures, progress=progress)
    return Backfill(first, last, freq, summary)


@dataclass(frozen=True)
class Explanation:
    """Why one account scores what it does: the change since ``before`` (components, measures, caps), its
    measures as of the day, and what to improve (best gain first)."""

    account_id: str
    before: dt.date
    day: dt.date
    change: Change
    measures: pd.DataFrame
    improve: pd.DataFrame
    choice: ScorecardChoice | None = None
    churn_probability: float | None = None  # of the total, within the fitted scorecard's horizon (calibrated)


def explain_account(wh: Warehouse, account_id: str, day: dt.date, before: dt.date,
                    scorecard: Scorecard = None) -> Explanation:
    """Explain ``account_id`` as of ``day`` against ``before`` with :func:`scorecard_for`'s scorecard; dates it
    stored are read as stored, like the web."""
    choice = scorecard_for(wh, day, scorecard)
    change = explain_change(wh, account_id, before, day, choice.spec, stored=True)
    result = result_at(wh, day, choice.spec, stored=True)
    mine = result.measures.loc[result.measures["account_id"] == account_id,
                               ["component", "measure", "value", "text_value", "score", "weight_pct"]]
    now = result.scores.loc[result.scores["account_id"] == account_id]
    probability = float(now["churn_probability"].iloc[0]) if "churn_probability" in now and len(now) else None
    return Explanation(account_id, before, day, change, mine, what_to_improve(result, account_id), choice,
                       probability)
