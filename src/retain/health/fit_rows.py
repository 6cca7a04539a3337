"""Measure values of customers at many observation dates, compiled once (not once per date).

Building and compiling the Ibis expression of ~40 measures costs far more than running it (seconds per date), and
the expression for one date differs from another date's only in its date literals (every window, cut-off and
point-in-time filter is relative to the as-of day). So:

1. :func:`first_days`: one query finds the first day each source table (or probe: usage with users, with events)
   holds a row; dates on which the same sources exist share one expression shape.
2. Per shape, the expression is compiled for its last date and its first date; every other date's SQL is the last
   date's with each date literal shifted by the difference (:func:`shift_sql`). The first date's compiled SQL
   checks the shift: when shifting does not reproduce it exactly (an engine writing dates some other way), each
   date is compiled on its own.
3. The per-date queries (each with its ``as_of`` column) run one after the other as plain SQL (no Ibis planning).
   A single ``UNION ALL`` of them stalled DuckDB 1.x's executor on a 3,000-account company (every thread waiting),
   so the engine sees one date at a time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence

import ibis
import pandas as pd

from retain.health.measures import MEASURES, Context, measure_values_expr
from retain.schema import table as table_spec
from retain.warehouse import Warehouse

MAKE = re.compile(r"(MAKE_(?:DATE|TIMESTAMP|TIMESTAMPTZ)\()(\d{4}), (\d{1,2}), (\d{1,2})")
ISO = re.compile(r"'(\d{4})-(\d{2})-(\d{2})([T ][^']*)?'")
PROBE_TABLE = {"users": "usage", "events": "usage"}


def _shift_make(match: re.Match, days: int) -> str:
    day = dt.date(int(match[2]), int(match[3]), int(match[4])) + dt.timedelta(days=days)
    return f"{match[1]}{day.year}, {day.month}, {day.day}"


def _shift_iso(match: re.Match, days: int) -> str:
    day = dt.date(int(match[1]), int(match[2]), int(match[3])) + dt.timedelta(days=days)
    return f"'{day.isoformat()}{match[4] or ''}'"


def shift_sql(sql: str, days: int) -> str:
    """``sql`` with every date literal (``MAKE_DATE(y, m, d)``, ``MAKE_TIMESTAMPTZ(y, m, d, ...)``, ``'y-m-d...'``)
    moved by ``days`` days."""
    sql = MAKE.sub(lambda m: _shift_make(m, days), sql)
    return ISO.sub(lambda m: _shift_iso(m, days), sql)


def first_days(wh: Warehouse, day: dt.date, names: Sequence[str]) -> dict[str, dt.date | None]:
    """The first day each table or probe (``users``, ``events``) of ``names`` holds a row known by ``day`` (one
    query; None = no row)."""
    ctx = Context(wh, day)
    parts = []
    for name in sorted(set(names)):
        spec = table_spec(PROBE_TABLE.get(name, name))
        t = ctx.probe(name)
        if spec.known_at is None:  # a child table: present from the first day it has rows at all
            parts.append(t.limit(1).select(name=ibis.literal(name), first=ibis.literal(dt.date(1, 1, 1))))
            continue
        first = t[spec.known_at].min()
        first = first.date() if first.type().is_timestamp() else first
        parts.append(t.aggregate(first=first.cast("date")).select(name=ibis.literal(name), first="first"))
    if not parts:
        return {}
    found = wh.execute(ibis.union(*parts))
    out: dict[str, dt.date | None] = dict.fromkeys(names)
    for name, first in zip(found["name"], found["first"], strict=True):
        out[name] = None if pd.isna(first) else pd.Timestamp(first).date()
    return out


def _sources(refs: Sequence[tuple[str, dict]]) -> set[str]:
    return {src for name, _ in refs for src in (*MEASURES[name].sources, *MEASURES[name].needs)}


def _compiled(wh: Warehouse, day: dt.date, refs, present: frozenset[str]) -> str:
    expr = measure_values_expr(wh, day, measures=refs, present=present)
    return wh.sql(expr.mutate(as_of=ibis.literal(day, type="date")), pretty=False)


def date_queries(wh: Warehouse, dates: Sequence[dt.date], refs: Sequence[tuple[str, dict]]) -> list[str]:
    """The SQL of the measure values of every date (module docs, steps 1-2); ``shifted`` dates reuse a compile."""
    dates = sorted(dates)
    firsts = first_days(wh, dates[-1], sorted(_sources(refs)))
    shapes: dict[frozenset[str], list[dt.date]] = defaultdict(list)
    for day in dates:
        shapes[frozenset(n for n, f in firsts.items() if f is not None and f <= day)].append(day)
    queries = {}
    for present, days in shapes.items():
        last = _compiled(wh, days[-1], refs, present)
        queries[days[-1]] = last
        if len(days) == 1:
            continue
        first = _compiled(wh, days[0], refs, present)
        reusable = shift_sql(last, (days[0] - days[-1]).days) == first
        for day in days[:-1]:
            queries[day] = shift_sql(last, (day - days[-1]).days) if reusable else _compiled(wh, day, refs, present)
    return [queries[d] for d in dates]


def measure_frame(wh: Warehouse, dates: Sequence[dt.date], refs: Sequence[tuple[str, dict]]) -> pd.DataFrame:
    """Measure values (one column per measure key) of the customers at each of ``dates``, with ``as_of`` (module
    docs)."""
    if not dates:
        return pd.DataFrame(columns=["account_id", "as_of"])
    return next(measure_frames(wh, dates, refs, batch=len(dates)))


def measure_frames(wh: Warehouse, dates: Sequence[dt.date], refs: Sequence[tuple[str, dict]], batch: int
                   ) -> Iterator[pd.DataFrame]:
    """:func:`measure_frame` of ``batch`` dates at a time (in date order), compiled once for all of them: memory
    holds one batch's values, and the compile is not repeated per batch."""
    dates = sorted(dates)
    queries = date_queries(wh, dates, refs) if dates else []
    for at in range(0, len(queries), batch):
        # one query per date: a UNION ALL of a dozen of these stalled DuckDB 1.x (its executor waited on itself)
        frame = pd.concat([_run(wh, sql) for sql in queries[at:at + batch]], ignore_index=True)
        frame["as_of"] = [pd.Timestamp(d).date() for d in frame["as_of"]]
        yield _numbers_as_floats(frame)  # a date whose rows of a measure were all null gave an object column


def _run(wh: Warehouse, sql: str) -> pd.DataFrame:
    """Run compiled SQL as it is: wrapping it in an Ibis table would plan it once more only to learn its schema.

    What ``raw_sql`` hands back differs by engine; each becomes the frame DuckDB's Arrow result gives (numbers as
    floats with ``NaN`` for null): a DuckDB relation, a Spark DataFrame (Arrow too) or a DB-API cursor
    (PostgreSQL and the other SQL engines), whose numbers :func:`measure_frame` types (:func:`_numbers_as_floats`)."""
    result = wh.con.raw_sql(sql)
    if hasattr(result, "fetch_arrow_table"):  # DuckDB
        return result.fetch_arrow_table().to_pandas()
    if hasattr(result, "toArrow"):  # a Spark DataFrame (PySpark >= 4)
        return result.toArrow().to_pandas()
    try:  # a DB-API cursor
        return pd.DataFrame(result.fetchall(), columns=[d[0] for d in result.description])
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})


def _numbers_as_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns of numbers (a DB-API driver's ``None`` for null, ``Decimal`` for ``NUMERIC``) as floats with
    ``NaN``, as an Arrow result gives them; other columns as they are."""
    for name in [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c].dtype)]:
        if pd.api.types.infer_dtype(frame[name], skipna=True) in NUMBER_KINDS:
            frame[name] = pd.to_numeric(frame[name]).astype("float64")
    return frame
