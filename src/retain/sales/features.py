"""Point-in-time deal features: what was known about each open opportunity at the end of each snapshot day.

One Ibis expression per source, each joined to the (snapshot day, open opportunity) pairs and cut at the end of
that day: the stage history (``opportunity_stages``: stage, probability and amount as they stood, entries,
revisits of an earlier stage, amount changes), activities (follow-ups, buyer replies, meetings, contacts engaged,
a decision maker engaged), and the calls domain's stored results when present (``call_metrics``: buyer sentiment
and talk share; ``call_events``: pricing, competitor, objection and next-step events). Final values the export
overwrites (``opportunities.probability``, ``amount``, ``close_on``) are used only when no history exists and the
deal is still open at the snapshot, so a closed deal's 1.0 / 0.0 never leaks into training. Close-date pushes,
the expected close date and the CRM forecast category as they stood come from :mod:`retain.sales.close_dates`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from retain.errors import WarehouseError
from retain.metrics.dimensions import as_int, count_if
from retain.sales.close_dates import FEATURES as CLOSE_DATE_FEATURES
from retain.sales.close_dates import with_close_dates
from retain.warehouse import Warehouse

DECISION_ROLES = ("decision_maker", "executive_sponsor")
NUMERIC = (
    "age_days", "days_in_stage", "stage_entries", "stage_revisits", "amount_changes", "amount_change_pct",
    "log_amount", "activities", "follow_ups", "buyer_replies", "meetings", "days_since_activity", "contacts_engaged",
    "decision_maker", "calls", "customer_sentiment", "rep_talk_share", "pricing_events", "competitor_events",
    "objection_events", "next_step_events", "stage_position", *CLOSE_DATE_FEATURES,
)
CATEGORICAL = ("stage", "opportunity_type")


def _days(days: Sequence[dt.date]) -> ir.Table:
    uniq = sorted(set(days))
    ends = [dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC) for d in uniq]
    t = ibis.memtable({"as_of": uniq, "day_end": ends})
    return t.mutate(as_of=t.as_of.cast("date"), day_end=t.day_end.cast("timestamp('UTC')"))


def open_deals(wh: Warehouse, days: Sequence[dt.date]) -> ir.Table:
    """(as_of, opportunity) for every opportunity open at the end of each day: created by then, not closed by then."""
    o = wh.raw("opportunities")
    d = _days(days)
    j = o.cross_join(d)
    j = j.filter((j.created_at < j.day_end) & (j.closed_at.isnull() | (j.closed_at >= j.day_end)))
    return j.select(
        "as_of", "day_end", "opportunity_id", "account_id", "owner_id", "opportunity_type", "product_id", "name",
        "created_at", "close_on", "currency", final_amount=j.amount, final_probability=j.probability,
        final_stage=j.stage, is_closed_now=j.closed_at.notnull())


def stage_facts(wh: Warehouse, deals: ir.Table) -> ir.Table:
    """Per (as_of, opportunity): stage, entry time, CRM probability and amount as last recorded by then, stage
    entries (rows changing the stage), revisits (entries of a stage entered before) and amount changes."""
    s = wh.raw("opportunity_stages")
    # a CRM writes a history row for an amount or probability change too: only a change of stage is an entry
    previous = s.stage.lag().over(ibis.window(group_by="opportunity_id", order_by="entered_at"))
    s = s.mutate(entry=previous.isnull() | (previous != s.stage))
    j = deals.select("as_of", "day_end", "opportunity_id").inner_join(s, "opportunity_id")
    j = j.filter(j.entered_at < j.day_end)
    entries = count_if(j.entry)
    return j.group_by(["as_of", "opportunity_id"]).aggregate(
        h_stage=j.stage.argmax(j.entered_at), stage_entered_at=j.entered_at.max(where=j.entry),
        h_probability=j.probability.argmax(j.entered_at), h_amount=j.amount.argmax(j.entered_at),
        first_amount=j.amount.argmin(j.entered_at), stage_entries=entries,
        stage_revisits=entries - j.stage.nunique(), amount_changes=j.amount.nunique() - 1)


def activity_facts(wh: Warehouse, deals: ir.Table) -> ir.Table:
    """Per (as_of, opportunity): activities, outbound follow-ups, inbound buyer replies, meetings, the last one,
    contacts engaged and whether a decision maker was among them."""
    a = wh.raw("activities")
    a = a.filter(a.opportunity_id.notnull())
    c = wh.raw("contacts").select("contact_id", contact_role="role")
    j = deals.select("as_of", "day_end", "opportunity_id").inner_join(a, "opportunity_id")
    j = j.filter(j.occurred_at < j.day_end).left_join(c, "contact_id")
    meeting = j.activity_type.isin(("meeting", "executive_meeting", "qbr"))
    return j.group_by(["as_of", "opportunity_id"]).aggregate(
        activities=j.count(), follow_ups=count_if(j.direction == "outbound"),
        buyer_replies=count_if(j.direction == "inbound"), meetings=count_if(meeting),
        last_activity_at=j.occurred_at.max(), contacts_engaged=j.contact_id.nunique(),
        decision_maker=as_int(j.contact_role.isin(DECISION_ROLES)).max())  # PostgreSQL: no bool -> bigint


def _latest_result(wh: Warehouse, name: str) -> ir.Table | None:
    """The stored result ``name`` at its latest ``as_of`` (a call's figures do not change once analysed)."""
    try:
        t = wh.raw_result(name)
    except WarehouseError:
        return None
    if "as_of" in t.columns:
        t = t.filter(t.as_of == t.as_of.max())
    return t


def call_facts(wh: Warehouse, deals: ir.Table) -> ir.Table | None:
    """Per (as_of, opportunity): calls, mean buyer sentiment and rep talk share, and call events (None without
    analysed calls: run the calls section first)."""
    metrics = _latest_result(wh, "call_metrics")
    if metrics is None:
        return None
    m = metrics.filter(metrics.opportunity_id.notnull()).select(
        "conversation_id", "opportunity_id", "started_at", "customer_sentiment", "rep_talk_share")
    events = _latest_result(wh, "call_events")
    if events is not None:
        e = events.group_by("conversation_id").aggregate(
            pricing=count_if(events.event == "pricing_discussed"),
            competitor=count_if(events.event == "competitor_mentioned"),
            objection=count_if(events.event == "objection"),
            next_step=count_if(events.event == "next_steps_agreed"))
        m = m.left_join(e, "conversation_id").drop("conversation_id_right")
    else:
        m = m.mutate(pricing=ibis.literal(0), competitor=ibis.literal(0), objection=ibis.literal(0),
                     next_step=ibis.literal(0))
    j = deals.select("as_of", "day_end", "opportunity_id").inner_join(m, "opportunity_id")
    j = j.filter(j.started_at < j.day_end)
    return j.group_by(["as_of", "opportunity_id"]).aggregate(
        calls=j.count(), customer_sentiment=j.customer_sentiment.mean(), rep_talk_share=j.rep_talk_share.mean(),
        pricing_events=j.pricing.fill_null(0).sum(), competitor_events=j.competitor.fill_null(0).sum(),
        objection_events=j.objection.fill_null(0).sum(), next_step_events=j.next_step.fill_null(0).sum())


def stage_positions(wh: Warehouse, day: dt.date) -> ir.Table:
    """Per stage: its mean position in the histories known by ``day`` (0 = first stage), the funnel order."""
    s = wh.as_of("opportunity_stages", day)
    s = s.filter(~s.stage.isin(("closed_won", "closed_lost")))
    ranked = s.mutate(pos=ibis.row_number().over(group_by="opportunity_id", order_by="entered_at"))
    return ranked.group_by("stage").aggregate(stage_position=ranked.pos.mean())


def typical_days(wh: Warehouse, day: dt.date) -> ir.Table:
    """Per stage: the median days a deal stayed in it before moving on, over stage spans ended by ``day``."""
    s = wh.as_of("opportunity_stages", day)
    w = ibis.window(group_by="opportunity_id", order_by="entered_at")
    # the previous stage as a column first: Spark cannot filter on a window expression (UNRESOLVED_COLUMN)
    s = s.mutate(previous_stage=s.stage.lag().over(w))
    s = s.filter(s.previous_stage.isnull() | (s.previous_stage != s.stage)).drop("previous_stage")  # entries only
    spans = s.mutate(left_at=s.entered_at.lead().over(w))
    spans = spans.filter(spans.left_at.notnull())
    days = _secs(spans.left_at, spans.entered_at) / 86400.0
    return spans.mutate(span_days=days).group_by("stage").aggregate(typical_days_in_stage=ibis._.span_days.median())


def _secs(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.NumericValue:
    """Whole seconds from ``earlier`` to ``later`` on every engine: DuckDB's epoch keeps the microseconds, Spark's
    drops them, so both are floored (feature values then agree to the bit, and the fits on them)."""
    return later.epoch_seconds().floor() - earlier.epoch_seconds().floor()


def deal_features(wh: Warehouse, days: Sequence[dt.date], *, reference: dt.date | None = None) -> ir.Table:
    """One row per (as_of, open opportunity) with :data:`NUMERIC` and :data:`CATEGORICAL` features and the
    identifying columns. ``reference``: the day the funnel order and typical stage times are learned as of
    (default: the earliest snapshot, so nothing after a snapshot shapes it)."""
    ref = reference or min(days)
    deals = open_deals(wh, days)
    t = with_close_dates(wh, deals)  # point-in-time close date, its pushes and the CRM forecast category
    t = t.left_join(stage_facts(wh, deals), ["as_of", "opportunity_id"])
    t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    t = t.left_join(activity_facts(wh, deals), ["as_of", "opportunity_id"])
    t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    calls = call_facts(wh, deals)
    if calls is not None:
        t = t.left_join(calls, ["as_of", "opportunity_id"])
        t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    else:
        t = t.mutate(calls=ibis.literal(0), customer_sentiment=ibis.null("float64"),
                     rep_talk_share=ibis.null("float64"), pricing_events=ibis.literal(0),
                     competitor_events=ibis.literal(0), objection_events=ibis.literal(0),
                     next_step_events=ibis.literal(0))
    open_now = ~t.is_closed_now  # the export's final stage/probability/amount are today's only while still open
    stage = t.h_stage.fill_null(ibis.ifelse(open_now, t.final_stage, ibis.null("string"))).fill_null("unknown")
    amount = t.h_amount.fill_null(t.final_amount)
    t = t.mutate(stage=stage, amount=amount,
                 crm_probability=t.h_probability.fill_null(
                     ibis.ifelse(open_now, t.final_probability, ibis.null("float64"))))
    t = t.left_join(stage_positions(wh, ref), "stage").drop("stage_right")
    t = t.left_join(typical_days(wh, ref), "stage").drop("stage_right")
    secs = 86400.0
    since_stage = _secs(t.day_end, t.stage_entered_at.fill_null(t.created_at)) / secs
    return t.select(
        "as_of", "opportunity_id", "account_id", "owner_id", "opportunity_type", "product_id", "name", "currency",
        "close_on", "created_at", "stage", "amount", "crm_probability", "typical_days_in_stage", "forecast_category",
        *CLOSE_DATE_FEATURES,
        age_days=(_secs(t.day_end, t.created_at) / secs).cast("float64"),
        days_in_stage=since_stage.cast("float64"),
        stage_entries=t.stage_entries.fill_null(0).cast("float64"),
        stage_revisits=t.stage_revisits.fill_null(0).cast("float64"),
        amount_changes=t.amount_changes.fill_null(0).cast("float64"),
        amount_change_pct=(t.h_amount / t.first_amount.nullif(0.0) - 1.0).cast("float64"),
        log_amount=(t.amount.fill_null(0.0) + 1.0).ln().cast("float64"),
        activities=t.activities.fill_null(0).cast("float64"),
        follow_ups=t.follow_ups.fill_null(0).cast("float64"),
        buyer_replies=t.buyer_replies.fill_null(0).cast("float64"),
        meetings=t.meetings.fill_null(0).cast("float64"),
        days_since_activity=(_secs(t.day_end, t.last_activity_at.fill_null(t.created_at)) / secs)
        .cast("float64"),
        contacts_engaged=t.contacts_engaged.fill_null(0).cast("float64"),
        decision_maker=t.decision_maker.fill_null(0).cast("float64"),
        calls=t.calls.fill_null(0).cast("float64"),
        customer_sentiment=t.customer_sentiment.cast("float64"),
        rep_talk_share=t.rep_talk_share.cast("float64"),
        pricing_events=t.pricing_events.fill_null(0).cast("float64"),
        competitor_events=t.competitor_events.fill_null(0).cast("float64"),
        objection_events=t.objection_events.fill_null(0).cast("float64"),
        next_step_events=t.next_step_events.fill_null(0).cast("float64"),
        stage_position=t.stage_position.cast("float64"),
    )


def outcomes(wh: Warehouse, known_by: dt.date) -> ir.Table:
    """Per opportunity closed by the end of ``known_by``: won (1) or lost (0), and when."""
    o = wh.as_of("opportunities", known_by)
    o = o.filter(o.closed_at.notnull() & o.is_won.notnull())
    return o.select("opportunity_id", "closed_at", won=as_int(o.is_won))
