"""Periods and grains: calendar grids as small memtables, and churn rates scaled between period lengths.

A *period* is ``[period_start, period_end)``. Its opening snapshot is the close of the day before it starts
(``open_day = period_start - 1``) and its closing snapshot is the close of its last day
(``close_day = period_end - 1``), capped at ``as_of`` for the period still running. So the close of one period is
the open of the next, and an account is counted at a snapshot when it is a customer on that day.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import ibis
import ibis.expr.types as ir
import pandas as pd

from retain.errors import RetainError
from retain.warehouse import AsOf, as_of_date


class Grain(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def months(self) -> int:
        return {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[self]


def parse_grain(value: str | Grain) -> Grain:
    try:
        return Grain(str(value).lower())
    except ValueError:
        raise RetainError(f"unknown grain '{value}'", hint="use month, quarter or year") from None


def period_floor(day: dt.date, grain: Grain | str) -> dt.date:
    """First day of the period of ``grain`` containing ``day``."""
    g = parse_grain(grain)
    month = 1 + ((day.month - 1) // g.months) * g.months
    return dt.date(day.year, month, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` (a first of month) plus ``months`` months."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_label(start: dt.date, grain: Grain | str) -> str:
    g = parse_grain(grain)
    if g is Grain.MONTH:
        return f"{start.year}-{start.month:02d}"
    if g is Grain.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"


def period_frame(as_of: AsOf, grain: Grain | str = Grain.QUARTER, periods: int = 4) -> pd.DataFrame:
    """The last ``periods`` periods of ``grain`` up to ``as_of`` (the running one last), one row each.

    Columns: ``period`` (label), ``period_start``, ``period_end`` (exclusive), ``open_day``, ``close_day``
    (snapshot days), ``complete`` (the period has ended by ``as_of``; the running one is partial) and
    ``periods_per_year``: how many times the measured span (open to close snapshot) fits in a year, the exponent
    that annualises a rate. It is ``12 / months`` for a complete period; for the partial one it is scaled by
    period length / elapsed days, so a quarter one month in is annualised like a month (about 12, not 4).
    """
    g = parse_grain(grain)
    day = as_of_date(as_of)
    if periods < 1:
        raise RetainError("periods must be at least 1", hint="pass --periods 1 or more")
    last = period_floor(day, g)
    # a period ending exactly on as_of is complete; start counting from the one after it only when it began
    starts = [add_months(last, -g.months * k) for k in range(periods - 1, -1, -1)]
    ends = [add_months(s, g.months) for s in starts]
    close = [min(e - dt.timedelta(days=1), day) for e in ends]
    per_year = [12 / g.months * (e - s).days / (c - s + dt.timedelta(days=1)).days
                for s, e, c in zip(starts, ends, close, strict=True)]
    return pd.DataFrame({
        "period": [period_label(s, g) for s in starts],
        "period_start": starts,
        "period_end": ends,
        "open_day": [s - dt.timedelta(days=1) for s in starts],
        "close_day": close,
        "complete": [e - dt.timedelta(days=1) <= day for e in ends],
        "periods_per_year": per_year,
    })


GRID_SCHEMA = {
    "grain": "string", "period": "string", "period_start": "date", "period_end": "date",
    "open_day": "date", "close_day": "date", "complete": "boolean", "periods_per_year": "float64",
}


def period_grid(as_of: AsOf, grain: Grain | str = Grain.QUARTER, periods: int = 4) -> ir.Table:
    """:func:`period_frame` as an Ibis memtable with date-typed columns and a ``grain`` column."""
    return periods_grid(as_of, {parse_grain(grain): periods})


def periods_grid(as_of: AsOf, grains: dict[Grain, int]) -> ir.Table:
    """Several grains' periods in one memtable (``grain`` tells them apart), so one query serves them all."""
    frames = [period_frame(as_of, g, n).assign(grain=parse_grain(g).value) for g, n in grains.items()]
    frame = pd.concat(frames, ignore_index=True)[list(GRID_SCHEMA)]
    return ibis.memtable(frame, schema=GRID_SCHEMA)


def month_grid(first: dt.date, as_of: AsOf) -> ir.Table:
    """Every month from ``first`` to ``as_of``: ``month_start``, ``close_day`` (capped at as_of) and ``complete``."""
    day = as_of_date(as_of)
    start = period_floor(first, Grain.MONTH)
    count = (day.year - start.year) * 12 + day.month - start.month + 1
    frame = period_frame(day, Grain.MONTH, max(count, 1))
    frame = frame.rename(columns={"period_start": "month_start"})[["month_start", "close_day", "complete"]]
    return ibis.memtable(frame, schema={"month_start": "date", "close_day": "date", "complete": "boolean"})


def scale_churn_rate(rate: float, from_months: float = 1, to_months: float = 12) -> float:
    """Churn rate over ``from_months`` scaled to ``to_months`` assuming a constant hazard.

    Monthly → annual: ``1 - (1 - m) ** 12``; annual → monthly: ``1 - (1 - a) ** (1 / 12)``.
    """
    if not 0 <= rate <= 1:
        raise RetainError(f"a churn rate must be between 0 and 1, got {rate}")
    return 1 - (1 - rate) ** (to_months / from_months)


def shift_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months, clipped to the end of shorter months."""
    first = add_months(dt.date(day.year, day.month, 1), months)
    return _same_day(first, day.day)


def _same_day(first: dt.date, day: int) -> dt.date:
    try:
        return first.replace(day=day)
    except ValueError:
        return add_months(first, 1) - dt.timedelta(days=1)


def window_start(as_of: AsOf, months: int) -> dt.date:
    """First day of the trailing window of ``months`` months ending with ``as_of`` (inclusive)."""
    return shift_months(as_of_date(as_of), -months) + dt.timedelta(days=1)
