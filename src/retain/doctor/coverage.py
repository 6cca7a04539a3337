"""Per-table facts as of a day: rows, accounts present, date range, history length and column coverage.

One aggregate query per canonical table over its point-in-time view (``wh.as_of``): the row count, the distinct
accounts, the first and last day of the column that says when a row became known, and per column the non-null
count and the smallest and largest value (a column whose smallest and largest value agree holds a single value).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from retain.doctor.report import ColumnFacts, TableFacts
from retain.schema import TABLES, DType
from retain.warehouse import Warehouse

SKIPPED_COLUMNS = frozenset({"attributes"})  # JSON text of extra input columns: not a column of the model
SHOWN_CHARS = 40


def doctor_tables() -> list[str]:
    """The canonical tables the doctor looks at: every stored one (raw product events are rolled up into usage)."""
    return [name for name, spec in TABLES.items() if not spec.input_only]


def _as_date(value) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.tz_convert("UTC") if value.tzinfo is not None else value
        return value.date()
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date() if value.tzinfo is not None else value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _text(value, dtype: DType) -> str | None:
    """A smallest or largest value as text: dates as ``2025-07-15``, timestamps in UTC to the second."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if dtype is DType.DATE or dtype is DType.TIMESTAMP:
        day = _as_date(value)
        if dtype is DType.DATE or not isinstance(value, dt.datetime):
            return day.isoformat()
        utc = value.astimezone(dt.UTC) if value.tzinfo is not None else value
        return utc.strftime("%Y-%m-%d %H:%M:%S")
    if dtype is DType.BOOL:
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _day(column: ir.Column, dtype: DType) -> ir.Column:
    if dtype is DType.TIMESTAMP:
        return column.cast("timestamp('UTC')").date()
    return column


def table_expr(wh: Warehouse, name: str, day: dt.date) -> ir.Table:
    """The one-row aggregate behind :func:`table_facts` (unexecuted; ``Warehouse.sql`` shows it)."""
    spec = TABLES[name]
    t = wh.as_of(name, day)
    metrics: dict[str, ir.Scalar] = {"_rows": t.count()}
    if "account_id" in t.columns:
        metrics["_accounts"] = t.account_id.nunique()
    if spec.known_at is not None:
        known = _day(t[spec.known_at], spec.column(spec.known_at).dtype)
        metrics["_first"] = known.min()
        metrics["_last"] = known.max()
    for col in spec.columns:
        if col.name in SKIPPED_COLUMNS or col.name not in t.columns:
            continue
        value = t[col.name]  # a boolean's min/max is Ibis's BOOL_AND/BOOL_OR: PostgreSQL casts booleans to no int8
        metrics[f"n__{col.name}"] = value.count()
        metrics[f"lo__{col.name}"] = value.min()
        metrics[f"hi__{col.name}"] = value.max()
    return t.aggregate(**metrics)


def table_facts(wh: Warehouse, name: str, day: dt.date, accounts_total: int | None) -> TableFacts:
    """Facts of one table as of ``day``; ``accounts_total`` (accounts known by then) gives ``account_share``."""
    spec = TABLES[name]
    row = wh.execute(table_expr(wh, name, day)).iloc[0]
    rows = int(row["_rows"])
    accounts = int(row["_accounts"]) if "_accounts" in row.index else None
    share = None
    if accounts is not None and accounts_total:
        share = accounts / accounts_total
    columns = tuple(
        ColumnFacts(col.name, int(row[f"n__{col.name}"]), (int(row[f"n__{col.name}"]) / rows) if rows else 0.0,
                    _text(row[f"lo__{col.name}"], col.dtype), _text(row[f"hi__{col.name}"], col.dtype))
        for col in spec.columns if f"n__{col.name}" in row.index
    )
    return TableFacts(
        table=name, rows=rows, accounts=accounts, account_share=share, date_column=spec.known_at,
        first_on=_as_date(row.get("_first")), last_on=_as_date(row.get("_last")), columns=columns,
    )


def accounts_known(wh: Warehouse, day: dt.date) -> int:
    a = wh.as_of("accounts", day)
    return int(wh.execute(a.aggregate(n=a.account_id.nunique()))["n"].iloc[0])


def row_counts(wh: Warehouse, day: dt.date) -> dict[str, int]:
    """Rows of every table the doctor looks at, as of ``day``, in one query."""
    parts = [wh.as_of(name, day).aggregate(rows=ibis._.count()).mutate(table=ibis.literal(name))
             for name in doctor_tables()]
    frame = wh.execute(ibis.union(*parts))
    return {str(t): int(r) for t, r in zip(frame["table"], frame["rows"], strict=True)}


def all_table_facts(wh: Warehouse, day: dt.date) -> tuple[TableFacts, ...]:
    """Facts of every table the doctor looks at, as of ``day``, in the model's order (empty tables: rows only)."""
    total = accounts_known(wh, day)
    rows = row_counts(wh, day)
    return tuple(table_facts(wh, name, day, total) if rows.get(name) else empty_facts(name)
                 for name in doctor_tables())


def empty_facts(name: str) -> TableFacts:
    spec = TABLES[name]
    return TableFacts(name, 0, accounts=0 if spec.has("account_id") else None, date_column=spec.known_at)

