"""The metric results stored per ``as_of`` for the dashboard, and the registry behind ``retain sql METRIC``.

Names and columns are documented in docs/metrics.md (the web dashboard reads them with ``wh.result(name, as_of)``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir
import pandas as pd

from retain.errors import RetainError
from retain.metrics import cohorts as cohorts_mod
from retain.metrics.churn_reasons import churn_reasons
from retain.metrics.dimensions import Dimension
from retain.metrics.pareto import pareto_curve
from retain.metrics.periods import Grain
from retain.metrics.products_held import products_held
from retain.metrics.profitability import ProfitabilitySpec, profitability
from retain.metrics.retention import LOGO_COLUMNS, REVENUE_COLUMNS, decomposition, decomposition_many
from retain.metrics.rfm import RFMSpec, rfm_segments
from retain.metrics.survival import lifetime_summary, survival
from retain.warehouse import AsOf, Warehouse, as_of_date

# grain -> periods stored for the dashboard
STORED_GRAINS = {Grain.MONTH: 12, Grain.QUARTER: 8, Grain.YEAR: 3}
STORED_DIMENSIONS = (Dimension.ALL, Dimension.SEGMENT, Dimension.REGION, Dimension.ACQUISITION_CHANNEL,
                     Dimension.PRODUCT)
STORED_NAMES = ("retention", "revenue_retention", "cohorts_logo", "cohorts_revenue", "survival", "products_held",
                "pareto", "profitability", "churn_reasons", "rfm_segments")
COHORT_KEYS = ["dimension", "dimension_value", "cohort", "cohort_start", "months_since_start", "month_start",
               "complete", "accounts"]


@dataclass(frozen=True)
class MetricQuery:
    """A metric whose SQL ``retain sql`` can print: builds the Ibis expression for (wh, as_of, grain, by)."""

    name: str
    description: str
    build: Callable[[Warehouse, dt.date, Grain, Dimension], ir.Table]


QUERIES: dict[str, MetricQuery] = {q.name: q for q in (
    MetricQuery("retention", "logo and revenue decomposition per period",
                lambda wh, d, g, by: decomposition(wh, d, g, 4, by)),
    MetricQuery("cohorts", "monthly signup cohorts x months since start",
                lambda wh, d, g, by: cohorts_mod.cohorts(wh, d, 24, by)),
    MetricQuery("survival", "lifetime summary the Kaplan-Meier estimator runs on",
                lambda wh, d, g, by: lifetime_summary(wh, d, by)),
    MetricQuery("products_held", "retention by products held and tenure band",
                lambda wh, d, g, by: products_held(wh, d)),
    MetricQuery("pareto", "concentration curve of revenue and profit", lambda wh, d, g, by: pareto_curve(wh, d)),
    MetricQuery("profitability", "revenue - cost to serve per account", lambda wh, d, g, by: profitability(wh, d)),
    MetricQuery("churn_reasons", "churned accounts and MRR lost by reason and period",
                lambda wh, d, g, by: churn_reasons(wh, d, g, 4, by)),
    MetricQuery("rfm", "RFM segments", lambda wh, d, g, by: rfm_segments(wh, d)),
)}


def metric_query(name: str) -> MetricQuery:
    key = name.lower().replace("-", "_")
    aliases = {"revenue_retention": "retention", "rfm_segments": "rfm", "cohorts_logo": "cohorts",
               "cohorts_revenue": "cohorts"}
    try:
        return QUERIES[aliases.get(key, key)]
    except KeyError:
        raise RetainError(f"unknown metric '{name}'", hint=f"choose one of: {', '.join(QUERIES)}") from None


def retention_results(wh: Warehouse, as_of: AsOf) -> pd.DataFrame:
    """Decomposition for every stored grain and dimension, with a ``grain`` column."""
    return wh.execute(decomposition_many(wh, as_of, STORED_GRAINS, STORED_DIMENSIONS))


def compute_results(
    wh: Warehouse, as_of: AsOf, *, profit_spec: ProfitabilitySpec | None = None, rfm_spec: RFMSpec | None = None,
) -> dict[str, pd.DataFrame]:
    """Every stored result as of ``as_of``, keyed by its stored name."""
    day = as_of_date(as_of)
    decomp = retention_results(wh, day)
    cohort = wh.execute(cohorts_mod.cohorts(wh, day))
    curves = pd.concat([survival(wh, day, by) for by in (Dimension.ALL, Dimension.SEGMENT)], ignore_index=True)
    return {
        "retention": decomp[["grain", *LOGO_COLUMNS]],
        "revenue_retention": decomp[["grain", *REVENUE_COLUMNS]],
        "cohorts_logo": cohort[[*COHORT_KEYS, "active", "logo_retention"]],
        "cohorts_revenue": cohort[[*COHORT_KEYS, "start_mrr", "mrr", "revenue_retention"]],
        "survival": curves,
        "products_held": wh.execute(products_held(wh, day)),
        "pareto": wh.execute(pareto_curve(wh, day, profit_spec)),
        "profitability": wh.execute(profitability(wh, day, profit_spec)),
        "churn_reasons": wh.execute(churn_reasons(wh, day, Grain.QUARTER, 8)),
        "rfm_segments": wh.execute(rfm_segments(wh, day, rfm_spec)),
    }


def store_results(wh: Warehouse, as_of: AsOf, results: dict[str, pd.DataFrame] | None = None) -> dict[str, int]:
    """Compute (unless given) and store every result for ``as_of``; returns rows stored per name.

    An empty result (no data yet) is not stored: its column types are unknown.
    """
    results = results if results is not None else compute_results(wh, as_of)
    for name, frame in results.items():
        if not frame.empty:
            wh.store_result(name, frame, as_of)
    return {name: len(frame) for name, frame in results.items()}
