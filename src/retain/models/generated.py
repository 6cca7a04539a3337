"""Features generated from whatever the data holds, for every observation date at once.

What exists decides what is built: each family in :data:`FAMILIES` (``retain.models.families``) runs when its
source table has rows known at the build's ``as_of``; event types, survey types, account columns and
``attributes`` keys are discovered from the data (:func:`discover`). Every family is an unexecuted Ibis expression
over ``wh.as_of(table, as_of)`` with per-date conditions, so the whole set is one query per family whatever the
number of dates, and :func:`feature_sql` prints the SQL for one date.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from retain.models import families as fam
from retain.models import holdings
from retain.models.families import Family, FeatureContext
from retain.models.grid import ObservationGrid
from retain.models.outcomes import paying_subscriptions, population
from retain.warehouse import AsOf, Warehouse, as_of_date

TOP_EVENT_TYPES = 8          # event types with features of their own, by volume
MAX_CATEGORIES = 30          # a text column with more distinct values is not a categorical feature
ACCOUNT_TEXT = ("segment", "industry", "region", "country", "acquisition_channel")
_SAFE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Attribute keys that name an outcome (an export's churn flag or current status) would leak the label.
_OUTCOME_KEY = re.compile(r"churn|exit|attrition|cancel|status|outcome|label|target|closed|lost|left", re.I)
# Rates across families: name -> (numerator, denominator); missing unless the denominator is positive.
# Licences count seat-based products only, so allowance products (5,000 searches) never make a rate.
DERIVED: dict[str, tuple[str, str]] = {
    "users_per_licence_30d": ("active_users_30d", "licences"),
    "events_per_licence_30d": ("events_30d", "licences"),
}


@dataclass(frozen=True)
class Discovery:
    """What the data holds at ``as_of``: row counts of the source tables and the discovered vocabularies."""

    rows: dict[str, int]
    event_types: tuple[str, ...]
    has_users: bool
    survey_types: tuple[str, ...]
    account_categorical: tuple[str, ...]
    attribute_numeric: tuple[str, ...]
    attribute_categorical: tuple[str, ...]
    products: tuple[str, ...] = ()
    addon_products: tuple[str, ...] = ()


# family name -> (builder, whether the data supports it)
FAMILIES: dict[str, tuple[Callable[[FeatureContext], Family], Callable[[Discovery], bool]]] = {
    "tenure": (fam.tenure, lambda d: True),
    "accounts": (fam.accounts, lambda d: d.rows["accounts"] > 0),
    "contract": (fam.contract, lambda d: d.rows["subscriptions"] > 0),
    "holdings": (holdings.holdings, lambda d: len(d.products) > 1),
    "usage": (fam.usage, lambda d: d.rows["usage"] > 0),  # per event type too, when there are several
    "support": (fam.support, lambda d: d.rows["support_tickets"] > 0),
    "surveys": (fam.surveys, lambda d: d.rows["survey_responses"] > 0),
    "invoices": (fam.invoices, lambda d: d.rows["invoices"] > 0),
    "activities": (fam.activities, lambda d: d.rows["activities"] > 0),
    "contacts": (fam.contacts, lambda d: d.rows["contacts"] > 0),
    "opportunities": (fam.opportunities, lambda d: d.rows["opportunities"] > 0),
    "purchases": (fam.purchases, lambda d: d.rows["transactions"] > 0),
}


def _rows(wh: Warehouse, day: dt.date) -> dict[str, int]:
    out = {name: int(wh.execute(wh.as_of(name, day).count()))
           for name in ("accounts", "usage", "support_tickets", "survey_responses", "invoices", "activities",
                        "transactions", "contacts", "opportunities")}
    out["subscriptions"] = int(wh.execute(paying_subscriptions(wh, day).count()))
    return out


def _attribute_kinds(wh: Warehouse, day: dt.date, sample: int = 5000) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Numeric and low-cardinality text keys of ``accounts.attributes`` (judged on a sample of accounts)."""
    acc = wh.as_of("accounts", day)
    texts = wh.execute(acc.filter(acc.attributes.notnull()).select("attributes").limit(sample))["attributes"]
    values: dict[str, list] = {}
    for text in texts:
        try:
            obj = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(obj, dict):
            for key, value in obj.items():
                usable = _SAFE_KEY.match(str(key)) and not _OUTCOME_KEY.search(str(key))
                if usable and value is not None and value != "":
                    values.setdefault(key, []).append(value)
    numeric, categorical = [], []
    for key, vals in sorted(values.items()):
        nums = pd.to_numeric(pd.Series([v for v in vals if not isinstance(v, bool)], dtype=object),
                             errors="coerce")
        if all(isinstance(v, bool) for v in vals) or (len(nums) and nums.notna().mean() >= 0.95):
            numeric.append(key)
        elif len({str(v) for v in vals}) <= MAX_CATEGORIES:
            categorical.append(key)
    return tuple(numeric), tuple(categorical)


def discover(wh: Warehouse, day: dt.date, *, top_event_types: int = TOP_EVENT_TYPES,
             top_products: int = holdings.TOP_PRODUCTS) -> Discovery:
    rows = _rows(wh, day)
    event_types: tuple[str, ...] = ()
    has_users = False
    if rows["usage"]:
        u = wh.as_of("usage", day)
        typed = u.filter(u.feature != "all")
        top = wh.execute(typed.group_by("feature").aggregate(
            volume=typed.events.fill_null(0).sum() + typed.count()).order_by(ibis.desc("volume")).limit(
                top_event_types))
        event_types = tuple(str(f) for f in top["feature"])
        has_users = bool((wh.execute(u.active_users.max()) or 0) > 0)
    survey_types: tuple[str, ...] = ()
    if rows["survey_responses"]:
        s = wh.as_of("survey_responses", day)
        survey_types = tuple(sorted(str(t) for t in wh.execute(s.survey_type.name("t").as_table().distinct())["t"]))
    acc = wh.as_of("accounts", day)
    counts = wh.execute(acc.aggregate(**{c: acc[c].nunique() for c in ACCOUNT_TEXT}))
    account_categorical = tuple(c for c in ACCOUNT_TEXT if 2 <= int(counts[c].iloc[0]) <= MAX_CATEGORIES)
    numeric, categorical = _attribute_kinds(wh, day) if rows["accounts"] else ((), ())
    products = holdings.top_products(wh, day, top_products) if rows["subscriptions"] else ()
    addons = holdings.addon_products(wh, day) if products else ()
    return Discovery(rows, event_types, has_users, survey_types, account_categorical, numeric, categorical,
                     products, addons)


def context(wh: Warehouse, grid: ObservationGrid, pop: ir.Table, found: Discovery) -> FeatureContext:
    return FeatureContext(
        wh, grid, pop, event_types=found.event_types, has_users=found.has_users, survey_types=found.survey_types,
        attribute_numeric=found.attribute_numeric, attribute_categorical=found.attribute_categorical,
        account_categorical=found.account_categorical, products=found.products,
        addon_products=found.addon_products,
    )


def families(ctx: FeatureContext, found: Discovery) -> dict[str, Family]:
    """The families the data supports, built (unexecuted)."""
    return {name: build(ctx) for name, (build, supported) in FAMILIES.items() if supported(found)}


def _keyed(table: ir.Table) -> list[str]:
    return [c for c in table.columns if c not in ("account_id", "as_of")]


def feature_expr(ctx: FeatureContext, built: dict[str, Family]) -> ir.Table:
    """Every feature of every population row in one expression (missing counts filled with 0)."""
    expr = ctx.pop.select("account_id", "as_of")
    fills: dict[str, float] = {}
    for part in built.values():
        t = part.table.view()
        expr = expr.left_join(t, [expr.account_id == t.account_id, expr.as_of == t.as_of]).select(
            expr, *[t[c] for c in _keyed(t)])
        fills |= part.fills
    expr = expr.mutate(**{name: expr[name].fill_null(value) for name, value in fills.items()})
    rates = {name: ibis.ifelse(expr[den] > 0, expr[num] / expr[den], ibis.null("float64"))
             for name, (num, den) in DERIVED.items() if num in expr.columns and den in expr.columns}
    return expr.mutate(**rates) if rates else expr


def feature_sql(wh: Warehouse, day: AsOf) -> str:
    """The SQL that computes every generated feature of every customer at ``day``."""
    on = as_of_date(day)
    grid = ObservationGrid((on,), on, None)
    found = discover(wh, on)
    ctx = context(wh, grid, population(wh, grid), found)
    return wh.sql(feature_expr(ctx, families(ctx, found)))


def numbered(pop: ir.Table) -> ir.Table:
    """The population with ``rid``: its row number in (as_of, account_id) order (the frame's order)."""
    return pop.mutate(rid=ibis.row_number().over(order_by=[pop.as_of, pop.account_id]))


def aligned(ctx: FeatureContext, table: ir.Table) -> pd.DataFrame:
    """The columns of ``table`` (keyed by account_id, as_of) for every population row, in population order.

    The engine joins and orders, so only values travel (no keys to match again in pandas)."""
    pop = ctx.pop if "rid" in ctx.pop.columns else numbered(ctx.pop)
    keyed = pop.select("rid", "account_id", "as_of")
    t = table.view()
    j = keyed.left_join(t, [keyed.account_id == t.account_id, keyed.as_of == t.as_of])
    return ctx.wh.execute(j.select(keyed.rid, *[t[c] for c in _keyed(t)]).order_by("rid")).drop(columns="rid")


def _column(values: pd.Series, fill: float | None, categorical: bool) -> np.ndarray:
    if categorical:
        return values.astype(object).where(values.notna(), "unknown").to_numpy()
    out = pd.to_numeric(values, errors="coerce").to_numpy("float64", na_value=np.nan)
    if fill is not None:
        out = np.where(np.isnan(out), fill, out)
    return out


def compute(ctx: FeatureContext, built: dict[str, Family]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Executed features (one query per family, aligned on the population by the engine): the frame, in
    (as_of, account_id) order, and its categorical columns."""
    pop = ctx.pop if "rid" in ctx.pop.columns else numbered(ctx.pop)
    ctx = replace(ctx, pop=pop)
    frame = ctx.wh.execute(pop.select("rid", "account_id", "as_of").order_by("rid")).drop(columns="rid")
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    columns: dict[str, np.ndarray] = {}
    categorical: list[str] = []
    for part in built.values():
        got = aligned(ctx, part.table)
        for name in got.columns:
            columns[name] = _column(got[name], part.fills.get(name), name in part.categorical)
        categorical += list(part.categorical)
    for name, (num, den) in DERIVED.items():
        if num in columns and den in columns:
            with np.errstate(divide="ignore", invalid="ignore"):
                columns[name] = np.where(columns[den] > 0, columns[num] / columns[den], np.nan)
    frame = pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)
    return frame, tuple(categorical)
