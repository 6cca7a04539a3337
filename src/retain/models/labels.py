"""Point-in-time outcome labels: what happened to each customer in the days after ``as_of``.

A label looks into the future on purpose; it reads the warehouse as known at ``as_of + horizon`` and never
later, so a label for ``as_of`` is final once ``as_of + horizon`` has passed. Features (``features.py``) read
only ``wh.as_of(..., as_of)``; keeping the two apart is what makes the training data leak-free.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from retain.warehouse import AsOf, Warehouse, as_of_date

CHURN_DAYS = 90
RENEWAL_DAYS = 90
EXPANSION_DAYS = 180


def running_subscriptions(wh: Warehouse, day: AsOf, *, known_at: AsOf | None = None) -> ir.Table:
    """Subscription periods in service on ``day``, as the warehouse knew them at ``known_at`` (default ``day``)."""
    on = as_of_date(day)
    subs = wh.as_of("subscriptions", known_at if known_at is not None else on)
    lit = ibis.literal(on, type="date")
    return subs.filter((subs.started_on <= lit) & (subs.ended_on.isnull() | (subs.ended_on > lit)))


def customers(wh: Warehouse, as_of: AsOf) -> ir.Table:
    """Accounts with at least one subscription in service at ``as_of``: one row per ``account_id``, with MRR."""
    subs = running_subscriptions(wh, as_of)
    return subs.group_by("account_id").aggregate(mrr=subs.mrr.sum(), products=subs.product_id.nunique())


def _holdings(wh: Warehouse, day: dt.date) -> ir.Table:
    subs = running_subscriptions(wh, day)
    return subs.group_by("account_id").aggregate(mrr_after=subs.mrr.sum())


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1/0 of a condition as int8. Not ``condition.cast("int8")``: PostgreSQL casts a boolean only to ``int``."""
    return ibis.ifelse(condition, 1, 0).cast("int8")


def churn_labels(wh: Warehouse, as_of: AsOf, horizon_days: int = CHURN_DAYS) -> ir.Table:
    """``churned`` = a customer at ``as_of`` with no subscription in service at ``as_of + horizon``."""
    day = as_of_date(as_of)
    base = customers(wh, day).select("account_id")
    later = _holdings(wh, day + dt.timedelta(days=horizon_days))
    joined = base.left_join(later, base.account_id == later.account_id).select(base, later.mrr_after)
    return joined.select("account_id", churned=_flag(joined.mrr_after.isnull()))


def renewal_labels(wh: Warehouse, as_of: AsOf, horizon_days: int = RENEWAL_DAYS) -> ir.Table:
    """Customers with a contract ending within the window; ``renewed`` = still a customer at its end."""
    day = as_of_date(as_of)
    end = day + dt.timedelta(days=horizon_days)
    subs = running_subscriptions(wh, day)
    due = subs.filter(
        (subs.term_end_on > ibis.literal(day, type="date")) & (subs.term_end_on <= ibis.literal(end, type="date"))
    )
    base = due.select("account_id").distinct()
    later = _holdings(wh, end)
    joined = base.left_join(later, base.account_id == later.account_id).select(base, later.mrr_after)
    return joined.select("account_id", renewed=_flag(joined.mrr_after.notnull()))


def expansion_labels(wh: Warehouse, as_of: AsOf, horizon_days: int = EXPANSION_DAYS) -> ir.Table:
    """``expanded`` = MRR higher at ``as_of + horizon`` or a product held then that was not held at ``as_of``.

    Also gives ``new_product`` (a product not held at ``as_of`` was bought within the window).
    """
    day = as_of_date(as_of)
    end = day + dt.timedelta(days=horizon_days)
    now = running_subscriptions(wh, day)
    base = now.group_by("account_id").aggregate(mrr_now=now.mrr.sum())
    held_now = now.select("account_id", "product_id").distinct()
    # Any product started within the window (even if later dropped) counts as a purchase.
    known = wh.as_of("subscriptions", end)
    started = known.filter(
        (known.started_on > ibis.literal(day, type="date")) & (known.started_on <= ibis.literal(end, type="date"))
    ).select("account_id", "product_id").distinct()
    fresh = started.anti_join(held_now, ["account_id", "product_id"])
    fresh_by_account = fresh.group_by("account_id").aggregate(new_products=fresh.product_id.count())
    later = _holdings(wh, end)
    joined = base.left_join(later, base.account_id == later.account_id).select(base, later.mrr_after)
    joined = joined.left_join(fresh_by_account, joined.account_id == fresh_by_account.account_id).select(
        joined, fresh_by_account.new_products
    )
    new_product = joined.new_products.fill_null(0) > 0
    grew = joined.mrr_after.fill_null(0) > joined.mrr_now + 0.005
    return joined.select(
        "account_id",
        expanded=_flag(grew | new_product),
        new_product=_flag(new_product),
    )


def outcome_labels(wh: Warehouse, as_of: AsOf) -> ir.Table:
    """Every label of the customers at ``as_of`` in one table (renewal is null where no contract was due)."""
    churn = churn_labels(wh, as_of)
    exp = expansion_labels(wh, as_of)
    ren = renewal_labels(wh, as_of)
    joined = churn.left_join(exp, churn.account_id == exp.account_id).select(churn, exp.expanded, exp.new_product)
    return joined.left_join(ren, joined.account_id == ren.account_id).select(joined, ren.renewed)
