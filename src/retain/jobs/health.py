"""Health: scoring every account (and storing it), the main job's history policy, backfills and explanations.

**The history policy.** The main job backfills a monthly history of the last year before it scores the day
(dates already stored are kept, the last four weeks are left to the day itself), so trends and "why it changed"
have something to compare with on a first run. ``retain backfill`` scores every date of a range; without
``--start`` the range begins where the data begins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from retain.health.explain import Change, explain_change, grade_distribution, result_at, riskiest, what_to_improve
from retain.health.history import Frequency, backfill, backfill_dates, first_data_date, resolve, score, store
from retain.health.history import stored_dates as stored_health_dates
from retain.health.scoring import HealthResult
from retain.warehouse import Warehouse, as_of_date
from retain.warehouse.names import with_names

HISTORY_DAYS = 365  # the main job's history reaches back a year...
HISTORY_FREQ = Frequency.MONTH  # ...one date a month...
HISTORY_GAP_DAYS = 28  # ...up to four weeks before the day, which the day itself covers
RISKIEST = 10

Scorecard = str | Path | None  # a scorecard YAML; None: the shipped one


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

    @property
    def empty(self) -> bool:
        return self.result.scores.empty


def score_accounts(wh: Warehouse, day: dt.date, scorecard: Scorecard = None, n: int = RISKIEST, *,
                   store_results: bool = True) -> HealthScoring:
    """Score every account as of ``day``, store the scores, components and measures, rank the riskiest ``n``."""
    spec = resolve(scorecard)
    result = score(wh, day, spec)
    if store_results:
        store(wh, result, day)
    if result.scores.empty:
        return HealthScoring(day, n, result, pd.DataFrame(), pd.DataFrame(), store_results)
    ranked = wh.execute(with_names(wh, riskiest(result, spec, n), as_of=day))
    return HealthScoring(day, n, result, ranked, grade_distribution(result), store_results)


def history_to_backfill(wh: Warehouse, as_of: dt.date) -> list[dt.date]:
    """The monthly dates of the year before ``as_of`` that have no stored scores yet (the history policy)."""
    start = as_of - dt.timedelta(days=HISTORY_DAYS)
    done = set(stored_health_dates(wh))
    dates = backfill_dates(start, as_of - dt.timedelta(days=HISTORY_GAP_DAYS), HISTORY_FREQ)
    return [d for d in dates if d not in done]


def backfill_history(wh: Warehouse, as_of: dt.date) -> list[dt.date]:
    """Score and store (without per-measure rows) every date :func:`history_to_backfill` lists; returns them."""
    missing = history_to_backfill(wh, as_of)
    for day in missing:
        store(wh, score(wh, day), day, measures=False)
    return missing


@dataclass(frozen=True)
class HealthSection:
    """The health section of the main job: the history dates it filled in, then the day's scoring."""

    history_start: dt.date
    backfilled: list[dt.date]
    scoring: HealthScoring


def health_section(wh: Warehouse, as_of: dt.date) -> HealthSection:
    """Backfill the missing monthly history, then score everyone as of ``as_of`` and store it."""
    backfilled = backfill_history(wh, as_of)
    return HealthSection(as_of - dt.timedelta(days=HISTORY_DAYS), backfilled, score_accounts(wh, as_of))


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
    summary = backfill(wh, first, last, freq, scorecard, measures=measures, progress=progress)
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


def explain_account(wh: Warehouse, account_id: str, day: dt.date, before: dt.date,
                    scorecard: Scorecard = None) -> Explanation:
    """Explain ``account_id`` as of ``day`` against ``before``; stored dates are read as stored, like the web."""
    change = explain_change(wh, account_id, before, day, scorecard)
    result = result_at(wh, day, scorecard)
    mine = result.measures.loc[result.measures["account_id"] == account_id,
                               ["component", "measure", "value", "score", "weight_pct"]]
    return Explanation(account_id, before, day, change, mine, what_to_improve(result, account_id))
