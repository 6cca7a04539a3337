"""Who is surveyed today, and why the others are held back: one Ibis expression, executed once in the engine.

The rules, in the order a candidate meets them (the first that holds it back is its reason):

1. a touchpoint already surveyed by its programme is not a candidate again (the invitation's ``dedupe_key``);
2. the exclusions the file keeps: opted out, churned account, an open escalated ticket, an open urgent ticket;
   a contact without an e-mail address cannot be asked;
3. the global recontact window: a contact invited by *any* programme (or who answered any survey, imported ones
   included) within ``recontact_days`` is held, and of the programmes a contact qualifies for today only the first
   listed asks (the others are held by the window too);
4. the account's monthly cap: invitations already sent this calendar month plus today's, in programme order;
5. (when sending, or asked for) issue 11's contact caps, through :func:`retain.delivery.caps.cap_block`.

The application database's part of the history (recent invitations, opt-outs) goes in as in-memory tables, so the
whole decision for a million contacts is one query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import ibis
import ibis.expr.types as ir
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from retain.state.surveys import SurveyInvitation, SurveyOptOut
from retain.surveys.spec import Exclusion, ProgrammeSetSpec, TriggerKind
from retain.surveys.touchpoints import touchpoints
from retain.warehouse import Warehouse


class Decision(StrEnum):
    INVITE = "invite"
    HELD = "held"


class HoldReason(StrEnum):
    OPTED_OUT = "opted_out"
    CHURNED = "churned"
    OPEN_ESCALATION = "open_escalation"
    CRITICAL_TICKET = "critical_ticket"
    NO_EMAIL = "no_email"
    RECONTACT_WINDOW = "recontact_window"
    ACCOUNT_MONTHLY_CAP = "account_monthly_cap"
    CONTACT_CAP = "contact_cap"  # issue 11's caps on customer-facing messages


PLAN_COLUMNS = ("programme", "survey_type", "touchpoint", "touchpoint_ref", "touched_on", "account_id", "contact_id",
                "email", "language", "dedupe_key", "decision", "reason")


@dataclass(frozen=True)
class History:
    """What the application database knows that the decision needs: recent invitations and the opt-outs."""

    recent: pd.DataFrame  # contact_id, account_id, programme, sent_on, dedupe_key
    last_per_programme: pd.DataFrame  # contact_id, programme, last_on (all time)
    opt_outs: pd.DataFrame  # contact_id

    @classmethod
    def empty(cls) -> History:
        return cls(pd.DataFrame({c: pd.Series(dtype=object) for c in
                                 ("contact_id", "account_id", "programme", "sent_on", "dedupe_key")}),
                   pd.DataFrame({c: pd.Series(dtype=object) for c in ("contact_id", "programme", "last_on")}),
                   pd.DataFrame({"contact_id": pd.Series(dtype=object)}))


def lookback_days(spec: ProgrammeSetSpec) -> int:
    """How far back invitations matter today: the recontact window, the month, the catch-up of the longest delay."""
    longest = max(p.delay_days for p in spec.programmes)
    return max(spec.recontact_days, 31, spec.catch_up_days + longest + 1)


def load_history(db: Session, spec: ProgrammeSetSpec, day: dt.date) -> History:
    """Recent invitations, each programme's last invitation per contact, and the opt-outs, from the app DB."""
    since = day - dt.timedelta(days=lookback_days(spec))
    inv = SurveyInvitation
    recent = pd.DataFrame(db.execute(select(inv.contact_id, inv.account_id, inv.programme, inv.sent_on,
                                            inv.dedupe_key).where(inv.sent_on >= since, inv.sent_on <= day)).all(),
                          columns=["contact_id", "account_id", "programme", "sent_on", "dedupe_key"])
    periodic = [p.name for p in spec.programmes if p.trigger.kind is TriggerKind.PERIODIC]  # the only readers
    last = pd.DataFrame(db.execute(select(inv.contact_id, inv.programme, func.max(inv.sent_on))
                                   .where(inv.sent_on <= day, inv.programme.in_(periodic))
                                   .group_by(inv.contact_id, inv.programme)).all() if periodic else [],
                        columns=["contact_id", "programme", "last_on"])
    opt = pd.DataFrame(db.execute(select(SurveyOptOut.contact_id)).all(), columns=["contact_id"])
    empty = History.empty()
    return History(recent if len(recent) else empty.recent, last if len(last) else empty.last_per_programme,
                   opt if len(opt) else empty.opt_outs)


def _memtable(frame: pd.DataFrame, schema: dict[str, str]) -> ir.Table:
    return ibis.memtable(frame.astype({k: object for k, v in schema.items() if v == "string"}), schema=schema)


def plan_expr(wh: Warehouse, spec: ProgrammeSetSpec, day: dt.date, history: History) -> ir.Table:
    """Every candidate of every programme today with its decision and, when held back, the reason (rules 1-4)."""
    last = _memtable(history.last_per_programme, {"contact_id": "string", "programme": "string", "last_on": "date"})
    return decide(wh, spec, day, _candidates(wh, spec, day, last), history)


def decide(wh: Warehouse, spec: ProgrammeSetSpec, day: dt.date, candidates: ir.Table, history: History
           ) -> ir.Table:
    """Rules 1-4 over ``candidates`` (the columns :func:`_candidates` gives, ``priority`` being the programme's
    position); a playbook's survey step (:mod:`retain.action.customer_steps`) brings its own candidates."""
    recent = _memtable(history.recent, {"contact_id": "string", "account_id": "string", "programme": "string",
                                        "sent_on": "date", "dedupe_key": "string"})
    opted = _memtable(history.opt_outs, {"contact_id": "string"}).distinct()
    candidates = candidates.anti_join(recent.select("dedupe_key"), "dedupe_key")  # rule 1
    c = _flagged(wh, spec, day, candidates, recent, opted)
    excluded = set(spec.exclusions)
    rules = [(c.opted_out, HoldReason.OPTED_OUT, Exclusion.OPTED_OUT),
             (c.churned, HoldReason.CHURNED, Exclusion.CHURNED),
             (c.escalated, HoldReason.OPEN_ESCALATION, Exclusion.OPEN_ESCALATION),
             (c.critical, HoldReason.CRITICAL_TICKET, Exclusion.CRITICAL_TICKET)]
    cases = [(flag, reason.value) for flag, reason, kind in rules if kind in excluded]
    cases += [(c.email.isnull() | (c.email.strip() == ""), HoldReason.NO_EMAIL.value),
              (c.contacted, HoldReason.RECONTACT_WINDOW.value)]
    c = c.mutate(reason=ibis.cases(*cases, else_=ibis.null("string")))
    # rule 3: of today's programmes, the first listed asks (the order of the file is priority)
    free = c.reason.isnull()
    first = ibis.row_number().over(group_by=[c.contact_id, free], order_by=[c.priority, c.touched_on.desc(),
                                                                            c.touchpoint_ref])
    c = c.mutate(reason=ibis.ifelse(free & (first > 0), HoldReason.RECONTACT_WINDOW.value, c.reason))
    # rule 4: the account's monthly cap, counting what was already sent this month
    free = c.reason.isnull()
    nth = ibis.row_number().over(group_by=[c.account_id, free], order_by=[c.priority, c.touched_on, c.contact_id])
    over = free & (c.sent_this_month + nth >= spec.account_monthly_cap)
    c = c.mutate(reason=ibis.ifelse(over, HoldReason.ACCOUNT_MONTHLY_CAP.value, c.reason))
    decision = ibis.ifelse(c.reason.isnull(), Decision.INVITE.value, Decision.HELD.value)
    return c.mutate(decision=decision).select(*PLAN_COLUMNS)


def _candidates(wh: Warehouse, spec: ProgrammeSetSpec, day: dt.date, last: ir.Table) -> ir.Table:
    """One row per (programme, contact, touchpoint) due today, with the contact's address and language."""
    people = wh.as_of("contacts", day)
    people = people.filter(people.left_at.isnull())
    language = people.language.lower().substr(0, 2)
    people = people.select("contact_id", "account_id", "role", "email",
                           language=ibis.ifelse(language == "zh", "zh", "en"))
    parts = []
    for priority, programme in enumerate(spec.programmes):
        mine = last.filter(last.programme == programme.name).select("contact_id", "last_on")
        tp = touchpoints(wh, programme, day, spec.catch_up_days, mine)
        by_account = tp.filter(tp.contact_id.isnull()).drop("contact_id").join(people, "account_id")
        direct = tp.filter(tp.contact_id.notnull()).drop("account_id").join(people, "contact_id")
        cols = ["account_id", "contact_id", "role", "email", "language", "touched_on", "touchpoint_ref"]
        rows = by_account.select(*cols).union(direct.select(*cols), distinct=False)
        if programme.audience:
            rows = rows.filter(rows.role.isin([r.value for r in programme.audience]))
        parts.append(rows.mutate(
            programme=ibis.literal(programme.name), priority=ibis.literal(priority),
            survey_type=ibis.literal(programme.survey.value),
            touchpoint=ibis.literal(programme.trigger.kind.touchpoint),
            dedupe_key=ibis.literal(programme.name + "|") + rows.contact_id + "|" + rows.touchpoint_ref))
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def _flagged(wh: Warehouse, spec: ProgrammeSetSpec, day: dt.date, c: ir.Table, recent: ir.Table,
             opted: ir.Table) -> ir.Table:
    """The candidates with their exclusion flags, whether the window holds them and the month's count so far."""
    acc = wh.as_of("accounts", day)
    churned = acc.filter(acc.churned_at.notnull()).select("account_id").distinct().mutate(churned=True)
    t = wh.as_of("support_tickets", day)
    t = t.filter(t.resolved_at.isnull() & ~t.status.fill_null("open").isin(["resolved", "closed"]))
    tickets = t.group_by("account_id").aggregate(escalated=t.escalated.fill_null(False).any(),
                                                 critical=(t.priority == "urgent").any())
    window_start = ibis.literal(day - dt.timedelta(days=spec.recontact_days), type="date")
    answered = wh.as_of("survey_responses", day)  # imported answers count too: surveyed is surveyed
    answered = answered.filter(answered.contact_id.notnull() & (answered.responded_at.date() > window_start))
    contacted = recent.filter(recent.sent_on > window_start).select("contact_id").union(
        answered.select("contact_id")).distinct().mutate(contacted=True)
    month = recent.filter(recent.sent_on >= ibis.literal(day.replace(day=1), type="date"))
    month = month.group_by("account_id").aggregate(sent_this_month=month.count())
    out = (c.left_join(churned, "account_id").drop("account_id_right")
           .left_join(tickets, "account_id").drop("account_id_right")
           .left_join(month, "account_id").drop("account_id_right")
           .left_join(contacted, "contact_id").drop("contact_id_right")
           .left_join(opted.mutate(opted_out=True), "contact_id").drop("contact_id_right"))
    return out.mutate(churned=out.churned.fill_null(False), escalated=out.escalated.fill_null(False),
                      critical=out.critical.fill_null(False), contacted=out.contacted.fill_null(False),
                      opted_out=out.opted_out.fill_null(False), sent_this_month=out.sent_this_month.fill_null(0))


def plan_today(wh: Warehouse, db: Session, spec: ProgrammeSetSpec, day: dt.date) -> pd.DataFrame:
    """The day's decisions (:data:`PLAN_COLUMNS`), invitations first, in programme order."""
    frame = wh.execute(plan_expr(wh, spec, day, load_history(db, spec, day)))
    order = {p.name: i for i, p in enumerate(spec.programmes)}
    frame = frame.assign(_p=frame["programme"].map(order)).sort_values(
        ["decision", "_p", "account_id", "contact_id"], kind="stable").drop(columns="_p")
    return frame.reset_index(drop=True)


def held_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Held-back candidates per programme and reason (what the dry run and the job report)."""
    held = frame[frame["decision"] == Decision.HELD.value]
    return (held.groupby(["programme", "reason"]).size().rename("contacts").reset_index()
            .sort_values(["programme", "contacts"], ascending=[True, False]).reset_index(drop=True))
