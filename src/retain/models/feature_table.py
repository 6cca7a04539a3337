"""The generated features of every customer on one day, made inspectable: the table, what each column is, and
the SQL that computes it (``retain features``).

One observation date (the day itself, an irregular grid of one point, so windows are exact days), the same
discovery and families as the training frame (``retain.models.generated``); nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from retain.models import generated
from retain.models.feature_prep import correlation_groups, informative
from retain.models.grid import ObservationGrid
from retain.models.outcomes import population
from retain.warehouse import AsOf, Warehouse, as_of_date

RATES = "rates"  # the family of the derived rates (generated.DERIVED)


@dataclass(frozen=True)
class FeatureTable:
    """Features of every customer at ``as_of``: ``frame`` (account_id, as_of, one column per feature), the family
    each feature comes from and the categorical ones."""

    frame: pd.DataFrame
    as_of: dt.date
    family: dict[str, str]
    categorical: tuple[str, ...]

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.family)


def _context(wh: Warehouse, day: dt.date) -> tuple[generated.FeatureContext, dict[str, generated.Family]]:
    grid = ObservationGrid((day,), day, None)
    found = generated.discover(wh, day)
    ctx = generated.context(wh, grid, population(wh, grid), found)
    return ctx, generated.families(ctx, found)


def family_of(built: dict[str, generated.Family]) -> dict[str, str]:
    """Each feature column -> the name of the family that computes it (rates: ``rates``)."""
    out = {c: name for name, part in built.items() for c in part.table.columns if c not in ("account_id", "as_of")}
    for rate, (num, den) in generated.DERIVED.items():
        if num in out and den in out:
            out[rate] = RATES
    return out


def feature_table(wh: Warehouse, as_of: AsOf) -> FeatureTable:
    """Every generated feature of every customer at ``as_of`` (raw values: nothing dropped or log-transformed)."""
    day = as_of_date(as_of)
    ctx, built = _context(wh, day)
    frame, categorical = generated.compute(ctx, built)
    frame["as_of"] = frame["as_of"].dt.date
    return FeatureTable(frame, day, family_of(built), categorical)


def family_sql(wh: Warehouse, as_of: AsOf) -> dict[str, str]:
    """The SQL of each family's query at ``as_of`` (family name -> SQL), as this warehouse's engine runs it."""
    ctx, built = _context(wh, as_of_date(as_of))
    return {name: wh.sql(part.table) for name, part in built.items()}


def summary(table: FeatureTable) -> pd.DataFrame:
    """One row per feature: ``feature``, ``family``, ``group`` (features correlated above 0.65 share one, named
    after its most central member), ``kind`` (number or category), ``non_missing`` (share of customers with a
    value), ``mean`` (numbers) and ``top`` (the most frequent category)."""
    frame = table.frame
    numeric = tuple(c for c in table.features if c not in table.categorical)
    groups = correlation_groups(frame, informative(frame, numeric)) if len(frame) > 2 else {}
    rows = []
    for name in table.features:
        values = frame[name]
        is_cat = name in table.categorical
        present = values.ne("unknown") if is_cat else values.notna()
        rows.append({
            "feature": name, "family": table.family[name], "group": groups.get(name, "" if is_cat else name),
            "kind": "category" if is_cat else "number",
            "non_missing": float(present.mean()) if len(values) else float("nan"),
            "mean": float("nan") if is_cat or not present.any() else float(values.mean()),
            "top": str(values[present].mode().iloc[0]) if is_cat and present.any() else "",
        })
    return pd.DataFrame(rows, columns=["feature", "family", "group", "kind", "non_missing", "mean", "top"])
