"""Observation dates and time blocks: how training rows are laid out in time.

A grid of observation dates is either *regular* (every ``step_days`` back from an anchor, the build's ``as_of``)
or *irregular* (exactly the ``observed_on`` dates of a labels file). Windowed features ("events in the last 30
days") are computed for every date at once: rows are first summed per account and *block* (the ``step_days``
ending on a grid point, or one day on an irregular grid), then each block is joined to the dates whose window
holds it. A regular grid therefore needs windows that are whole numbers of steps; :meth:`ObservationGrid.window`
rounds them (28/91/182 days on a weekly grid, 30/90/180 on a monthly one).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir


def lit(day: dt.date) -> ir.DateScalar:
    return ibis.literal(day, type="date")


@dataclass(frozen=True)
class ObservationGrid:
    """Observation dates (oldest first), the build's ``as_of`` (anchor) and the step (``None``: irregular)."""

    dates: tuple[dt.date, ...]
    anchor: dt.date
    step_days: int | None

    @property
    def block_days(self) -> int:
        return self.step_days or 1

    def window(self, days: int) -> int:
        """``days`` rounded to whole blocks (at least one)."""
        step = self.block_days
        return max(step, round(days / step) * step)

    def table(self) -> ir.Table:
        """One row per observation date (column ``as_of``), as a self-contained expression (shows in SQL)."""
        return ibis.array([lit(d) for d in self.dates]).unnest().name("as_of").as_table()

    def block(self, day: ir.DateColumn) -> ir.DateColumn:
        """The last day of the block holding ``day``: the grid point at or after it (the day itself if irregular)."""
        if self.step_days is None:
            return day
        back = lit(self.anchor).delta(day, unit="day") // self.step_days
        return (lit(self.anchor) - (back * self.step_days).as_interval("D")).cast("date")

    def within(self, block: ir.DateColumn, as_of: ir.DateColumn, days: int) -> ir.BooleanColumn:
        """True where ``block`` lies in the window of ``days`` (rounded) ending on ``as_of``."""
        return (block <= as_of) & (block > as_of - ibis.interval(days=self.window(days)))


def regular_dates(start: dt.date, as_of: dt.date, *, step_days: int, horizon_days: int,
                  include_as_of: bool = True) -> tuple[dt.date, ...]:
    """Every ``step_days`` back from ``as_of``: the dates whose label window is complete (``<= as_of - horizon``),
    down to ``start + step_days`` (so every observation has some history), plus ``as_of`` itself for scoring."""
    out = [as_of] if include_as_of else []
    first = start + dt.timedelta(days=step_days)
    k = -(-horizon_days // step_days)  # first grid point whose window is complete
    day = as_of - dt.timedelta(days=k * step_days)
    while day >= first:
        out.append(day)
        day -= dt.timedelta(days=step_days)
    return tuple(sorted(set(out)))
