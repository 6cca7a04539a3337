"""Scores as of any date, stored per account and date, and the weekly backfill over the whole history.

Each date is one engine query (every measure of every scorecard, point in time) plus vectorised scoring of the
compact result, so a backfill is a loop over dates with no per-account work in Python.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum

import ibis
import pandas as pd
import pyarrow as pa

from retain.errors import WarehouseError
from retain.health.measures import measure_values, scorecard_refs
from retain.health.scoring import HealthResult, score_frame
from retain.health.spec import ScorecardSetSpec
from retain.health.validate import load_scorecard
from retain.results import spec as result_spec
from retain.warehouse import AsOf, Warehouse, as_of_date

HEALTH_RESULTS = ("health_scores", "health_components", "health_measures")


def _arrow_schema(name: str) -> pa.Schema:
    """The Arrow layout of a health result, from its one declaration in :mod:`retain.results.specs` (the warehouse
    adds ``as_of``)."""
    schema = result_spec(name).ibis_schema().to_pyarrow()
    return schema.remove(schema.get_field_index("as_of")) if "as_of" in schema.names else schema


SCHEMAS: dict[str, pa.Schema] = {name: _arrow_schema(name) for name in HEALTH_RESULTS}


@functools.lru_cache(maxsize=1)
def default_scorecards() -> ScorecardSetSpec:
    return load_scorecard(None)


def resolve(scorecards: ScorecardSetSpec | str | None) -> ScorecardSetSpec:
    if scorecards is None:
        return default_scorecards()
    if isinstance(scorecards, ScorecardSetSpec):
        return scorecards
    return load_scorecard(scorecards)


def score(wh: Warehouse, as_of: AsOf, scorecards: ScorecardSetSpec | str | None = None) -> HealthResult:
    """Scores, components and measures of every account holding a running subscription at ``as_of``."""
    spec = resolve(scorecards)
    return score_frame(measure_values(wh, as_of, spec), spec)


BATCH_DATES = 12  # dates scored per batch in a backfill: memory stays that of a dozen dates, however long


def score_many(wh: Warehouse, days: Iterable[dt.date], scorecards: ScorecardSetSpec | str | None = None
               ) -> dict[dt.date, HealthResult]:
    """:func:`score` at each of ``days`` (see :func:`score_batches`), all held at once."""
    days = set(days)
    return dict(score_batches(wh, days, scorecards, batch=len(days) or 1))


def score_batches(wh: Warehouse, days: Iterable[dt.date], scorecards: ScorecardSetSpec | str | None = None, *,
                  batch: int = BATCH_DATES, detail: bool = True) -> Iterator[tuple[dt.date, HealthResult]]:
    """:func:`score` at each of ``days`` in date order, compiled once per shape of the data instead of once per date
    (:func:`retain.health.fit_rows.measure_frames`): building and compiling the measures' expression costs more than
    running it, and a backfill or a model's observation grid scores dozens of dates. The engine is asked ``batch``
    dates at a time, so memory holds one batch's measures. Without ``detail``, only the scores
    (:func:`retain.health.scoring.score_card`)."""
    from retain.health.fit_rows import measure_frames

    spec = resolve(scorecards)
    days = sorted(set(days))
    if len(days) < 2:
        yield from ((day, score_frame(measure_values(wh, day, spec), spec, detail=detail)) for day in days)
        return
    refs = [(name, params) for _, name, params in scorecard_refs(spec)]
    at = 0
    for frame in measure_frames(wh, days, refs, batch):
        frame = frame[["account_id", "as_of", *(c for c in frame.columns if c not in ("account_id", "as_of"))]]
        by_day = dict(iter(frame.groupby("as_of", sort=False)))
        for day in days[at:at + batch]:
            yield day, score_frame(by_day[day].sort_values("account_id", ignore_index=True) if day in by_day
                                   else frame.iloc[0:0], spec, detail=detail)
        at += batch


def _arrow(frame: pd.DataFrame, name: str) -> pa.Table:
    schema = SCHEMAS[name]
    missing = {f.name: None for f in schema if f.name not in frame}
    data = frame.assign(**missing)[schema.names] if missing else frame[schema.names]
    return pa.Table.from_pandas(data, schema=schema, preserve_index=False)


def store(wh: Warehouse, result: HealthResult, as_of: AsOf, *, measures: bool = True) -> None:
    """Store a result as ``health_scores`` / ``health_components`` (/ ``health_measures``) for that date."""
    wh.store_result("health_scores", _arrow(result.scores, "health_scores"), as_of)
    wh.store_result("health_components", _arrow(result.components, "health_components"), as_of)
    if measures:
        wh.store_result("health_measures", _arrow(result.measures, "health_measures"), as_of)


def first_data_date(wh: Warehouse) -> dt.date | None:
    """The first day any subscription started: where the whole history begins."""
    value = wh.execute(wh.raw("subscriptions").started_on.min())
    return as_of_date(value) if value is not None and value == value else None


class Frequency(StrEnum):
    """How often a backfill scores: the pandas offset of each choice (weeks end on Sundays, months start on the 1st)."""

    DAY = "D"
    WEEK = "W"
    MONTH = "MS"
    QUARTER = "QS"


def backfill_dates(start: AsOf, end: AsOf, freq: Frequency | str = Frequency.WEEK) -> list[dt.date]:
    """Dates from ``start`` to ``end`` at ``freq`` (pandas offset, e.g. W = weekly on Sundays, MS, D), end included."""
    days = [d.date() for d in pd.date_range(as_of_date(start), as_of_date(end), freq=freq)]
    last = as_of_date(end)
    return days if days and days[-1] == last else [*days, last]


def backfill(wh: Warehouse, start: AsOf, end: AsOf, freq: str = "W",
             scorecards: ScorecardSetSpec | str | None = None, *, measures: bool = False,
             progress: Callable[[dt.date, int], None] | None = None) -> pd.DataFrame:
    """Score and store every date from ``start`` to ``end``; returns one summary row per date."""
    spec = resolve(scorecards)
    rows = []
    days = backfill_dates(start, end, freq)
    for day, result in score_batches(wh, days, spec):
        store(wh, result, day, measures=measures)
        grades = result.scores["grade"].value_counts()
        rows.append({"as_of": day, "accounts": len(result.scores), "avg_total": result.scores["total"].mean(),
                     "red": int(grades.get("red", 0)), "yellow": int(grades.get("yellow", 0)),
                     "green": int(grades.get("green", 0))})
        if progress is not None:
            progress(day, len(result.scores))
    return pd.DataFrame(rows)


def stored_scores(wh: Warehouse, as_of: AsOf | None = None, account_id: str | None = None) -> pd.DataFrame:
    """Stored health scores (all dates, or one); empty when nothing has been stored."""
    if "result_health_scores" not in wh.con.list_tables():
        return pd.DataFrame(columns=["as_of", *SCHEMAS["health_scores"].names])
    t = wh.result("health_scores", as_of)
    if account_id is not None:
        t = t.filter(t.account_id == account_id)
    return wh.execute(t.order_by(["account_id", "as_of"]))


def scores_at(wh: Warehouse, as_of: AsOf, scorecards: ScorecardSetSpec | str | None = None) -> pd.DataFrame:
    """Health scores at a date: the stored ones when that date was stored, else computed now."""
    stored = stored_scores(wh, as_of) if scorecards is None else pd.DataFrame()
    if len(stored):
        return stored
    return score(wh, as_of, scorecards).scores


def stored_dates(wh: Warehouse, scorecards: set[str] | None = None) -> list[dt.date]:
    """Dates that already have stored health scores (none before the first `retain score`); given ``scorecards``
    (names), only the dates every stored score of which was scored by one of them."""
    try:
        table = wh.raw_result("health_scores")
    except WarehouseError:
        return []
    if scorecards is not None:
        other = table.scorecard.isnull() | ~table.scorecard.isin(sorted(scorecards))
        table = table.group_by("as_of").aggregate(other=other.sum()).filter(ibis._.other == 0)
    return sorted(as_of_date(d) for d in wh.execute(table.select("as_of").distinct())["as_of"])
