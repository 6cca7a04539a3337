"""Feature families: each turns one kind of source data into point-in-time features for every observation date.

A family reads only tables as known at the build's ``as_of`` and, for each observation date, only rows dated on
or before that date (windows end on the date; late-revealed values such as ``resolved_at`` or ``paid_on`` are
compared with the date), so a row dated after an observation can never change its features. Each returns an
unexecuted Ibis table keyed by (``account_id``, ``as_of``) plus how to fill accounts with no row (a count is 0,
"days since" is the window's length plus one). ``retain.models.generated`` registers and assembles them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import ibis
import ibis.expr.types as ir

from retain.models.grid import ObservationGrid
from retain.models.outcomes import _int, paying_subscriptions, running
from retain.warehouse import Warehouse


@dataclass(frozen=True)
class FeatureContext:
    """What every family needs: the warehouse, the grid, the population and what the data holds."""

    wh: Warehouse
    grid: ObservationGrid
    pop: ir.Table                           # account_id, as_of
    event_types: tuple[str, ...] = ()       # usage.feature values given features of their own (top N by volume)
    has_users: bool = False                 # usage.active_users holds counts
    survey_types: tuple[str, ...] = ()
    attribute_numeric: tuple[str, ...] = ()
    attribute_categorical: tuple[str, ...] = ()
    account_categorical: tuple[str, ...] = ()
    products: tuple[str, ...] = ()          # products given holds_<product> columns (retain.models.holdings)
    addon_products: tuple[str, ...] = ()

    @property
    def anchor(self) -> dt.date:
        return self.grid.anchor

    def known(self, table: str) -> ir.Table:
        return self.wh.as_of(table, self.anchor)


@dataclass(frozen=True)
class Family:
    table: ir.Table
    fills: dict[str, float] = field(default_factory=dict)
    categorical: tuple[str, ...] = ()


FamilyBuilder = Callable[[FeatureContext], Family]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")[:32] or "x"


# -- helpers ---------------------------------------------------------------------------------------------------

def _since(as_of: ir.DateColumn, day: ir.DateColumn) -> ir.FloatingColumn:
    return as_of.delta(day, unit="day").cast("float64")


def blocks(ctx: FeatureContext, rows: ir.Table, day: str, keys: tuple[str, ...],
           aggs: Callable[[ir.Table], dict[str, ir.Scalar]], longest: int) -> ir.Table:
    """Rows summed per account and time block, then joined to every population row whose window (``longest``
    days, rounded) holds the block: one row per (account_id, as_of, block, *keys)."""
    first = min(ctx.grid.dates) - dt.timedelta(days=ctx.grid.window(longest))
    rows = rows.filter((rows[day] > ibis.literal(first, type="date"))
                       & (rows[day] <= ibis.literal(ctx.anchor, type="date")))
    rows = rows.mutate(block=ctx.grid.block(rows[day]))
    per = rows.group_by(["account_id", "block", *keys]).aggregate(**aggs(rows))
    pop = ctx.pop
    j = pop.join(per, [pop.account_id == per.account_id, ctx.grid.within(per.block, pop.as_of, longest)])
    return j.select(pop.account_id, pop.as_of, *[per[c] for c in per.columns if c != "account_id"])


def _in(ctx: FeatureContext, j: ir.Table, days: int) -> ir.BooleanColumn:
    return ctx.grid.within(j.block, j.as_of, days)


def _sum_in(ctx: FeatureContext, j: ir.Table, value: ir.Column, days: int) -> ir.FloatingScalar:
    return ibis.ifelse(_in(ctx, j, days), value, 0).sum().cast("float64")


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    return ibis.ifelse(den > 0, num / den, ibis.null("float64"))


def _months_seen(ctx: FeatureContext, agg: ir.Table, longest: int) -> ir.FloatingColumn:
    """Months between the first block with data in the window (``agg.first_block``) and ``as_of`` (1 to the
    window's months), so an average per month is fair to accounts younger than the window."""
    span = agg.as_of.delta(agg.first_block, unit="day") + ctx.grid.block_days
    return ibis.least(ibis.greatest(span.cast("float64") / 30.0, 1.0), ctx.grid.window(longest) / 30.0)


# -- families --------------------------------------------------------------------------------------------------

def usage_summary(ctx: FeatureContext) -> ir.Table:
    """The compact summary every usage feature is derived from: one row per account and time block with events,
    active days, user-days and the last day of use, plus events and active days per discovered event type
    (pivoted into columns ``e_<i>`` / ``d_<i>``), from one pass over the usage rows (per account and day, then
    per block). Grouping by day is needed for exact active days and user-days across event types; doing the
    per-type sums in the same pass is cheaper than a second grouping by type (measured on 10.7 M rows)."""
    u = ctx.known("usage")
    first = min(ctx.grid.dates) - dt.timedelta(days=ctx.grid.window(180))
    u = u.filter(u.usage_on > ibis.literal(first, type="date"))
    is_all = u.feature == "all"
    events = u.events.fill_null(0)
    per_type: dict[str, ir.Value] = {}
    for i, t in enumerate(ctx.event_types):
        mine = u.feature == t
        per_type[f"e_{i}"] = ibis.ifelse(mine, events, 0.0).sum()
        per_type[f"d_{i}"] = _int(mine).max()
    daily = u.group_by(["account_id", "usage_on"]).aggregate(
        users=u.active_users.fill_null(0).max(),
        ev_all=ibis.ifelse(is_all, events, 0.0).sum(),
        ev_feat=ibis.ifelse(is_all, 0.0, events).sum(),
        **per_type,
    )
    daily = daily.mutate(events=ibis.greatest(daily.ev_all, daily.ev_feat), block=ctx.grid.block(daily.usage_on))
    return daily.group_by(["account_id", "block"]).aggregate(
        events=daily.events.sum(), days=daily.count(), user_days=daily.users.sum(), last=daily.usage_on.max(),
        **{c: daily[c].sum() for c in per_type},
    )


def _rolling(ctx: FeatureContext, per: ir.Table) -> ir.Table:
    """Window sums of the usage summary for every population row: events, active days and user-days over 30,
    90 and 180 days (rounded to blocks), the first block with use and the last day of use within 180 days, and
    per event type ``e<i>_30``, ``d<i>_30``, ``e<i>_90``, ``e<i>_180``.

    Running window sums over each account's blocks (a range frame over the block number) with the population's
    dates added as empty blocks, rather than joining every population row to every block its window holds:
    on 100,000 accounts x 24 dates that join made 7.4 M rows and was the build's largest query (memory above
    all); the window sums take 25 % less time and far less memory."""
    keys = ctx.pop.select("account_id", block=ctx.pop.as_of, observed=ibis.literal(1, type="int8"))
    values = [c for c in per.columns if c not in ("account_id", "block")]
    f = per.outer_join(keys, [per.account_id == keys.account_id, per.block == keys.block])
    f = f.select(account_id=ibis.coalesce(per.account_id, keys.account_id),
                 block=ibis.coalesce(per.block, keys.block), observed=keys.observed, **{c: per[c] for c in values})
    anchor = ibis.literal(ctx.anchor, type="date")
    f = f.mutate(k=f.block.delta(anchor, unit="day") // ctx.grid.block_days)

    def frame(days: int):
        blocks_back = ctx.grid.window(days) // ctx.grid.block_days - 1
        return ibis.window(group_by="account_id", order_by="k", range=(-blocks_back, 0))

    def total(column: ir.NumericColumn, days: int) -> ir.FloatingColumn:
        return column.sum().over(frame(days)).fill_null(0).cast("float64")

    cols: dict[str, ir.Value] = {
        "events_30d": total(f.events, 30), "events_90d": total(f.events, 90), "events_180d": total(f.events, 180),
        "active_days_30d": total(f.days, 30), "active_days_90d": total(f.days, 90),
        "user_days_30d": total(f.user_days, 30), "user_days_90d": total(f.user_days, 90),
        "first_block": ibis.ifelse(f.days.notnull(), f.block, ibis.null("date")).min().over(frame(180)),
        "last": f["last"].max().over(frame(180)),
    }
    for i in range(len(ctx.event_types)):
        e, d = f[f"e_{i}"], f[f"d_{i}"]
        cols |= {f"e{i}_30": total(e, 30), f"d{i}_30": total(d, 30), f"e{i}_90": total(e, 90),
                 f"e{i}_180": total(e, 180)}
    out = f.select("account_id", "observed", as_of=f.block, **cols)
    return out.filter(out.observed == 1).drop("observed")


def _event_type_columns(ctx: FeatureContext, agg: ir.Table, months: ir.FloatingColumn
                        ) -> tuple[dict[str, ir.Value], dict[str, float]]:
    """Per event type: events and active days over 30 days, events per month over 180 days, the 30-vs-90-day
    trend; and ``feature_breadth_30d``, how many of the types were used in the last 30 days."""
    w30, w90 = ctx.grid.window(30), ctx.grid.window(90)
    cols: dict[str, ir.Value] = {}
    fills: dict[str, float] = {}
    for i, t in enumerate(ctx.event_types):
        name = f"ev_{slug(t)}"
        cols[f"{name}_events_30d"] = agg[f"e{i}_30"]
        cols[f"{name}_days_30d"] = agg[f"d{i}_30"]
        cols[f"{name}_per_month_180d"] = agg[f"e{i}_180"] / months
        cols[f"{name}_trend"] = _ratio(agg[f"e{i}_30"] / w30, agg[f"e{i}_90"] / w90)
        fills |= {f"{name}_events_30d": 0.0, f"{name}_days_30d": 0.0, f"{name}_per_month_180d": 0.0}
    used = [_int(agg[f"d{i}_30"] > 0) for i in range(len(ctx.event_types))]
    cols["feature_breadth_30d"] = sum(used[1:], used[0]).cast("float64")
    fills["feature_breadth_30d"] = 0.0
    return cols, fills


def usage(ctx: FeatureContext) -> Family:
    """Events and active days over 30/90/180 days, averages per month, recent-vs-earlier trend, days since use,
    active users and events per user where user counts exist; per event type (when the data has several) the
    same measures for that type. All from :func:`usage_summary`, summed over windows by :func:`_rolling`."""
    typed = len(ctx.event_types) > 1
    if not typed:
        ctx = replace(ctx, event_types=())
    agg = _rolling(ctx, usage_summary(ctx))
    w30, w90 = ctx.grid.window(30), ctx.grid.window(90)
    months = _months_seen(ctx, agg, 180)
    cols = {
        "events_30d": agg.events_30d, "events_90d": agg.events_90d,
        "active_days_30d": agg.active_days_30d, "active_days_90d": agg.active_days_90d,
        "events_per_month_180d": agg.events_180d / months,
        "usage_trend": _ratio(agg.events_30d / w30, agg.events_90d / w90),
        "days_since_usage": _since(agg.as_of, agg.last),
    }
    fills = {k: 0.0 for k in cols if k not in ("usage_trend", "days_since_usage")}
    fills["days_since_usage"] = float(ctx.grid.window(180) + 1)
    if ctx.has_users:
        cols |= {
            "active_users_30d": agg.user_days_30d / w30, "active_users_90d": agg.user_days_90d / w90,
            "events_per_user_30d": _ratio(agg.events_30d, agg.user_days_30d),
        }
        fills |= {"active_users_30d": 0.0, "active_users_90d": 0.0}
    if typed:
        more, more_fills = _event_type_columns(ctx, agg, months)
        cols |= more
        fills |= more_fills
    return Family(agg.select("account_id", "as_of", **cols), fills)


def contract(ctx: FeatureContext) -> Family:
    """MRR and its change over 90 days, products held, licences of seat-based products, discount share, days to
    renewal, whether a contract term exists, and the billing period of the largest holding."""
    dates = ctx.pop.select("as_of").distinct()
    r = running(ctx.wh, ctx.grid, dates=dates)
    products = ctx.known("products").select("product_id", seat=ibis._.seat_based.fill_null(True))
    r = r.left_join(products, r.product_id == products.product_id).select(r, "seat")
    seats = ibis.ifelse(r.seat.fill_null(True), r.quantity.fill_null(0), 0)
    future_term = ibis.ifelse(r.term_end_on >= r.as_of, r.term_end_on, ibis.null("date"))
    now = r.group_by(["account_id", "as_of"]).aggregate(
        mrr=r.mrr.sum().cast("float64"), products_held=r.product_id.nunique().cast("float64"),
        licences=seats.sum().cast("float64"), discount=r.discount_amount.fill_null(0).sum(),
        next_term=future_term.min(), has_term=_int(r.term_end_on.notnull()).max().cast("float64"),
        billing_period=r.billing_period.fill_null("unknown").argmax(r.mrr),
    )
    before = running(ctx.wh, ctx.grid, shift_days=-90, dates=dates)
    before = before.group_by(["account_id", "as_of"]).aggregate(mrr_before=before.mrr.sum())
    j = now.left_join(before, [now.account_id == before.account_id, now.as_of == before.as_of]).select(
        now, "mrr_before")
    prior = j.mrr_before.fill_null(0)
    table = j.select(
        "account_id", "as_of", "mrr", "products_held", "licences", "has_term", "billing_period",
        mrr_change_90d=(j.mrr - prior).cast("float64"),
        mrr_growth_90d=_ratio(j.mrr - prior, prior),
        discount_share=j.discount / ibis.greatest(j.mrr + j.discount, 1.0),
        days_to_renewal=_since(j.next_term, j.as_of),
    )
    return Family(table, {}, ("billing_period",))


def tenure(ctx: FeatureContext) -> Family:
    """Days since the account was created or first paid, whichever is earlier and known by then."""
    subs = paying_subscriptions(ctx.wh, ctx.anchor)
    first = subs.group_by("account_id").aggregate(first_start=subs.started_on.min())
    acc = ctx.known("accounts").select("account_id", created=ibis._.created_at.date())
    pop = ctx.pop
    j = pop.left_join(first, pop.account_id == first.account_id).select(pop, "first_start")
    j = j.left_join(acc, j.account_id == acc.account_id).select(j, "created")
    start = ibis.least(
        ibis.ifelse(j.first_start <= j.as_of, j.first_start, ibis.null("date")),
        ibis.ifelse(j.created <= j.as_of, j.created, ibis.null("date")),
    )
    return Family(j.select("account_id", "as_of", tenure_days=_since(j.as_of, start)))


_NUMBER = r"^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$"


def _attribute_text(attributes: ir.StringColumn, key: str) -> ir.StringColumn:
    """The value of ``key`` in a JSON text column, as text (quotes removed; JSON null is missing).

    Done by casting the JSON value to text rather than with ``unwrap_as``, which ibis 12 compiles to invalid
    SQL on PostgreSQL."""
    text = attributes.cast("json")[key].cast("string").re_replace(r'^"(.*)"$', r"\1")
    return ibis.ifelse(text == "null", ibis.null("string"), text)


def _attribute_number(text: ir.StringColumn) -> ir.FloatingColumn:
    """A number from text: numerals, and true/false as 1/0 (a guarded cast: PostgreSQL has no TRY_CAST)."""
    numeral = ibis.ifelse(text.re_search(_NUMBER), text, ibis.null("string")).cast("float64")
    return ibis.cases((text == "true", 1.0), (text == "false", 0.0), else_=numeral)


def accounts(ctx: FeatureContext) -> Family:
    """Head-count, low-cardinality descriptive columns and ``attributes`` keys (numbers and short text)."""
    acc = ctx.known("accounts")
    pop = ctx.pop
    j = pop.join(acc, [pop.account_id == acc.account_id, acc.created_at.date() <= pop.as_of])
    cols: dict[str, ir.Value] = {"employees": j.employees.cast("float64")}
    for key in ctx.attribute_numeric:
        cols[f"attr_{slug(key)}"] = _attribute_number(_attribute_text(j.attributes, key))
    cats = {c: j[c].cast("string") for c in ctx.account_categorical}
    for key in ctx.attribute_categorical:
        cats[f"attr_{slug(key)}"] = _attribute_text(j.attributes, key)
    table = j.select(pop.account_id, pop.as_of, **cols, **cats)
    return Family(table, {}, tuple(cats))


def support(ctx: FeatureContext) -> Family:
    """Tickets opened over 30/90 days, high-priority and escalated ones over 90 days, tickets open on the date,
    and the average days to resolve the tickets resolved in the 90 days up to it."""
    t = ctx.known("support_tickets")
    t = t.mutate(on=t.opened_at.date())
    j = blocks(ctx, t, "on", (), lambda r: {
        "n": r.count(), "urgent": _int(r.priority.isin(["high", "urgent"])).sum(),
        "escalated": _int(r.escalated.fill_null(False)).sum(),
    }, 90)
    agg = j.group_by(["account_id", "as_of"]).aggregate(
        tickets_30d=_sum_in(ctx, j, j.n, 30), tickets_90d=_sum_in(ctx, j, j.n, 90),
        urgent_tickets_90d=_sum_in(ctx, j, j.urgent, 90), escalations_90d=_sum_in(ctx, j, j.escalated, 90),
    )
    # open on a date: a range join of the tickets with the observation dates on two plain inequalities (an
    # unresolved ticket is open until after the build's as_of), which engines run as an inequality join; with
    # "resolved_at is null or ..." in the condition it was a filtered cross product, 3x slower at 100k accounts
    dates = ctx.pop.select("as_of").distinct()
    after = ibis.literal(ctx.anchor + dt.timedelta(days=1), type="date")
    spans = t.select("account_id", "on", until=ibis.coalesce(t.resolved_at.date(), after))
    still = dates.join(spans, [spans.on <= dates.as_of, spans.until > dates.as_of])
    still = still.group_by([still.account_id, still.as_of]).aggregate(open_tickets=still.count().cast("float64"))
    done = t.filter(t.resolved_at.notnull()).mutate(resolved_on=t.resolved_at.date())
    hours = done.resolved_at.delta(done.opened_at, unit="second").cast("float64") / 86400.0
    done = done.mutate(took=ibis.greatest(hours, 0.0))
    k = blocks(ctx, done, "resolved_on", (), lambda r: {"n": r.count(), "took": r.took.sum()}, 90)
    speed = k.group_by(["account_id", "as_of"]).aggregate(
        resolved=_sum_in(ctx, k, k.n, 90), took=_sum_in(ctx, k, k.took, 90))
    speed = speed.select("account_id", "as_of", resolution_days_90d=_ratio(speed.took, speed.resolved))
    out = _outer(_outer(agg, still), speed)
    names = ("tickets_30d", "tickets_90d", "urgent_tickets_90d", "escalations_90d", "open_tickets")
    return Family(out, {n: 0.0 for n in names})


def _outer(left: ir.Table, right: ir.Table) -> ir.Table:
    """Two tables keyed by (account_id, as_of), outer-joined: every key of either, the columns of both."""
    left, right = left.view(), right.view()
    j = left.outer_join(right, [left.account_id == right.account_id, left.as_of == right.as_of])
    return j.select(account_id=ibis.coalesce(left.account_id, right.account_id),
                    as_of=ibis.coalesce(left.as_of, right.as_of),
                    **{c: left[c] for c in left.columns if c not in ("account_id", "as_of")},
                    **{c: right[c] for c in right.columns if c not in ("account_id", "as_of")})


def _scaled(score: ir.NumericColumn, kind: ir.StringColumn) -> ir.FloatingColumn:
    """Every survey on a 0-10 scale (CSAT 1-5, CES 1-7 where low effort is good, NPS as is)."""
    return ibis.cases(
        (kind == "csat", (score - 1) * 2.5),
        (kind == "ces", (7 - score) * 10.0 / 6.0),
        else_=score.cast("float64"),
    )


def surveys(ctx: FeatureContext) -> Family:
    """Per survey type the average over 365 days and the last score; the worst score in 180 days (0-10 scale),
    answers in 365 days and days since the last answer."""
    s = ctx.known("survey_responses")
    s = s.mutate(on=s.responded_at.date(), scaled=_scaled(s.score, s.survey_type))
    pop = ctx.pop
    j = pop.join(s, [pop.account_id == s.account_id, s.on <= pop.as_of,
                     s.on > pop.as_of - ibis.interval(days=365)])
    recent = j.on > j.as_of - ibis.interval(days=180)
    aggs = {
        "responses_365d": j.count().cast("float64"),
        "survey_min_180d": ibis.ifelse(recent, j.scaled, ibis.null("float64")).min(),
        "last_on": j.on.max(),
    }
    for kind in ctx.survey_types:
        mine = j.survey_type == kind
        aggs[f"{slug(kind)}_avg_365d"] = ibis.ifelse(mine, j.score, ibis.null("int64")).mean()
        aggs[f"{slug(kind)}_last"] = ibis.ifelse(mine, j.score, ibis.null("int64")).argmax(
            ibis.ifelse(mine, j.responded_at, ibis.null("timestamp('UTC')"))).cast("float64")
    agg = j.group_by([j.account_id, j.as_of]).aggregate(**aggs)
    agg = agg.mutate(days_since_survey=_since(agg.as_of, agg.last_on)).drop("last_on")
    return Family(agg, {"responses_365d": 0.0, "days_since_survey": 366.0})


def invoices(ctx: FeatureContext) -> Family:
    """Invoices overdue on the date and for how long, and invoices paid late over 365 days."""
    inv = ctx.known("invoices")
    inv = inv.filter(~inv.status.fill_null("open").isin(["void", "uncollectible"]))
    pop = ctx.pop
    late = pop.join(inv, [pop.account_id == inv.account_id, inv.issued_on <= pop.as_of, inv.due_on < pop.as_of,
                          inv.paid_on.isnull() | (inv.paid_on > pop.as_of)])
    late = late.group_by([late.account_id, late.as_of]).aggregate(
        overdue_invoices=late.count().cast("float64"), first_due=late.due_on.min())
    late = late.mutate(max_days_overdue=_since(late.as_of, late.first_due)).drop("first_due")
    paid = inv.filter(inv.paid_on.notnull() & (inv.paid_on > inv.due_on))
    j = blocks(ctx, paid, "paid_on", (), lambda r: {"n": r.count()}, 365)
    paid_late = j.group_by(["account_id", "as_of"]).aggregate(late_payments_365d=_sum_in(ctx, j, j.n, 365))
    out = late.outer_join(paid_late, [late.account_id == paid_late.account_id, late.as_of == paid_late.as_of])
    out = out.select(account_id=ibis.coalesce(late.account_id, paid_late.account_id),
                     as_of=ibis.coalesce(late.as_of, paid_late.as_of), overdue_invoices=late.overdue_invoices,
                     max_days_overdue=late.max_days_overdue, late_payments_365d=paid_late.late_payments_365d)
    return Family(out, {"overdue_invoices": 0.0, "max_days_overdue": 0.0, "late_payments_365d": 0.0})


def activities(ctx: FeatureContext) -> Family:
    """Touchpoints over 30/90 days, executive meetings and QBRs over 180 days, days since the last touchpoint and
    since the last executive meeting or QBR."""
    a = ctx.known("activities")
    a = a.filter(a.account_id.notnull()).mutate(on=a.occurred_at.date())
    execs = a.activity_type.isin(["executive_meeting", "qbr"])
    a = a.mutate(exec_on=ibis.ifelse(execs, a.on, ibis.null("date")), is_exec=_int(execs))
    j = blocks(ctx, a, "on", (), lambda r: {
        "n": r.count(), "execs": r.is_exec.sum(), "last": r.on.max(), "last_exec": r.exec_on.max(),
    }, 180)
    agg = j.group_by(["account_id", "as_of"]).aggregate(
        activities_30d=_sum_in(ctx, j, j.n, 30), activities_90d=_sum_in(ctx, j, j.n, 90),
        exec_meetings_180d=_sum_in(ctx, j, j.execs, 180), last=j.last.max(), last_exec=j.last_exec.max(),
    )
    agg = agg.mutate(days_since_activity=_since(agg.as_of, agg.last),
                     days_since_exec_meeting=_since(agg.as_of, agg.last_exec)).drop("last", "last_exec")
    never = float(ctx.grid.window(180) + 1)
    fills = {"activities_30d": 0.0, "activities_90d": 0.0, "exec_meetings_180d": 0.0,
             "days_since_activity": never, "days_since_exec_meeting": never}
    return Family(agg, fills)


KEY_ROLES = ("champion", "decision_maker", "executive_sponsor")


def contacts(ctx: FeatureContext) -> Family:
    """People at the account on the date (``contacts``), whether one of them is the primary contact, and contacts
    who left in the 180 days up to it: any (``contacts_left_180d``) and in a key buying role (champion, decision
    maker, executive sponsor: ``champions_left_180d``). A contact counts from ``created_at`` until ``left_at``."""
    c = ctx.known("contacts")
    c = c.mutate(joined=c.created_at.date(), gone=c.left_at.date(), key=_int(c.role.isin(list(KEY_ROLES))),
                 primary=_int(c.is_primary.fill_null(False)))
    pop = ctx.pop
    j = pop.join(c, [pop.account_id == c.account_id, c.joined <= pop.as_of])
    here = j.gone.isnull() | (j.gone > j.as_of)
    left = j.gone.notnull() & (j.gone <= j.as_of) & (j.gone > j.as_of - ibis.interval(days=180))
    agg = j.group_by([j.account_id, j.as_of]).aggregate(
        contacts=_int(here).sum().cast("float64"),
        has_primary_contact=ibis.ifelse(here, j.primary, 0).max().cast("float64"),
        contacts_left_180d=_int(left).sum().cast("float64"),
        champions_left_180d=ibis.ifelse(left, j.key, 0).sum().cast("float64"),
    )
    names = ("contacts", "has_primary_contact", "contacts_left_180d", "champions_left_180d")
    return Family(agg, {n: 0.0 for n in names})


def opportunities(ctx: FeatureContext) -> Family:
    """Add-on and renewal deals open on the date (created by then, not closed by then)."""
    o = ctx.known("opportunities")
    o = o.filter(o.account_id.notnull() & o.opportunity_type.isin(["add_on", "renewal"]))
    pop = ctx.pop
    j = pop.join(o, [pop.account_id == o.account_id, o.created_at.date() <= pop.as_of,
                     o.closed_at.isnull() | (o.closed_at.date() > pop.as_of)])
    agg = j.group_by([j.account_id, j.as_of]).aggregate(
        open_addon_opps=_int(j.opportunity_type == "add_on").sum().cast("float64"),
        open_renewal_opps=_int(j.opportunity_type == "renewal").sum().cast("float64"),
    )
    return Family(agg, {"open_addon_opps": 0.0, "open_renewal_opps": 0.0})


def purchases(ctx: FeatureContext) -> Family:
    """For one-off purchases: count and spend over 90 and 365 days, days since the last purchase."""
    t = ctx.known("transactions")
    t = t.mutate(on=t.occurred_at.date())
    j = blocks(ctx, t, "on", (), lambda r: {"n": r.count(), "spend": r.amount.sum(), "last": r.on.max()}, 365)
    agg = j.group_by(["account_id", "as_of"]).aggregate(
        purchases_90d=_sum_in(ctx, j, j.n, 90), purchases_365d=_sum_in(ctx, j, j.n, 365),
        spend_90d=_sum_in(ctx, j, j.spend, 90), spend_365d=_sum_in(ctx, j, j.spend, 365),
        last=j.last.max(),
    )
    agg = agg.mutate(days_since_purchase=_since(agg.as_of, agg.last)).drop("last")
    fills = {n: 0.0 for n in ("purchases_90d", "purchases_365d", "spend_90d", "spend_365d")}
    fills["days_since_purchase"] = float(ctx.grid.window(365) + 1)
    return Family(agg, fills)
