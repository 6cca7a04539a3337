"""Revenue each account brought in a trailing window: subscription MRR received plus one-off transactions.

Contract businesses earn through subscriptions (MRR × the part of the window each period was in service,
``12 / 365.25`` months per day); non-contract ones through ``transactions``. Both are summed, so the same metrics
(Pareto, profitability, RFM) serve either kind of business.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from retain.metrics.dimensions import subscriptions
from retain.metrics.periods import window_start
from retain.warehouse import AsOf, Warehouse, as_of_date

MONTHS_PER_DAY = 12 / 365.25


def subscription_revenue(wh: Warehouse, as_of: AsOf, months: int = 12) -> ir.Table:
    """Per account: ``subscription_revenue`` and ``subscription_discounts`` received in the window."""
    day = as_of_date(as_of)
    start = ibis.literal(window_start(day, months), type="date")
    stop = ibis.literal(day + dt.timedelta(days=1), type="date")
    subs = subscriptions(wh, day)
    lo = ibis.greatest(subs.started_on, start)
    hi = ibis.least(subs.ended_on.fill_null(stop), stop)
    served = subs.mutate(_months=ibis.greatest(hi.delta(lo, unit="day"), 0).cast("float64") * MONTHS_PER_DAY)
    return served.group_by("account_id").aggregate(
        subscription_revenue=(served.mrr * served._months).sum(),
        subscription_discounts=(served.discount_amount * served._months).sum(),
    )


def transaction_revenue(wh: Warehouse, as_of: AsOf, months: int = 12) -> ir.Table:
    """Per account: transaction ``amount``, discounts, costs and count in the window."""
    day = as_of_date(as_of)
    t = wh.as_of("transactions", day)
    t = t.filter(t.occurred_at.date() >= ibis.literal(window_start(day, months), type="date"))
    return t.group_by("account_id").aggregate(
        transaction_revenue=t.amount.fill_null(0.0).sum(),
        transaction_discounts=t.discount_amount.fill_null(0.0).sum(),
        transaction_costs=t.cost_amount.fill_null(0.0).sum(),
        transactions=t.count(),
    )


def account_revenue(wh: Warehouse, as_of: AsOf, months: int = 12) -> ir.Table:
    """Per account with any revenue in the window: subscription + transaction revenue, discounts and costs."""
    subs = subscription_revenue(wh, as_of, months)
    trans = transaction_revenue(wh, as_of, months)
    joined = subs.outer_join(trans, subs.account_id == trans.account_id)
    out = joined.select(
        account_id=ibis.coalesce(joined.account_id, joined.account_id_right),
        subscription_revenue=joined.subscription_revenue.fill_null(0.0),
        transaction_revenue=joined.transaction_revenue.fill_null(0.0),
        discounts=joined.subscription_discounts.fill_null(0.0) + joined.transaction_discounts.fill_null(0.0),
        transaction_costs=joined.transaction_costs.fill_null(0.0),
        transactions=joined.transactions.fill_null(0),
    )
    return out.mutate(revenue=out.subscription_revenue + out.transaction_revenue)
