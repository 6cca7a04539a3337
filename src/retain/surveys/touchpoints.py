"""The moments that trigger a survey, as Ibis expressions over the warehouse as of a day.

Each trigger gives rows ``(account_id, contact_id, touched_on, touchpoint_ref)``: ``contact_id`` is the ticket's
contact for a resolved ticket and null for account-level moments (a QBR, a milestone, a renewal), whose audience is
chosen by role later. Only touchpoints whose survey day (``touched_on + delay``) falls within the catch-up window
ending ``day`` are returned, so a day's work is bounded whatever the history.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from retain.surveys.spec import ProgrammeSpec, TriggerKind
from retain.warehouse import Warehouse

COLUMNS = ("account_id", "contact_id", "touched_on", "touchpoint_ref")


def _date(value: dt.date) -> ir.DateScalar:
    return ibis.literal(value, type="date")


def touchpoints(wh: Warehouse, programme: ProgrammeSpec, day: dt.date, catch_up_days: int,
                last_sent: ir.Table | None = None) -> ir.Table:
    """Touchpoints of ``programme`` whose survey is due on ``day`` (or up to ``catch_up_days`` late).

    ``last_sent`` (contact_id, last_on: the programme's latest invitation per contact) anchors periodic surveys."""
    kind = programme.trigger.kind
    latest = day - dt.timedelta(days=programme.delay_days)  # touched by then: due by ``day``
    earliest = latest - dt.timedelta(days=catch_up_days)
    if kind is TriggerKind.PERIODIC:
        return _periodic(wh, programme, day, last_sent, catch_up_days)
    if kind is TriggerKind.TICKET_RESOLVED:
        t = wh.as_of("support_tickets", day)
        t = t.filter(t.resolved_at.notnull() & t.contact_id.notnull())
        rows = t.select("account_id", "contact_id", touched_on=t.resolved_at.date(), touchpoint_ref=t.ticket_id)
    elif kind is TriggerKind.RENEWAL_SIGNED:
        o = wh.as_of("opportunities", day)
        o = o.filter((o.opportunity_type == "renewal") & o.is_won.fill_null(False) & o.closed_at.notnull()
                     & o.account_id.notnull())
        rows = o.select("account_id", contact_id=ibis.null("string"), touched_on=o.closed_at.date(),
                        touchpoint_ref=o.opportunity_id)
    else:
        a = wh.as_of("activities", day)
        activity = "qbr" if kind is TriggerKind.QBR_HELD else "onboarding_milestone"
        done = a.outcome.isnull() | (a.outcome == "completed")
        a = a.filter((a.activity_type == activity) & done & a.account_id.notnull())
        if programme.trigger.milestone is not None:
            a = a.filter(a.subject == programme.trigger.milestone)
        rows = a.select("account_id", contact_id=ibis.null("string"), touched_on=a.occurred_at.date(),
                        touchpoint_ref=a.activity_id)
    return rows.filter((rows.touched_on >= _date(earliest)) & (rows.touched_on <= _date(latest)))


def _periodic(wh: Warehouse, programme: ProgrammeSpec, day: dt.date, last_sent: ir.Table | None,
              catch_up_days: int) -> ir.Table:
    """Contacts whose last survey by this programme or last answer to any survey (else their arrival) is at least
    ``every_months`` old, each on its own days of the period (a hash of its id, ``catch_up_days + 1`` days long):
    relationship surveys spread evenly over the period instead of asking every due contact on one day."""
    c = wh.as_of("contacts", day)
    r = wh.as_of("survey_responses", day)
    r = r.filter(r.contact_id.notnull()).group_by("contact_id").aggregate(answered_on=r.responded_at.max().date())
    c = c.left_join(r, c.contact_id == r.contact_id).select(c, r.answered_on)
    last_on = ibis.null("date")
    if last_sent is not None:
        c = c.left_join(last_sent, c.contact_id == last_sent.contact_id).select(c, last_sent.last_on)
        last_on = c.last_on
    period = round((programme.trigger.every_months or 12) * 30.4375)
    joined = c.created_at.date()
    seen = ibis.coalesce(ibis.greatest(last_on, c.answered_on), last_on, c.answered_on)
    today = _date(day)
    phase = (c.contact_id.hash().abs() + (today - _date(dt.date(2000, 1, 1))).cast("int64")) % period
    c = c.filter((ibis.coalesce(seen, joined) + ibis.interval(days=period) <= today) & (phase <= catch_up_days))
    return c.select("account_id", "contact_id", touched_on=today, touchpoint_ref=ibis.literal(f"periodic:{day:%Y-%m}"))
