"""Notifications of calls to action: an immediate alert per critical CTA, and each user's daily digest.

Called by ``retain act`` inside the transaction that writes the CTAs (:func:`retain.action.store.sync`), so the
messages exist exactly when their CTAs do. Recipients are the active users linked to a team member: by e-mail
(the member's address in the published team) and by their own webhook (``RETAIN_WEBHOOK_URLS``); a global
webhook (``RETAIN_WEBHOOK_URL``) gets each alert once. Idempotency keys make a second run of the same day add
nothing: ``cta_alert:{cta}:{user}``, ``digest:{user}:{day}`` (``:webhook`` appended for the webhook copy).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from retain.delivery.outbox import Channel, add_message
from retain.delivery.settings import DeliverySettings, load_settings
from retain.state.actions import Cta, CtaStatus, CtaTask, TaskStatus
from retain.state.models import AccountSnapshot, TeamMember, User

CRITICAL = "critical"
PRIORITY_ORDER = ("critical", "high", "medium", "low")
DIGEST_LINES = 25


@dataclass(frozen=True)
class Recipient:
    username: str
    name: str
    member_id: str
    email: str | None
    webhook: str | None


def recipients(session: Session, settings: DeliverySettings) -> dict[str, list[Recipient]]:
    """Active users with a team member, by member id, with where to reach them."""
    rows = session.execute(select(User.username, User.display_name, User.member_id, TeamMember.email, TeamMember.name)
                           .outerjoin(TeamMember, TeamMember.member_id == User.member_id)
                           .where(User.is_active.is_(True), User.member_id.is_not(None)))
    found: dict[str, list[Recipient]] = {}
    for username, display, member_id, email, name in rows:
        found.setdefault(member_id, []).append(Recipient(username, display or name or username, member_id,
                                                         email or None, settings.webhook_urls.get(username)))
    return found


def enqueue_cta_notifications(session: Session, day: dt.date, *, settings: DeliverySettings | None = None) -> int:
    """Alerts for the critical CTAs that fired on ``day`` and every user's digest of ``day``, in the caller's
    transaction (no commit); how many messages are new."""
    settings = settings or load_settings()
    people = recipients(session, settings)
    added = _alerts(session, day, people, settings)
    for group in people.values():
        for person in group:
            added += _digest(session, day, person)
    return added


def _alerts(session: Session, day: dt.date, people: dict[str, list[Recipient]], settings: DeliverySettings) -> int:
    ctas = session.execute(select(Cta, AccountSnapshot.name).outerjoin(
        AccountSnapshot, AccountSnapshot.account_id == Cta.account_id).where(
        Cta.priority == CRITICAL, Cta.status == CtaStatus.OPEN.value, Cta.last_fired_on == day).order_by(Cta.id))
    added = 0
    for cta, account in ctas.all():
        subject = f"Critical: {account or cta.account_id}: {cta.reason}"
        text = (f"{cta.reason} on {account or cta.account_id} (as of {day.isoformat()}).\n{cta.detail or ''}\n"
                f"Due {cta.due_on.isoformat()}.")
        payload = {"cta_id": cta.id, "account_id": cta.account_id, "account": account, "type": cta.type,
                   "reason": cta.reason, "detail": cta.detail, "priority": cta.priority, "owner_id": cta.owner_id,
                   "due_on": cta.due_on.isoformat(), "day": day.isoformat()}
        common = {"subject": subject, "text": text, "payload": payload, "kind": "cta_alert",
                  "account_id": cta.account_id, "owner_id": cta.owner_id, "day": day}
        for person in people.get(cta.owner_id, []):
            added += _both(session, person, f"cta_alert:{cta.id}:{person.username}", common)
        if settings.webhook_url:
            added += _new(session, channel=Channel.WEBHOOK, to=settings.webhook_url,
                          idempotency_key=f"cta_alert:{cta.id}:webhook", **common)
    return added


def _both(session: Session, person: Recipient, key: str, common: dict) -> int:
    added = 0
    if person.email:
        added += _new(session, channel=Channel.EMAIL, to=person.email, idempotency_key=key, **common)
    if person.webhook:
        added += _new(session, channel=Channel.WEBHOOK, to=person.webhook, idempotency_key=f"{key}:webhook",
                      **common)
    return added


def _new(session: Session, **message) -> int:
    """1 when the message is new, 0 when its key was already in the outbox."""
    defaults = {"html": None, "payload": None, "account_id": None, "contact_id": None, "customer_facing": False,
                "category": "transactional", "not_before": None, "wh": None, "owner_id": None, "caps": None}
    return int(add_message(session, **(defaults | message))[1])


def _digest(session: Session, day: dt.date, person: Recipient) -> int:
    """The user's open CTAs (owned or escalated to them) and open tasks, most urgent first; none: no digest."""
    rank = case({p: i for i, p in enumerate(PRIORITY_ORDER)}, value=Cta.priority, else_=len(PRIORITY_ORDER))
    ctas = session.execute(select(Cta, AccountSnapshot.name).outerjoin(
        AccountSnapshot, AccountSnapshot.account_id == Cta.account_id).where(
        Cta.status == CtaStatus.OPEN.value, or_(Cta.owner_id == person.member_id,
                                                Cta.escalated_to == person.member_id))
        .order_by(rank, Cta.due_on, Cta.id)).all()
    tasks = session.execute(select(CtaTask, Cta.account_id, AccountSnapshot.name).join(Cta).outerjoin(
        AccountSnapshot, AccountSnapshot.account_id == Cta.account_id).where(
        CtaTask.status == TaskStatus.OPEN.value, CtaTask.assignee_id == person.member_id,
        Cta.open_key.is_not(None)).order_by(CtaTask.due_on, CtaTask.id)).all()
    if not ctas and not tasks:
        return 0
    cta_items = [{"cta_id": c.id, "account_id": c.account_id, "account": a or c.account_id, "priority": c.priority,
                  "reason": c.reason, "due_on": c.due_on.isoformat(), "overdue": c.due_on < day}
                 for c, a in ctas]
    task_items = [{"task_id": t.id, "cta_id": t.cta_id, "account_id": acc, "account": a or acc, "title": t.title,
                   "due_on": t.due_on.isoformat(), "overdue": t.due_on < day} for t, acc, a in tasks]
    subject = f"Retain digest {day.isoformat()}: {len(ctas)} open call(s) to action, {len(tasks)} task(s)"
    lines = [f"{person.name}, as of {day.isoformat()} you have {len(ctas)} open call(s) to action and "
             f"{len(tasks)} open task(s).", "", "Calls to action:"]
    lines += [f"- [{c['priority']}] {c['account']}: {c['reason']} (due {c['due_on']}"
              f"{', overdue' if c['overdue'] else ''})" for c in cta_items[:DIGEST_LINES]] or ["- none"]
    lines += ["", "Tasks:"]
    lines += [f"- {t['title']} for {t['account']} (due {t['due_on']}{', overdue' if t['overdue'] else ''})"
              for t in task_items[:DIGEST_LINES]] or ["- none"]
    html = "<p>" + escape(lines[0]) + "</p><ul>" + "".join(
        f"<li><b>{escape(c['priority'])}</b> {escape(c['account'])}: {escape(c['reason'])} "
        f"(due {c['due_on']})</li>" for c in cta_items[:DIGEST_LINES]) + "</ul>"
    common = {"subject": subject, "text": "\n".join(lines), "html": html, "kind": "digest",
              "owner_id": person.member_id, "day": day,
              "payload": {"day": day.isoformat(), "user": person.username, "ctas": cta_items[:100],
                          "tasks": task_items[:100]}}
    return _both(session, person, f"digest:{person.username}:{day.isoformat()}", common)
