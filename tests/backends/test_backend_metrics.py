"""Retention, revenue, cohorts, survival inputs, products held, Pareto, profitability, RFM segments and churn
reasons: the same answers on DuckDB, PostgreSQL and Spark, hand-checked on the small data set."""

from __future__ import annotations

import pandas as pd
import pytest

from retain.metrics import cohorts as cohorts_mod
from retain.metrics.churn_reasons import churn_reasons
from retain.metrics.dimensions import Dimension
from retain.metrics.pareto import pareto_curve
from retain.metrics.periods import Grain
from retain.metrics.products_held import products_held
from retain.metrics.profitability import profitability
from retain.metrics.results import compute_results
from retain.metrics.retention import decomposition
from retain.metrics.revenue import account_revenue
from retain.metrics.rfm import rfm_segments
from retain.metrics.survival import lifetime_summary

DATA = ["small", "demo"]

EXPRESSIONS = {  # name -> (wh, DataSet) -> unexecuted Ibis expression
    "retention_by_channel": lambda wh, d: decomposition(wh, d.as_of, Grain.QUARTER, 4, Dimension.ACQUISITION_CHANNEL),
    "retention_monthly_by_product": lambda wh, d: decomposition(wh, d.as_of, Grain.MONTH, 6, Dimension.PRODUCT),
    "account_revenue": lambda wh, d: account_revenue(wh, d.as_of),
    "cohorts": lambda wh, d: cohorts_mod.cohorts(wh, d.as_of, 12),
    "survival_inputs": lambda wh, d: lifetime_summary(wh, d.as_of, Dimension.SEGMENT),
    "products_held": lambda wh, d: products_held(wh, d.as_of),
    "pareto": lambda wh, d: pareto_curve(wh, d.as_of),
    "profitability": lambda wh, d: profitability(wh, d.as_of),
    "rfm_segments": lambda wh, d: rfm_segments(wh, d.as_of),
    "churn_reasons": lambda wh, d: churn_reasons(wh, d.as_of, Grain.QUARTER, 4),
}


@pytest.mark.parametrize("dataset", DATA)
@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_metric_is_identical(same_as_duckdb, name, dataset):
    build = EXPRESSIONS[name]
    got = same_as_duckdb(name, dataset, lambda wh, d: wh.execute(build(wh, d)))
    if dataset == "demo":
        assert len(got), f"{name}: the demo slice should give rows"


def test_every_stored_metric_result_is_identical(same_as_duckdb):
    """``compute_results``: what ``retain run`` stores for the dashboard, every grain and dimension."""
    got = same_as_duckdb("compute_results", "demo", lambda wh, d: compute_results(wh, d.as_of))
    assert {"retention", "revenue_retention", "cohorts_logo", "survival", "pareto", "rfm_segments"} <= set(got)


def _row(frame: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column].astype(str).str.startswith(str(value))
    assert mask.sum() == 1, f"expected one row where {where}, got {int(mask.sum())}"
    return frame[mask].iloc[0]


def test_hand_checked_retention(backend):
    """Inbound accounts of the book (a, c, f), Q2 2024: a and c stay (a upgrades 100 -> 150), f churns (30)."""
    wh, d = backend["small"], "small"
    from backend_data import DATASETS

    frame = wh.execute(decomposition(wh, DATASETS[d].as_of, Grain.QUARTER, 4, Dimension.ACQUISITION_CHANNEL))
    q2 = _row(frame, dimension_value="inbound", period_start="2024-04-01")
    assert (q2.start, q2.churned, q2.retained, q2["end"]) == (3, 1, 2, 2)
    assert (q2.start_mrr, q2.expansion_mrr, q2.churned_mrr, q2.end_mrr) == pytest.approx((210, 50, 30, 230))
    q1 = _row(frame, dimension_value="inbound", period_start="2024-01-01")
    assert (q1.start, q1.reactivated, q1["end"]) == (2, 1, 3)  # c is back on 2024-03-10


def test_hand_checked_revenue(backend):
    """'a' bought for 200 in the window (100 + 50 + 30 + 20) in 4 transactions; 'd' once for 75."""
    from backend_data import SMALL

    frame = backend["small"].execute(account_revenue(backend["small"], SMALL.as_of)).set_index("account_id")
    assert frame.loc["a", "transaction_revenue"] == pytest.approx(200.0)
    assert frame.loc["a", "transactions"] == 4
    assert frame.loc["d", "transaction_revenue"] == pytest.approx(75.0)
