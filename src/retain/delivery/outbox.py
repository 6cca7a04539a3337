"""The transactional outbox: a message is a row written in the caller's transaction, sent later by the worker.

Writing the message with what caused it (a CTA, a playbook step) means both exist or neither: a CTA is never
created without its alert, and an alert never goes out for a CTA that was rolled back. The worker
(:mod:`retain.delivery.worker`) delivers at least once; the idempotency key travels with each message so a
receiver can drop a repeat (see docs/delivery.md, section Guarantees).
"""

from __future__ import annotations

import datetime as dt
import zlib
from enum import StrEnum

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from retain.delivery.caps import CapsSpec, cap_block
from retain.errors import ArgumentError, NotFoundError
from retain.state import audit
from retain.state.models import utcnow
from retain.state.outbox import OutboxMessage


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class MessageStatus(StrEnum):
    PENDING = "pending"
    HELD = "held"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    WITHDRAWN = "withdrawn"  # never sent: what caused it was called off (a playbook step whose CTA closed)


def lock_contact(session: Session, key: str) -> None:
    """On PostgreSQL, serialise cap checks of one contact (or account) until the transaction ends, so two
    concurrent writers cannot both take the last place under a cap. SQLite serialises writers by itself."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(key.encode()) - 2**31})


def enqueue(session: Session, *, channel: Channel, to: str, subject: str, text: str, html: str | None = None,
            payload: dict | None = None, idempotency_key: str, kind: str, account_id: str | None = None,
            contact_id: str | None = None, customer_facing: bool = False, category: str = "transactional",
            not_before: dt.datetime | None = None, day: dt.date | None = None, wh=None,
            owner_id: str | None = None, caps: CapsSpec | None = None) -> OutboxMessage:
    """Adds a message in the caller's transaction (no commit). Same idempotency_key -> the existing message,
    unchanged. A customer-facing message that would break a contact cap is stored HELD with ``held_reason``
    (words), released by the worker when the window allows. ``day`` is when it counts against the caps (default:
    ``not_before``'s day, else today); ``owner_id`` is the member who sees why it is held."""
    return add_message(session, channel=channel, to=to, subject=subject, text=text, html=html, payload=payload,
                       idempotency_key=idempotency_key, kind=kind, account_id=account_id, contact_id=contact_id,
                       customer_facing=customer_facing, category=category, not_before=not_before, day=day, wh=wh,
                       owner_id=owner_id, caps=caps)[0]


def add_message(session: Session, *, channel: Channel, to: str, subject: str, text: str, html: str | None,
                payload: dict | None, idempotency_key: str, kind: str, account_id: str | None, contact_id: str | None,
                customer_facing: bool, category: str, not_before: dt.datetime | None, day: dt.date | None, wh,
                owner_id: str | None, caps: CapsSpec | None) -> tuple[OutboxMessage, bool]:
    """:func:`enqueue`, and whether the message is new."""
    channel = Channel(channel)
    if not idempotency_key or len(idempotency_key) > 200:
        raise ArgumentError("an outbox message needs an idempotency key of 1 to 200 characters",
                            hint="derive it from what the message is about, e.g. cta_alert:123:rita")
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key))
    if existing is not None:
        return existing, False
    touch_on = day or (not_before.date() if not_before else utcnow().date())
    status, reason = MessageStatus.PENDING, None
    if customer_facing:
        for key in (contact_id, account_id):
            if key:
                lock_contact(session, key)
        reason = cap_block(session, wh, contact_id=contact_id, account_id=account_id, category=category,
                           day=touch_on, caps=caps, channel=channel.value)
        if reason:
            status = MessageStatus.HELD
    message = OutboxMessage(
        idempotency_key=idempotency_key, channel=channel.value, kind=kind, category=category,
        customer_facing=customer_facing, status=status.value, recipient=to, subject=subject[:300], text=text,
        html=html, payload=payload, account_id=account_id, contact_id=contact_id, owner_id=owner_id,
        touch_on=touch_on, held_reason=reason, attempts=0, next_attempt_at=not_before or utcnow(),
        created_at=utcnow())
    session.add(message)
    session.flush()
    return message, True


def resend(session: Session, message_id: int, *, actor: str, now: dt.datetime | None = None) -> OutboxMessage:
    """Put a dead (or held) message back in the queue with a fresh count of attempts; committed and audited.
    A held one is released as is: an admin's decision overrides the cap."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFoundError(f"no outbox message {message_id}", hint="list them with `retain deliver --dead`")
    if message.status not in (MessageStatus.DEAD, MessageStatus.HELD):
        raise ArgumentError(f"outbox message {message_id} is {message.status}, not dead or held",
                            hint="only dead letters and held messages can be re-sent")
    previous = message.status
    message.status, message.attempts, message.next_attempt_at = MessageStatus.PENDING.value, 0, now or utcnow()
    message.lease_until = message.claim_token = None
    audit.record(session, "outbox.resend", actor=actor, target=f"outbox:{message_id}",
                 detail={"was": previous, "key": message.idempotency_key})
    session.commit()
    return message


def messages(session: Session, statuses: tuple[MessageStatus, ...], *, owner_id: str | None = None,
             limit: int = 200) -> list[OutboxMessage]:
    """Messages in ``statuses`` (of one owner when given), oldest first."""
    stmt = select(OutboxMessage).where(OutboxMessage.status.in_([s.value for s in statuses]))
    if owner_id is not None:
        stmt = stmt.where(OutboxMessage.owner_id == owner_id)
    return list(session.scalars(stmt.order_by(OutboxMessage.id).limit(limit)))


def held_for_owner(session: Session, member_id: str, limit: int = 50) -> list[OutboxMessage]:
    """The customer-facing messages of ``member_id`` waiting for a cap's window, with ``held_reason``."""
    return messages(session, (MessageStatus.HELD,), owner_id=member_id, limit=limit)


def status_counts(session: Session) -> dict[str, int]:
    """Messages per status (every status present, zero included)."""
    found = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    return {s.value: int(found.get(s.value, 0)) for s in MessageStatus}
