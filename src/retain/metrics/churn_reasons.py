"""Churn reasons: how many accounts left for each reason, the revenue lost with them, and the trend by period.

A churn is the end of a customer spell (the account held no subscription from ``churned_on``); its reason is the
``cancel_reason`` of the period(s) ending then, ``unknown`` when none was recorded. Unlike the retention
decomposition, accounts that joined and left inside one period (``came_and_went`` there) are counted here too.
``complete`` is false for the running period (counted up to ``as_of`` only).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from retain.errors import RetainError
from retain.metrics.dimensions import (
    By,
    Dimension,
    attach_dimension,
    period_label_expr,
    resolve_dimension,
    safe_ratio,
)
from retain.metrics.periods import Grain, parse_grain, period_frame
from retain.metrics.spells import churn_events
from retain.warehouse import AsOf, Warehouse

COLUMNS = [
    "period", "period_start", "complete", "dimension", "dimension_value", "cancel_reason",
    "churned", "mrr_lost", "arr_lost", "share_of_churned", "share_of_mrr_lost",
]


def churn_reasons(
    wh: Warehouse, as_of: AsOf, grain: Grain | str = Grain.QUARTER, periods: int = 4,
    by: str | By | None = None,
) -> ir.Table:
    """Churned accounts and MRR lost per period and reason (stored as ``churn_reasons``)."""
    g, dim = parse_grain(grain), resolve_dimension(wh, as_of, by)
    frame = period_frame(as_of, g, periods)
    first = frame["period_start"].iloc[0]
    e = churn_events(wh, as_of)
    # a churn on day d (the first day without service) belongs to the period containing d, as in the retention
    # decomposition: the account was a customer at that period's open and is not at its close
    e = e.filter(e.churned_on >= ibis.literal(first, type="date"))
    e = e.mutate(period=period_label_expr(e.churned_on, g), period_start=e.churned_on.truncate(_unit(g)),
                 first_started_on=e.spell_start)
    running = [ibis.literal(d, type="date") for d in frame.loc[~frame["complete"], "period_start"]]
    e = e.mutate(complete=~e.period_start.isin(running) if running else ibis.literal(True))
    if dim is Dimension.PRODUCT:
        raise RetainError("churn reasons are of accounts, not products", hint="use --by segment, region, owner...")
    e = attach_dimension(e, wh, as_of, dim, grain=g)
    keys = ["period", "period_start", "complete", "dimension", "dimension_value"]
    agg = e.group_by([*keys, "cancel_reason"]).aggregate(churned=e.count(), mrr_lost=e.mrr_lost.sum())
    total = ibis.window(group_by=keys)
    out = agg.mutate(
        arr_lost=agg.mrr_lost * 12.0,
        share_of_churned=safe_ratio(agg.churned, agg.churned.sum().over(total)),
        share_of_mrr_lost=safe_ratio(agg.mrr_lost, agg.mrr_lost.sum().over(total)),
    )
    return out.select(*COLUMNS).order_by(["dimension_value", "period_start", ibis.desc("churned"), "cancel_reason"])


def reason_totals(
    wh: Warehouse, as_of: AsOf, grain: Grain | str = Grain.QUARTER, periods: int = 4,
    by: str | By | None = None,
) -> ir.Table:
    """Per reason over all the periods: churned, MRR lost and shares."""
    r = churn_reasons(wh, as_of, grain, periods, by)
    agg = r.group_by(["dimension", "dimension_value", "cancel_reason"]).aggregate(
        churned=r.churned.sum(), mrr_lost=r.mrr_lost.sum(),
    )
    total = ibis.window(group_by=["dimension", "dimension_value"])
    return agg.mutate(
        arr_lost=agg.mrr_lost * 12.0,
        share_of_churned=safe_ratio(agg.churned, agg.churned.sum().over(total)),
        share_of_mrr_lost=safe_ratio(agg.mrr_lost, agg.mrr_lost.sum().over(total)),
    ).order_by(["dimension_value", ibis.desc("churned"), "cancel_reason"])


def _unit(g: Grain) -> str:
    return {Grain.MONTH: "M", Grain.QUARTER: "Q", Grain.YEAR: "Y"}[g]
