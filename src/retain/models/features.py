"""Point-in-time features of every customer at ``as_of``, from every table, as one Ibis expression.

Every block reads ``wh.as_of(table, as_of)`` only, so a row dated after ``as_of`` (or a value revealed after it)
can never change a feature: the leakage test in ``tests/unit/models/test_leakage.py`` checks exactly that.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from retain.models.labels import customers, running_subscriptions
from retain.warehouse import AsOf, Warehouse, as_of_date

# Numeric features fed to the models, with the phrase a reason code uses when the feature pushes risk up
# ("high") or down ("low"). Categorical features are listed apart.
FEATURES: dict[str, tuple[str, str]] = {
    "arr": ("large contract", "small contract"),
    "products_held": ("holds many products", "holds few products"),
    "licences": ("many licences", "few licences"),
    "tenure_days": ("long-standing customer", "new customer"),
    "days_to_renewal": ("renewal far away", "renewal coming up soon"),
    "mrr_change_90d": ("MRR grew in the last 90 days", "MRR shrank in the last 90 days"),
    "discount_share": ("heavily discounted", "little discount"),
    "users_30d": ("many active users", "few active users"),
    "users_90d": ("many active users over 90 days", "few active users over 90 days"),
    "usage_trend": ("usage rising (30 vs 90 days)", "usage falling (30 vs 90 days)"),
    "utilisation": ("licences well used", "licences under-used"),
    "events_per_user_30d": ("deep use per user", "shallow use per user"),
    "feature_breadth_30d": ("uses many features", "uses few features"),
    "days_since_usage": ("no product use for a while", "used the product recently"),
    "tickets_90d": ("many support tickets", "few support tickets"),
    "urgent_tickets_90d": ("high-priority tickets", "no high-priority tickets"),
    "open_tickets": ("tickets still open", "no open tickets"),
    "escalations_90d": ("escalated tickets", "no escalations"),
    "last_nps": ("high last NPS", "low last NPS"),
    "min_survey_180d": ("good recent survey scores", "a bad recent survey score"),
    "avg_csat_180d": ("good CSAT", "poor CSAT"),
    "days_since_survey": ("no survey for a while", "recent survey"),
    "overdue_invoices": ("overdue invoices", "invoices paid on time"),
    "max_days_overdue": ("long-overdue payment", "no overdue payment"),
    "activities_90d": ("many touchpoints", "few touchpoints"),
    "days_since_exec_meeting": ("no executive meeting for long", "recent executive meeting"),
    "days_since_activity": ("no contact for a while", "recent contact"),
    "champions_left_180d": ("a champion left", "champions stayed"),
    "contacts": ("many contacts", "few contacts"),
    "open_addon_opps": ("open add-on deal", "no open add-on deal"),
}
CATEGORICAL: tuple[str, ...] = ("segment",)
FEATURE_COLUMNS: tuple[str, ...] = tuple(FEATURES) + CATEGORICAL


def _lit(day: dt.date) -> ir.DateScalar:
    return ibis.literal(day, type="date")


def _days_since(day: dt.date, column: ir.Column) -> ir.IntegerColumn:
    return _lit(day).delta(column, unit="day")


def _contract(wh: Warehouse, day: dt.date) -> ir.Table:
    subs = running_subscriptions(wh, day)
    known = wh.as_of("subscriptions", day)
    lit = _lit(day)
    future_term = ibis.ifelse(subs.term_end_on >= lit, subs.term_end_on, ibis.null("date"))
    now = subs.group_by("account_id").aggregate(
        arr=subs.mrr.sum() * 12,
        products_held=subs.product_id.nunique(),
        licences=subs.quantity.sum(),
        next_term_end=future_term.min(),
        discount=subs.discount_amount.fill_null(0).sum(),
        mrr_now=subs.mrr.sum(),
    )
    first = known.group_by("account_id").aggregate(first_start=known.started_on.min())
    before = running_subscriptions(wh, day - dt.timedelta(days=90), known_at=day)
    past = before.group_by("account_id").aggregate(mrr_before=before.mrr.sum())
    j = _attach(_attach(now, first), past)
    return j.select(
        "account_id",
        "arr",
        "products_held",
        licences=j.licences.cast("float64"),
        tenure_days=_days_since(day, j.first_start).cast("float64"),
        days_to_renewal=j.next_term_end.delta(lit, unit="day").cast("float64"),
        mrr_change_90d=(j.mrr_now - j.mrr_before.fill_null(0)) / ibis.greatest(j.mrr_before.fill_null(0), 1.0),
        discount_share=j.discount / ibis.greatest(j.mrr_now + j.discount, 1.0),
    )


def _usage(wh: Warehouse, day: dt.date) -> ir.Table:
    u = wh.as_of("usage", day)
    u = u.filter(u.usage_on > _lit(day - dt.timedelta(days=90)))
    is_all = u.feature == "all"
    daily = u.group_by(["account_id", "usage_on"]).aggregate(
        users=u.active_users.max(),
        events_all=ibis.ifelse(is_all, u.events, 0.0).sum(),
        events_feat=ibis.ifelse(is_all, 0.0, u.events).sum(),
    )
    daily = daily.mutate(events=ibis.greatest(daily.events_all, daily.events_feat))
    recent = daily.usage_on > _lit(day - dt.timedelta(days=30))
    per = daily.group_by("account_id").aggregate(
        users_30d=ibis.ifelse(recent, daily.users, 0).sum() / 30.0,
        users_90d=daily.users.sum() / 90.0,
        events_30d=ibis.ifelse(recent, daily.events, 0.0).sum() / 30.0,
        last_use=ibis.ifelse(daily.users > 0, daily.usage_on, ibis.null("date")).max(),
    )
    feats = u.filter((u.feature != "all") & (u.usage_on > _lit(day - dt.timedelta(days=30))) & (u.events > 0))
    breadth = feats.group_by("account_id").aggregate(feature_breadth_30d=feats.feature.nunique().cast("float64"))
    j = _attach(per, breadth)
    return j.select(
        "account_id",
        "users_30d",
        "users_90d",
        usage_trend=j.users_30d / ibis.greatest(j.users_90d, 0.01),
        events_per_user_30d=j.events_30d / ibis.greatest(j.users_30d, 0.01),
        feature_breadth_30d=j.feature_breadth_30d.fill_null(0),
        days_since_usage=_days_since(day, j.last_use).cast("float64"),
    )


def _tickets(wh: Warehouse, day: dt.date) -> ir.Table:
    t = wh.as_of("support_tickets", day)
    recent = t.opened_at.date() > _lit(day - dt.timedelta(days=90))
    urgent = t.priority.isin(["high", "urgent"])
    return t.group_by("account_id").aggregate(
        tickets_90d=ibis.ifelse(recent, 1, 0).sum().cast("float64"),
        urgent_tickets_90d=ibis.ifelse(recent & urgent, 1, 0).sum().cast("float64"),
        open_tickets=ibis.ifelse(t.resolved_at.isnull(), 1, 0).sum().cast("float64"),
        escalations_90d=ibis.ifelse(recent & t.escalated.fill_null(False), 1, 0).sum().cast("float64"),
    )


def _surveys(wh: Warehouse, day: dt.date) -> ir.Table:
    s = wh.as_of("survey_responses", day)
    s = s.mutate(on=s.responded_at.date())
    recent = s.on > _lit(day - dt.timedelta(days=180))
    nps = s.filter(s.survey_type == "nps")
    last_nps = nps.group_by("account_id").aggregate(
        last_nps=nps.score.argmax(nps.responded_at).cast("float64")
    )
    # Put every survey on a 0-10 scale so one "worst recent score" spans NPS, CSAT (1-5) and CES (1-7).
    scaled = ibis.cases(
        (s.survey_type == "csat", (s.score - 1) * 2.5),
        (s.survey_type == "ces", (7 - s.score) * 10.0 / 6.0),  # CES: low effort (1) is good
        else_=s.score.cast("float64"),
    )
    agg = s.group_by("account_id").aggregate(
        min_survey_180d=ibis.ifelse(recent, scaled, ibis.null("float64")).min(),
        avg_csat_180d=ibis.ifelse(recent & (s.survey_type == "csat"), s.score, ibis.null("int64")).mean(),
        last_survey=s.on.max(),
    )
    j = _attach(agg, last_nps)
    return j.select(
        "account_id", "last_nps", "min_survey_180d", "avg_csat_180d",
        days_since_survey=_days_since(day, j.last_survey).cast("float64"),
    )


def _billing(wh: Warehouse, day: dt.date) -> ir.Table:
    inv = wh.as_of("invoices", day)
    late = inv.filter(
        (inv.due_on < _lit(day)) & inv.paid_on.isnull() & ~inv.status.fill_null("open").isin(["void", "uncollectible"])
    )
    return late.group_by("account_id").aggregate(
        overdue_invoices=late.count().cast("float64"),
        max_days_overdue=_days_since(day, late.due_on).max().cast("float64"),
    )


def _relationship(wh: Warehouse, day: dt.date) -> tuple[ir.Table, ...]:
    a = wh.as_of("activities", day)
    a = a.filter(a.account_id.notnull()).mutate(on=a.occurred_at.date())
    exec_types = ["executive_meeting", "qbr"]
    acts = a.group_by("account_id").aggregate(
        activities_90d=ibis.ifelse(a.on > _lit(day - dt.timedelta(days=90)), 1, 0).sum().cast("float64"),
        last_exec=ibis.ifelse(a.activity_type.isin(exec_types), a.on, ibis.null("date")).max(),
        last_activity=a.on.max(),
    )
    acts = acts.select(
        "account_id", "activities_90d",
        days_since_exec_meeting=_days_since(day, acts.last_exec).cast("float64"),
        days_since_activity=_days_since(day, acts.last_activity).cast("float64"),
    )
    c = wh.as_of("contacts", day)
    gone = c.left_at.notnull()
    left_recently = gone & (c.left_at.date() > _lit(day - dt.timedelta(days=180)))
    key_role = c.role.isin(["champion", "decision_maker", "executive_sponsor"])
    people = c.group_by("account_id").aggregate(
        champions_left_180d=ibis.ifelse(left_recently & key_role, 1, 0).sum().cast("float64"),
        contacts=ibis.ifelse(gone, 0, 1).sum().cast("float64"),
    )
    o = wh.as_of("opportunities", day)
    o = o.filter((o.opportunity_type == "add_on") & o.closed_at.isnull() & o.account_id.notnull())
    opps = o.group_by("account_id").aggregate(open_addon_opps=o.count().cast("float64"))
    return acts, people, opps


# Counts that are zero (not unknown) when an account has no row in the source table.
_ZERO_WHEN_ABSENT = (
    "users_30d", "users_90d", "feature_breadth_30d", "tickets_90d", "urgent_tickets_90d", "open_tickets",
    "escalations_90d", "overdue_invoices", "activities_90d", "champions_left_180d", "contacts", "open_addon_opps",
)


def _attach(left: ir.Table, right: ir.Table) -> ir.Table:
    """``left`` with the columns of ``right`` (one row per ``account_id``) joined on."""
    extra = [right[c] for c in right.columns if c != "account_id"]
    return left.left_join(right, left.account_id == right.account_id).select(left, *extra)


def account_features(wh: Warehouse, as_of: AsOf) -> ir.Table:
    """One row per customer at ``as_of`` (``account_id``, every column of :data:`FEATURE_COLUMNS`)."""
    day = as_of_date(as_of)
    base = customers(wh, day).select("account_id")
    acc = wh.as_of("accounts", day).select("account_id", segment=ibis._.segment.fill_null("unknown"))
    expr = _attach(base, acc)
    for block in (_contract, _usage, _tickets, _surveys, _billing, _relationship):
        parts = block(wh, day)
        for part in parts if isinstance(parts, tuple) else (parts,):
            expr = _attach(expr, part)
    fills = {name: expr[name].fill_null(0) for name in _ZERO_WHEN_ABSENT}
    expr = expr.mutate(
        **fills,
        segment=expr.segment.fill_null("unknown"),
        utilisation=expr.users_30d.fill_null(0) / ibis.greatest(expr.licences.fill_null(0), 1.0),
        max_days_overdue=expr.max_days_overdue.fill_null(0),
    )
    return expr.select("account_id", *[expr[c].cast("float64").name(c) for c in FEATURES], "segment")


def _blocks_frame(wh: Warehouse, day: dt.date, blocks) -> pd.DataFrame:
    """The customers at ``day`` with each block's columns, block by block (several small queries compile and run
    faster than one deeply nested one), with the counts a missing row means zero filled."""
    base = customers(wh, day).select("account_id")
    acc = wh.as_of("accounts", day).select("account_id", "segment")
    frame = wh.execute(_attach(base, acc))
    for block in blocks:
        parts = block(wh, day)
        for part in parts if isinstance(parts, tuple) else (parts,):
            frame = frame.merge(wh.execute(part), on="account_id", how="left")
    for name in _ZERO_WHEN_ABSENT:
        if name in frame:
            frame[name] = frame[name].astype("float64").fillna(0.0)
    if "licences" in frame:
        frame["utilisation"] = frame["users_30d"] / frame["licences"].astype("float64").fillna(0.0).clip(lower=1.0)
    return frame


def feature_frame(wh: Warehouse, as_of: AsOf) -> pd.DataFrame:
    """The same table as :func:`account_features`, executed block by block and joined in pandas (about 2x
    faster on the demo); a test checks that both give the same frame."""
    frame = _blocks_frame(wh, as_of_date(as_of), (_contract, _usage, _tickets, _surveys, _billing, _relationship))
    frame["segment"] = frame["segment"].astype(object).where(frame["segment"].notna(), "unknown")
    frame["max_days_overdue"] = frame["max_days_overdue"].astype("float64").fillna(0.0)
    out = frame[["account_id"]].copy()
    for name in FEATURES:
        out[name] = frame[name].astype("float64")
    out["segment"] = frame["segment"].to_numpy()
    return out


USAGE_FEATURES = ("licences", "users_30d", "users_90d", "usage_trend", "events_per_user_30d", "feature_breadth_30d",
                  "utilisation")


def usage_feature_frame(wh: Warehouse, as_of: AsOf) -> pd.DataFrame:
    """Only the contract and usage features of :func:`feature_frame` (:data:`USAGE_FEATURES`, the same values):
    a third of its queries, for what needs no more (the adoption tiers)."""
    frame = _blocks_frame(wh, as_of_date(as_of), (_contract, _usage))
    out = frame[["account_id"]].copy()
    for name in USAGE_FEATURES:
        out[name] = frame[name].astype("float64")
    return out
