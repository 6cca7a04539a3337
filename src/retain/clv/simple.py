"""Simple CLV as businesses compute it: purchase frequency × average spend × expected lifetime − costs.

With a margin, a yearly retention rate r = 1 - churn and a yearly discount rate d, a customer worth
``value = margin × frequency × average spend - costs`` a year is worth Σ_{k<Y} value · r^k / (1+d)^k over Y years:
``value / (1 - r) = value × expected lifetime`` undiscounted and unbounded, ``value (1+d) / (1+d-r)`` discounted.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np

from retain.errors import ModelError
from retain.metrics.dimensions import count_if
from retain.warehouse import AsOf, Warehouse, as_of_date


def simple_clv(purchase_frequency, average_spend, churn_rate, *, margin: float = 1.0, costs=0.0,
               discount_rate: float = 0.0, horizon_years: float | None = None):
    """Value of a customer: yearly ``purchase_frequency`` × ``average_spend`` × ``margin`` − yearly ``costs``,
    kept with probability 1 − ``churn_rate`` each year, discounted yearly; over ``horizon_years`` if given.

    Vectorised over numpy arrays. Undiscounted and without a horizon it is value × expected lifetime (1/churn).
    """
    churn = np.asarray(churn_rate, dtype=float)
    if np.any((churn < 0) | (churn > 1)):
        raise ModelError("churn_rate must be between 0 and 1", hint="a yearly share of customers lost, e.g. 0.2")
    if discount_rate < 0:
        raise ModelError("discount_rate must be >= 0", hint="e.g. 0.10 for 10% a year")
    value = np.asarray(purchase_frequency, float) * np.asarray(average_spend, float) * margin - np.asarray(costs)
    keep = (1 - churn) / (1 + discount_rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        if horizon_years is None:
            factor = 1 / (1 - keep)
        else:
            factor = np.where(keep == 1, horizon_years, (1 - keep**horizon_years) / (1 - keep))
    return value * factor


def expected_lifetime_years(churn_rate) -> np.ndarray:
    """Expected customer lifetime, in years, for a constant yearly churn rate: 1 / churn."""
    churn = np.asarray(churn_rate, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(churn > 0, 1 / churn, np.inf)


def yearly_inputs(wh: Warehouse, as_of: AsOf) -> ir.Table:
    """Per account, from data known at ``as_of``: yearly revenue (ARR of active subscriptions + transactions of
    the last 365 days), ``purchase_frequency`` (transactions in the last 365 days; 1 a year for a subscription),
    ``average_spend`` (revenue / purchases), ``active`` (a subscription running, or a purchase in the year), and
    the one-off part alone: ``tx_count`` and ``tx_revenue`` of the last 365 days."""
    day = as_of_date(as_of)
    year_ago = ibis.literal(day - dt.timedelta(days=365), type="date")
    subs = wh.as_of("subscriptions", day)
    running = subs.ended_on.isnull() | (subs.ended_on > ibis.literal(day, type="date"))
    arr = subs.group_by("account_id").aggregate(arr=(subs.mrr * 12).sum(where=running),
                                                subscribed=count_if(running))
    tx = wh.as_of("transactions", day)
    recent = tx.occurred_at.cast("date") > year_ago
    spend = tx.group_by("account_id").aggregate(tx_revenue=tx.amount.sum(where=recent),
                                                tx_count=count_if(recent))
    both = arr.outer_join(spend, "account_id")
    both = both.select(
        account_id=ibis.coalesce(both.account_id, both.account_id_right),
        arr=both.arr.fill_null(0.0), subscribed=both.subscribed.fill_null(0),
        tx_revenue=both.tx_revenue.fill_null(0.0), tx_count=both.tx_count.fill_null(0),
    )
    purchases = both.tx_count + ibis.ifelse(both.subscribed > 0, 1, 0)
    revenue = both.arr + both.tx_revenue
    return both.select(
        "account_id",
        yearly_revenue=revenue,
        purchase_frequency=purchases.cast("float64"),
        average_spend=ibis.ifelse(purchases > 0, revenue / purchases.cast("float64"), 0.0),
        active=(both.subscribed > 0) | (both.tx_count > 0),
        tx_count="tx_count",
        tx_revenue="tx_revenue",
    )


def yearly_churn_rate(wh: Warehouse, as_of: AsOf) -> ir.Scalar:
    """Share of the accounts active a year before ``as_of`` that are no longer active at ``as_of``."""
    day = as_of_date(as_of)
    before = yearly_inputs(wh, day - dt.timedelta(days=365)).filter(lambda t: t.active).select("account_id")
    now = yearly_inputs(wh, day).filter(lambda t: t.active).select("account_id", still=ibis.literal(1))
    joined = before.left_join(now, "account_id")
    return (1 - joined.still.count().cast("float64") / joined.count().nullif(0).cast("float64")).fill_null(0.0)
