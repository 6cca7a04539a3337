"""Point-in-time views: what the warehouse knew at the end of a given day.

Every derived computation starts from :func:`snapshot`, so rows dated after ``as_of`` never reach it and
values that only became known later (an end date, a cancel reason, a payment) are hidden until then.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from retain.schema import DType, Table

AsOf = dt.date | dt.datetime | str


def as_of_date(value: AsOf | None) -> dt.date:
    """Normalise an ``as_of`` argument to a date (today, UTC, when ``None``)."""
    if value is None:
        return dt.datetime.now(dt.UTC).date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def known_by(column: ir.Column, dtype: DType, as_of: dt.date) -> ir.BooleanColumn:
    """True where ``column`` is at or before the end of day ``as_of``."""
    if dtype is DType.TIMESTAMP:
        end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        return column < ibis.literal(end, type="timestamp('UTC')")
    return column <= ibis.literal(as_of, type="date")


def snapshot(raw: ir.Table, spec: Table, as_of: AsOf, parent: ir.Table | None = None) -> ir.Table:
    """Rows of ``raw`` known by ``as_of``, with late-revealed columns nulled where not yet known.

    ``parent`` is the parent table's snapshot for tables (utterances) that inherit their time from it.
    """
    day = as_of_date(as_of)
    expr = raw
    if spec.known_at is not None:
        expr = expr.filter(known_by(expr[spec.known_at], spec.column(spec.known_at).dtype, day))
    elif spec.parent is not None:
        if parent is None:
            raise ValueError(f"{spec.name} needs its parent {spec.parent[0]} snapshot")
        key = spec.parent[1]
        expr = expr.filter(expr[key].isin(parent[key]))
    masked = {}
    for col in spec.columns:
        if col.revealed_by is None:
            continue
        gate = expr[col.revealed_by]
        visible = gate.isnull() | known_by(gate, spec.column(col.revealed_by).dtype, day)
        masked[col.name] = ibis.ifelse(visible, expr[col.name], ibis.null(expr[col.name].type()))
    return expr.mutate(**masked) if masked else expr
