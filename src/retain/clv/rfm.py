"""RFM summary (frequency, recency, T, monetary value) from a transaction log, computed in the engine.

Same definitions as lifetimes' ``summary_data_from_transaction_data``: transactions are bucketed into periods
(days or weeks starting Monday); several in one period count as one purchase whose value is their sum;
``frequency`` = purchase periods after the first, ``recency`` = first to last purchase period, ``T`` = first
purchase period to the end of observation, all in periods divided by ``freq_multiplier``; ``monetary_value`` =
mean value of the repeat purchase periods (0 without repeat purchases).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import ibis
import ibis.expr.types as ir

from retain.errors import ModelError
from retain.warehouse import AsOf, as_of_date


class Freq(StrEnum):
    DAY = "D"
    WEEK = "W"


PERIOD_DAYS = {Freq.DAY: 1, Freq.WEEK: 7}


def _period_start(day: dt.date, freq: Freq) -> dt.date:
    return day if freq is Freq.DAY else day - dt.timedelta(days=day.weekday())


def _period(column: ir.Value, freq: Freq) -> ir.DateValue:
    day = column.cast("date")
    return day if freq is Freq.DAY else day.truncate("W").cast("date")


@ibis.udf.agg.builtin(name="arg_min")
def _duckdb_arg_min(arg: float, key: dt.date) -> float:
    """DuckDB's hash-friendly arg_min (ibis's argmin compiles to an ordered FIRST, which sorts each group)."""


def _first_value(table: ir.Table, value: ir.FloatingColumn, key: ir.DateColumn) -> ir.FloatingScalar:
    """Value at the earliest ``key`` of each group."""
    try:
        backend = table._find_backend(use_default=False)
    except Exception:  # unbound (memtable) or several backends: the portable form
        backend = None
    if backend is not None and backend.name == "duckdb":
        return _duckdb_arg_min(value, key)
    return value.argmin(key)


def _on_or_before(column: ir.Value, day: dt.date) -> ir.BooleanValue:
    """``column``'s day is ``day`` or earlier, compared in the column's own type (no cast per row, so the engine
    can skip Parquet row groups by their statistics)."""
    dtype = column.type()
    if dtype.is_timestamp():
        return column < ibis.literal(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), type=dtype)
    if dtype.is_date():
        return column <= ibis.literal(day, type="date")
    return column.cast("date") <= ibis.literal(day, type="date")


def _check_columns(table: ir.Table, *names: str | None) -> None:
    for name in names:
        if name is not None and name not in table.columns:
            raise ModelError(f"the transaction table has no column '{name}' (has: {', '.join(table.columns)})",
                             hint="name the customer, date and amount columns of your transaction log")


def _per_period(table, customer_col, datetime_col, monetary_col, freq, start=None, end=None) -> ir.Table:
    """One row per customer and purchase period with the summed value, periods in (start, end]."""
    expr = table
    if end is not None:
        expr = expr.filter(_on_or_before(expr[datetime_col], end + dt.timedelta(days=PERIOD_DAYS[freq] - 1)))
    if start is not None:
        expr = expr.filter(~_on_or_before(expr[datetime_col], start + dt.timedelta(days=PERIOD_DAYS[freq] - 1)))
    expr = expr.mutate(_period=_period(expr[datetime_col], freq))
    if not monetary_col:
        return expr.select(customer_col, "_period").distinct().mutate(_value=ibis.literal(0.0))
    return expr.group_by([customer_col, "_period"]).aggregate(_value=expr[monetary_col].sum())


def rfm_summary(
    transactions: ir.Table,
    customer_col: str = "account_id",
    datetime_col: str = "occurred_at",
    monetary_col: str | None = "amount",
    observation_end: AsOf | None = None,
    freq: Freq | str = Freq.DAY,
    calibration_end: AsOf | None = None,
    freq_multiplier: float = 1.0,
) -> ir.Table:
    """Per customer: ``frequency``, ``recency``, ``T``, ``monetary_value`` as an unexecuted Ibis expression.

    With ``calibration_end``, the summary covers the calibration period (up to ``calibration_end``) and adds
    ``frequency_holdout`` (purchase periods in the holdout), ``monetary_value_holdout`` (their mean value) and
    ``duration_holdout`` (length of the holdout), for customers who bought in the calibration period.
    """
    freq = Freq(freq)
    _check_columns(transactions, customer_col, datetime_col, monetary_col)
    if observation_end is None:
        raise ModelError("rfm_summary needs observation_end", hint="pass the as_of date of the analysis")
    end = _period_start(as_of_date(observation_end), freq)
    cal = _period_start(as_of_date(calibration_end), freq) if calibration_end is not None else end
    if cal > end:
        raise ModelError(f"calibration_end {calibration_end} is after observation_end {observation_end}",
                         hint="the holdout period must follow the calibration period")
    unit = PERIOD_DAYS[freq] * float(freq_multiplier)
    periods = _per_period(transactions, customer_col, datetime_col, monetary_col, freq, end=cal)
    # the first period's value, found in the same pass (no window, no self join)
    customers = periods.group_by(customer_col).aggregate(
        _first=periods._period.min(),
        _last=periods._period.max(),
        _n=periods.count(),
        _total=periods._value.sum(),
        _first_value=_first_value(periods, periods._value, periods._period),
    )
    cal_lit = ibis.literal(cal, type="date")
    summary = customers.select(
        customer_col,
        frequency=(customers._n - 1).cast("float64"),
        recency=customers._last.delta(customers._first, unit="day").cast("float64") / unit,
        T=cal_lit.delta(customers._first, unit="day").cast("float64") / unit,
        monetary_value=ibis.ifelse(
            customers._n > 1, (customers._total - customers._first_value) / (customers._n - 1).cast("float64"), 0.0
        ),
    )
    if calibration_end is None:
        return summary
    holdout = _per_period(transactions, customer_col, datetime_col, monetary_col, freq, start=cal, end=end)
    holdout = holdout.group_by(customer_col).aggregate(
        frequency_holdout=holdout.count().cast("float64"), monetary_value_holdout=holdout._value.mean()
    )
    joined = summary.left_join(holdout, customer_col).drop(f"{customer_col}_right")
    return joined.mutate(
        frequency_holdout=joined.frequency_holdout.fill_null(0.0),
        monetary_value_holdout=joined.monetary_value_holdout.fill_null(0.0),
        duration_holdout=ibis.literal((end - cal).days / unit, type="float64"),
    )


def rfm_from_warehouse(wh, as_of: AsOf, *, freq: Freq | str = Freq.DAY, freq_multiplier: float = 1.0,
                       calibration_end: AsOf | None = None) -> ir.Table:
    """RFM summary per account of the ``transactions`` table as known at ``as_of``."""
    return rfm_summary(wh.as_of("transactions", as_of), "account_id", "occurred_at", "amount",
                       observation_end=as_of, freq=freq, calibration_end=calibration_end,
                       freq_multiplier=freq_multiplier)
