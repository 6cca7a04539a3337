"""Products held vs retention: does holding more products go with staying longer?

Take every account that was a customer at the close of ``start_day`` (``horizon_months`` before ``as_of``), count
the distinct products it held then and its tenure then, and check whether it is still a customer at ``as_of``.
Longer-tenured accounts both hold more products and churn less, so the table is given per tenure band too: compare
rows within a band for a fair test of "3–5 products make customers sticky".
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from retain.metrics.dimensions import active_on, count_if, first_started, safe_ratio, subscriptions
from retain.metrics.periods import shift_months
from retain.warehouse import AsOf, Warehouse, as_of_date

ALL_TENURES = "all"
# (upper bound in months, label); the last band is open-ended
TENURE_BANDS = ((12, "0-1y"), (24, "1-2y"), (36, "2-3y"))
OLDEST_BAND = "3y+"
COLUMNS = ["tenure_band", "products_held", "accounts", "retained", "churned", "retention", "start_mrr", "end_mrr",
           "net_revenue_retention", "horizon_months"]


def account_products(
    wh: Warehouse, as_of: AsOf, horizon_months: int = 12, max_products: int = 5, *, include_trials: bool = False,
) -> ir.Table:
    """Per account customer at the start of the horizon: products held and tenure then, retained at ``as_of``.

    Only paying holdings count (trial periods are left out unless ``include_trials``), so an account on a trial
    of a second product holds one product, and an account with only trials is not a customer.
    """
    day = as_of_date(as_of)
    start = ibis.literal(shift_months(day, -horizon_months), type="date")
    end = ibis.literal(day, type="date")
    subs = subscriptions(wh, day, include_trials=include_trials)
    at_start = active_on(subs.started_on, subs.ended_on, start)
    at_end = active_on(subs.started_on, subs.ended_on, end)
    per = subs.group_by("account_id").aggregate(
        products=subs.product_id.nunique(where=at_start),
        start_mrr=ibis.ifelse(at_start, subs.mrr, 0.0).sum(),
        end_mrr=ibis.ifelse(at_end, subs.mrr, 0.0).sum(),
        retained=at_end.any(),
    )
    per = per.filter(per.products > 0).join(first_started(subs, ["account_id"]), "account_id")
    tenure = start.delta(per.first_started_on, unit="day").cast("float64") / (365.25 / 12)
    band = ibis.cases(*[(tenure < upper, label) for upper, label in TENURE_BANDS], else_=OLDEST_BAND)
    return per.mutate(
        products_held=ibis.least(per.products, max_products).cast("int64"), tenure_months=tenure, tenure_band=band,
    )


def products_held(
    wh: Warehouse, as_of: AsOf, horizon_months: int = 12, max_products: int = 5, *, include_trials: bool = False,
) -> ir.Table:
    """Retention by number of products held, overall and per tenure band (stored as ``products_held``).

    ``products_held`` is capped at ``max_products`` (that row means "that many or more").
    """
    a = account_products(wh, as_of, horizon_months, max_products, include_trials=include_trials)

    def summarise(t: ir.Table, band: ir.StringValue) -> ir.Table:
        t = t.mutate(tenure_band=band)
        out = t.group_by(["tenure_band", "products_held"]).aggregate(
            accounts=t.count(), retained=count_if(t.retained),
            start_mrr=t.start_mrr.sum(), end_mrr=t.end_mrr.sum(),
        )
        return out.mutate(
            churned=out.accounts - out.retained,
            retention=safe_ratio(out.retained, out.accounts),
            net_revenue_retention=safe_ratio(out.end_mrr, out.start_mrr),
            horizon_months=ibis.literal(horizon_months, type="int64"),
        ).select(*COLUMNS)

    both = summarise(a, ibis.literal(ALL_TENURES)).union(summarise(a, a.tenure_band))
    return both.order_by(["tenure_band", "products_held"])
