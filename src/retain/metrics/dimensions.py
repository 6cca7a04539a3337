"""Dimensions a metric can be split by, and the point-in-time tables every metric starts from."""

from __future__ import annotations

from enum import StrEnum

import ibis
import ibis.expr.types as ir

from retain.errors import RetainError
from retain.metrics.periods import Grain, parse_grain
from retain.warehouse import AsOf, Warehouse

ALL = "all"
UNKNOWN = "unknown"


class Dimension(StrEnum):
    """What ``--by`` accepts. ``product`` splits by holders of each product (the unit becomes account × product)."""

    ALL = "all"
    SEGMENT = "segment"
    OWNER = "owner"
    REGION = "region"
    ACQUISITION_CHANNEL = "acquisition_channel"
    INDUSTRY = "industry"
    CAMPAIGN = "campaign"
    COUNTRY = "country"
    PRODUCT = "product"
    SIGNUP_COHORT = "signup_cohort"


# account columns behind each account-level dimension
ACCOUNT_COLUMNS = {
    Dimension.SEGMENT: "segment",
    Dimension.OWNER: "owner_id",
    Dimension.REGION: "region",
    Dimension.ACQUISITION_CHANNEL: "acquisition_channel",
    Dimension.INDUSTRY: "industry",
    Dimension.CAMPAIGN: "campaign",
    Dimension.COUNTRY: "country",
}


def parse_dimension(value: str | Dimension | None) -> Dimension:
    if value is None:
        return Dimension.ALL
    text = str(value).lower().replace("-", "_")
    aliases = {"channel": "acquisition_channel", "owner_id": "owner", "cohort": "signup_cohort", "none": "all"}
    try:
        return Dimension(aliases.get(text, text))
    except ValueError:
        choices = ", ".join(d.value for d in Dimension)
        raise RetainError(f"unknown dimension '{value}'", hint=f"use one of: {choices}") from None


def subscriptions(wh: Warehouse, as_of: AsOf) -> ir.Table:
    """Subscription periods known at ``as_of``: money columns without nulls, ``ended_on`` null while running."""
    s = wh.as_of("subscriptions", as_of)
    return s.select(
        "subscription_id", "account_id", "product_id", "started_on", "ended_on", "cancel_reason",
        mrr=s.mrr.fill_null(0.0).cast("float64"),
        discount_amount=s.discount_amount.fill_null(0.0).cast("float64"),
    )


def active_on(started_on: ir.Column, ended_on: ir.Column, day: ir.Value) -> ir.BooleanValue:
    """True where a period is in service on ``day``: ``started_on <= day < ended_on`` (or still running)."""
    return (started_on <= day) & (ended_on.isnull() | (ended_on > day))


def first_started(subs: ir.Table, unit: list[str]) -> ir.Table:
    """First day each unit (account, or account × product) was ever a customer."""
    return subs.group_by(unit).aggregate(first_started_on=subs.started_on.min())


def period_label_expr(day: ir.DateValue, grain: Grain | str) -> ir.StringValue:
    """Portable label of the period containing ``day`` (``2024-03``, ``2024-Q1``, ``2024``)."""
    g = parse_grain(grain)
    year = day.year().cast("string")
    if g is Grain.YEAR:
        return year
    if g is Grain.QUARTER:
        return year.concat("-Q", day.quarter().cast("string"))
    return year.concat("-", day.month().cast("string").lpad(2, "0"))


def unit_columns(by: Dimension) -> list[str]:
    return ["account_id", "product_id"] if by is Dimension.PRODUCT else ["account_id"]


def grain_label_expr(day: ir.DateValue, grain: ir.StringValue) -> ir.StringValue:
    """Label of the period containing ``day`` at the grain named in a ``grain`` column."""
    return ibis.cases(
        *[(grain == g.value, period_label_expr(day, g)) for g in (Grain.MONTH, Grain.QUARTER)],
        else_=period_label_expr(day, Grain.YEAR),
    )


def attach_dimension(
    table: ir.Table, wh: Warehouse, as_of: AsOf, by: Dimension, *, grain: Grain | str = Grain.MONTH,
    first_col: str = "first_started_on",
) -> ir.Table:
    """Add ``dimension`` and ``dimension_value`` columns to a table keyed by ``account_id``.

    ``signup_cohort`` labels the period of ``first_col`` (at the row's ``grain`` column when the table has one,
    else at ``grain``); ``product`` needs a ``product_id`` column.
    """
    if by is Dimension.ALL:
        value = ibis.literal(ALL)
    elif by is Dimension.PRODUCT:
        value = table.product_id
    elif by is Dimension.SIGNUP_COHORT and "grain" in table.columns:
        value = grain_label_expr(table[first_col], table.grain)
    elif by is Dimension.SIGNUP_COHORT:
        value = period_label_expr(table[first_col], grain)
    else:
        accounts = wh.as_of("accounts", as_of)
        column = ACCOUNT_COLUMNS[by]
        attrs = accounts.select(account_id=accounts.account_id, _dimension_value=accounts[column].cast("string"))
        joined = table.left_join(attrs, "account_id").drop("account_id_right")
        return joined.mutate(
            dimension=ibis.literal(by.value), dimension_value=joined._dimension_value.fill_null(UNKNOWN),
        ).drop("_dimension_value")
    return table.mutate(dimension=ibis.literal(by.value), dimension_value=value.cast("string").fill_null(UNKNOWN))


def as_int(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 where ``condition`` holds, else 0 (portable: PostgreSQL cannot cast booleans to integers)."""
    return ibis.ifelse(condition, 1, 0).cast("int64")


def count_if(condition: ir.BooleanValue) -> ir.IntegerScalar:
    """How many rows satisfy ``condition`` (portable ``SUM(CASE WHEN ... THEN 1 ELSE 0 END)``)."""
    return as_int(condition).sum()


def account_dimensions(wh: Warehouse, as_of: AsOf, ids: ir.Table, dims: list[Dimension]) -> ir.Table:
    """Long table ``(account_id, dimension, dimension_value)``: each account of ``ids`` once per account-level dim.

    Joining it to per-account rows splits them by several dimensions in one pass.
    """
    accounts = wh.as_of("accounts", as_of)
    parts = []
    for dim in dims:
        if dim is Dimension.ALL:
            parts.append(ids.select("account_id", dimension=ibis.literal(ALL), dimension_value=ibis.literal(ALL)))
            continue
        attrs = accounts.select(account_id=accounts.account_id, _value=accounts[ACCOUNT_COLUMNS[dim]].cast("string"))
        joined = ids.left_join(attrs, "account_id")
        parts.append(joined.select(
            account_id=joined.account_id, dimension=ibis.literal(dim.value),
            dimension_value=joined._value.fill_null(UNKNOWN),
        ))
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


def safe_ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator / denominator``, null when the denominator is zero."""
    return numerator.cast("float64") / denominator.cast("float64").nullif(0.0)
