"""Dimensions a metric can be split by, and the point-in-time tables every metric starts from.

A dimension is a built-in :class:`Dimension` or an :class:`Attribute`: any key of the accounts' ``attributes`` JSON
(the extra columns an export carried, e.g. ``contract``), usable without re-ingesting. An attribute is checked
against the data when a metric is built (:func:`resolve_dimension`); an unknown name lists every valid dimension,
the attribute keys found in the data included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from difflib import get_close_matches
from enum import StrEnum

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from retain.errors import RetainError
from retain.metrics.outcomes import cut_at_churn, recorded_churns
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


class DimensionError(RetainError):
    """``--by`` names neither a built-in dimension nor an attribute key found in the data (an option's value)."""

    exit_code = 2


@dataclass(frozen=True)
class Attribute:
    """A key of ``accounts.attributes`` used as a dimension; ``value`` is its name in results (``dimension``)."""

    key: str

    @property
    def value(self) -> str:
        return self.key


By = Dimension | Attribute
ATTRIBUTE_SAMPLE = 5000  # distinct attributes documents read to list the keys found (only for an error message)


def parse_dimension(value: str | By | None) -> By:
    """A built-in dimension (aliases such as ``channel`` allowed), else an attribute key (checked when resolved)."""
    if value is None:
        return Dimension.ALL
    if isinstance(value, Dimension | Attribute):
        return value
    text = str(value).strip().lower().replace("-", "_")
    aliases = {"channel": "acquisition_channel", "owner_id": "owner", "cohort": "signup_cohort", "none": "all"}
    try:
        return Dimension(aliases.get(text, text))
    except ValueError:
        if not str(value).strip():
            raise DimensionError("empty dimension", hint=f"use one of: {_builtin_choices()}") from None
        return Attribute(str(value).strip())


def _builtin_choices() -> str:
    return ", ".join(d.value for d in Dimension)


@ibis.udf.scalar.builtin(signature=((dt.json, dt.string), dt.string))
def json_extract_path_text(doc, key):  # a builtin of DuckDB and PostgreSQL
    """Text of a JSON document's top-level ``key`` (numbers and booleans as text)."""


def attribute_value(wh: Warehouse, attributes: ir.StringColumn, key: str) -> ir.StringValue:
    """The ``key`` of an ``attributes`` JSON text column as text (null when absent)."""
    doc = attributes.cast("json")
    if wh.con.name in {"duckdb", "postgres"}:
        return json_extract_path_text(doc, key)
    return doc[key].str


def attribute_keys(wh: Warehouse, as_of: AsOf) -> list[str]:
    """Keys of ``accounts.attributes`` found in (a sample of) the accounts known at ``as_of``, sorted."""
    a = wh.as_of("accounts", as_of)
    docs = wh.execute(a.filter(a.attributes.notnull()).select("attributes").distinct().limit(ATTRIBUTE_SAMPLE))
    keys: set[str] = set()
    for text in docs["attributes"]:
        try:
            parsed = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(parsed, dict):
            keys.update(str(k) for k in parsed)
    return sorted(keys)


def resolve_dimension(wh: Warehouse, as_of: AsOf, value: str | By | None) -> By:
    """:func:`parse_dimension`, with an attribute checked against the accounts' attributes known at ``as_of``.

    The key matches exactly, else ignoring case and spaces/dashes vs underscores. An unknown name raises
    :class:`DimensionError` listing the built-in dimensions and the attribute keys found in the data.
    """
    dim = parse_dimension(value)
    if isinstance(dim, Dimension):
        return dim
    a = wh.as_of("accounts", as_of)
    if wh.execute(a.filter(attribute_value(wh, a.attributes, dim.key).notnull()).count()) > 0:
        return dim
    keys = attribute_keys(wh, as_of)
    wanted = _norm(dim.key)
    same = [k for k in keys if _norm(k) == wanted]
    if same:
        return Attribute(same[0])
    close = get_close_matches(dim.key, [d.value for d in Dimension] + keys, n=1)
    guess = f" (did you mean '{close[0]}'?)" if close else ""
    found = f"keys found: {', '.join(keys)}" if keys else "no account has attributes"
    raise DimensionError(
        f"'{dim.key}' is not one of: {_builtin_choices()}, nor a key of accounts.attributes ({found}){guess}",
        hint="pass --by one of those; an attribute is an extra column kept by `retain ingest` (no re-ingest needed)",
    )


def _norm(key: str) -> str:
    return key.strip().lower().replace("-", "_").replace(" ", "_")


def account_value(wh: Warehouse, accounts: ir.Table, dim: By) -> ir.StringValue:
    """Text value of an account-level dimension (a column of ``accounts`` or a key of its attributes)."""
    if isinstance(dim, Attribute):
        return attribute_value(wh, accounts.attributes, dim.key)
    return accounts[ACCOUNT_COLUMNS[dim]].cast("string")


def is_account_level(dim: By) -> bool:
    return isinstance(dim, Attribute) or dim in ACCOUNT_COLUMNS


def subscriptions(wh: Warehouse, as_of: AsOf, *, include_trials: bool = False) -> ir.Table:
    """Subscription periods known at ``as_of``: money columns without nulls, ``ended_on`` null while running.

    Periods exported with ``status = 'trial'`` are left out unless ``include_trials`` (a trial is not a paying
    customer); each period is cut at a churn recorded in ``churn_events`` or ``accounts.churned_at``
    (see :mod:`retain.metrics.outcomes` for the precedence).
    """
    s = wh.as_of("subscriptions", as_of)
    if not include_trials:
        s = s.filter(s.status.isnull() | (s.status != "trial"))
    subs = s.select(
        "subscription_id", "account_id", "product_id", "started_on", "ended_on", "cancel_reason",
        mrr=s.mrr.fill_null(0.0).cast("float64"),
        discount_amount=s.discount_amount.fill_null(0.0).cast("float64"),
    )
    return cut_at_churn(subs, recorded_churns(wh, as_of))


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


def unit_columns(by: By) -> list[str]:
    return ["account_id", "product_id"] if by is Dimension.PRODUCT else ["account_id"]


def grain_label_expr(day: ir.DateValue, grain: ir.StringValue) -> ir.StringValue:
    """Label of the period containing ``day`` at the grain named in a ``grain`` column."""
    return ibis.cases(
        *[(grain == g.value, period_label_expr(day, g)) for g in (Grain.MONTH, Grain.QUARTER)],
        else_=period_label_expr(day, Grain.YEAR),
    )


def attach_dimension(
    table: ir.Table, wh: Warehouse, as_of: AsOf, by: By, *, grain: Grain | str = Grain.MONTH,
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
        attrs = accounts.select(account_id=accounts.account_id, _dimension_value=account_value(wh, accounts, by))
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


def account_dimensions(wh: Warehouse, as_of: AsOf, ids: ir.Table, dims: list[By]) -> ir.Table:
    """Long table ``(account_id, dimension, dimension_value)``: each account of ``ids`` once per account-level dim.

    Joining it to per-account rows splits them by several dimensions in one pass.
    """
    accounts = wh.as_of("accounts", as_of)
    parts = []
    for dim in dims:
        if dim is Dimension.ALL:
            parts.append(ids.select("account_id", dimension=ibis.literal(ALL), dimension_value=ibis.literal(ALL)))
            continue
        attrs = accounts.select(account_id=accounts.account_id, _value=account_value(wh, accounts, dim))
        joined = ids.left_join(attrs, "account_id")
        parts.append(joined.select(
            account_id=joined.account_id, dimension=ibis.literal(dim.value),
            dimension_value=joined._value.fill_null(UNKNOWN),
        ))
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


def safe_ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator / denominator``, null when the denominator is zero."""
    return numerator.cast("float64") / denominator.cast("float64").nullif(0.0)
