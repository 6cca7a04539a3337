"""What people do to a CTA or a task: snooze, complete, dismiss, check off, and the lists they read.

Completing or dismissing a CTA withdraws its customer-facing e-mails not sent yet
(:func:`retain.action.customer_steps.withdraw_steps`); snoozing keeps them.

Each change is audited with the person who made it; a CTA or task that does not exist is a ``NotFoundError``, a
change that makes no sense (dismissing a closed CTA, snoozing into the past) an ``ArgumentError``: one line each.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, select
from sqlalchemy.orm import Session, selectinload

from retain.action.customer_steps import withdraw_steps
from retain.action.spec import Priority
from retain.errors import ArgumentError, NotFoundError
from retain.state import audit
from retain.state.actions import Cta, CtaStatus, CtaTask, TaskStatus
from retain.state.models import utcnow


def get_cta(db: Session, cta_id: int) -> Cta:
    cta = db.get(Cta, cta_id)
    if cta is None:
        raise NotFoundError(f"no CTA {cta_id}", hint="list them with `retain ctas`")
    return cta


def _live(cta: Cta, verb: str) -> None:
    if not cta.live:
        raise ArgumentError(f"CTA {cta.id} is {cta.status}; only an open or snoozed CTA can be {verb}",
                            hint="list open ones with `retain ctas --status open`")


def _close(db: Session, cta: Cta, status: CtaStatus, day: dt.date, reason: str | None, actor: str) -> Cta:
    """Close the CTA and, in the same transaction, withdraw its customer-facing e-mails not sent yet (audited)."""
    cta.status, cta.open_key, cta.closed_on, cta.status_reason = status.value, None, day, reason
    cta.snoozed_until, cta.updated_at = None, utcnow()
    withdrawn = withdraw_steps(db, [cta.id]).get(cta.id)
    audit.record(db, f"cta.{status.value}", actor=actor, target=f"cta:{cta.id}",
                 detail={"reason": reason} | ({"withdrawn_messages": withdrawn} if withdrawn else {}))
    db.commit()
    return cta


def complete(db: Session, cta_id: int, actor: str, day: dt.date | None = None) -> Cta:
    """Mark a CTA done."""
    cta = get_cta(db, cta_id)
    _live(cta, "done")
    return _close(db, cta, CtaStatus.DONE, day or dt.date.today(), None, actor)


def dismiss(db: Session, cta_id: int, reason: str, actor: str, day: dt.date | None = None) -> Cta:
    """Dismiss a CTA, with a reason (required: it tells the rule's author why it was not worth doing)."""
    if not reason.strip():
        raise ArgumentError("a dismissal needs a reason", hint="say why, e.g. --reason 'renewal already signed'")
    cta = get_cta(db, cta_id)
    _live(cta, "dismissed")
    return _close(db, cta, CtaStatus.DISMISSED, day or dt.date.today(), reason.strip(), actor)


def snooze(db: Session, cta_id: int, until: dt.date, reason: str, actor: str, day: dt.date | None = None) -> Cta:
    """Snooze a CTA until a day (after ``day``), with a reason; it does not re-fire before then."""
    day = day or dt.date.today()
    if until <= day:
        raise ArgumentError(f"cannot snooze until {until}: it is not after {day}", hint="give a later day")
    if not reason.strip():
        raise ArgumentError("a snooze needs a reason", hint="say why, e.g. --reason 'customer on holiday'")
    cta = get_cta(db, cta_id)
    _live(cta, "snoozed")
    cta.status, cta.snoozed_until, cta.status_reason = CtaStatus.SNOOZED.value, until, reason.strip()
    cta.updated_at = utcnow()
    audit.record(db, "cta.snoozed", actor=actor, target=f"cta:{cta.id}",
                 detail={"until": until.isoformat(), "reason": reason.strip()})
    db.commit()
    return cta


def task_done(db: Session, task_id: int, actor: str) -> CtaTask:
    """Check a playbook task off (again is an error: it says when and by whom)."""
    task = db.get(CtaTask, task_id)
    if task is None:
        raise NotFoundError(f"no task {task_id}", hint="list a CTA's tasks with `retain ctas --tasks`")
    if task.status == TaskStatus.DONE:
        raise ArgumentError(f"task {task_id} was already done at {task.done_at:%Y-%m-%d %H:%M} by {task.done_by}")
    task.status, task.done_at, task.done_by = TaskStatus.DONE.value, utcnow(), actor
    audit.record(db, "task.done", actor=actor, target=f"task:{task.id}", detail={"cta_id": task.cta_id})
    db.commit()
    return task


def list_ctas(db: Session, *, owner: str | None = None, status: CtaStatus | None = None, limit: int = 500
              ) -> list[Cta]:
    """CTAs by priority then due date (open and snoozed by default); ``owner`` also matches the escalated-to."""
    q = select(Cta).options(selectinload(Cta.tasks))
    if status is None:
        q = q.where(Cta.status.in_([CtaStatus.OPEN.value, CtaStatus.SNOOZED.value]))
    else:
        q = q.where(Cta.status == status.value)
    if owner:
        q = q.where((Cta.owner_id == owner) | (Cta.escalated_to == owner))
    rank = case({p.value: p.rank for p in Priority}, value=Cta.priority, else_=len(Priority))
    return list(db.scalars(q.order_by(rank, Cta.due_on, Cta.id).limit(limit)))
