"""Pareto / concentration: what share of revenue and profit the top customers bring.

Customers are ranked by revenue (and, separately, by profit) over a trailing window; the curve gives, for each
percentile of customers, the cumulative share of the total. With loss-making customers the profit curve rises
above 100 % before it falls back (the "whale curve").
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from retain.metrics.dimensions import count_if, safe_ratio
from retain.metrics.profitability import ProfitabilitySpec, profitability
from retain.warehouse import AsOf, Warehouse

CURVE_COLUMNS = ["customer_share", "customers", "revenue_share", "profit_share"]


def ranked(wh: Warehouse, as_of: AsOf, spec: ProfitabilitySpec | None = None) -> ir.Table:
    """Per customer: rank and cumulative shares by revenue and by profit."""
    p = profitability(wh, as_of, spec)
    p = p.filter((p.revenue != 0) | (p.profit != 0))
    everyone = ibis.window()
    n = p.count().over(everyone)
    by_rev = ibis.window(order_by=[ibis.desc(p.revenue), p.account_id], rows=(None, 0))
    by_profit = ibis.window(order_by=[ibis.desc(p.profit), p.account_id], rows=(None, 0))
    out = p.mutate(
        customers=n,
        revenue_rank=ibis.row_number().over(by_rev) + 1,
        profit_rank=ibis.row_number().over(by_profit) + 1,
        cum_revenue_share=safe_ratio(p.revenue.sum().over(by_rev), p.revenue.sum().over(everyone)),
        cum_profit_share=safe_ratio(p.profit.sum().over(by_profit), p.profit.sum().over(everyone)),
    )
    return out.select(
        "account_id", "revenue", "profit", "customers", "revenue_rank", "profit_rank",
        "cum_revenue_share", "cum_profit_share",
    )


def pareto_curve(wh: Warehouse, as_of: AsOf, spec: ProfitabilitySpec | None = None, points: int = 100) -> ir.Table:
    """The concentration curve at ``points`` customer percentiles (stored as ``pareto``).

    Each row is the cumulative share after the last customer of a percentile (ranked by revenue for
    ``revenue_share``, by profit for ``profit_share``).
    """
    r = ranked(wh, as_of, spec)

    def bucket(rank: ir.IntegerValue) -> ir.IntegerValue:
        return (rank * points / r.customers).ceil().cast("int64")

    def last_of_bucket(rank_col: str, share_col: str, name: str) -> ir.Table:
        rank = r[rank_col]
        last = (rank == r.customers) | (bucket(rank + 1) != bucket(rank))
        kept = r.filter(last)
        return kept.select(
            bucket=bucket(kept[rank_col]), customers=kept[rank_col], total=kept.customers, **{name: kept[share_col]},
        )

    rev = last_of_bucket("revenue_rank", "cum_revenue_share", "revenue_share")
    prof = last_of_bucket("profit_rank", "cum_profit_share", "profit_share").drop("customers", "total")
    joined = rev.left_join(prof, "bucket")
    return joined.select(
        customer_share=joined.customers.cast("float64") / joined.total,
        customers=joined.customers, revenue_share=joined.revenue_share, profit_share=joined.profit_share,
    ).order_by("customer_share")


def top_share(wh: Warehouse, as_of: AsOf, top: float = 0.2, spec: ProfitabilitySpec | None = None) -> ir.Table:
    """Share of revenue and of profit from the top ``top`` fraction of customers (rounded up to whole customers)."""
    r = ranked(wh, as_of, spec)
    cut = (r.customers * top).ceil()
    return r.aggregate(
        customers=r.customers.max(),
        top_customers=count_if(r.revenue_rank <= cut),
        top_revenue_share=safe_ratio(ibis.ifelse(r.revenue_rank <= cut, r.revenue, 0.0).sum(), r.revenue.sum()),
        top_profit_share=safe_ratio(ibis.ifelse(r.profit_rank <= cut, r.profit, 0.0).sum(), r.profit.sum()),
    )
