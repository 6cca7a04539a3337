"""Outbox messages: what Retain sends (e-mail, webhooks), written in the transaction of what caused them.

One row per message, whatever becomes of it (:class:`retain.delivery.outbox.MessageStatus`):

- ``pending``: due at ``next_attempt_at``; a failed attempt moves that later (exponential backoff);
- ``held``: a customer-facing message that would break a contact cap (``held_reason`` says which, in words);
  the worker releases it to ``pending`` when the rolling window allows;
- ``sending``: claimed by a worker (``claim_token``) until ``lease_until``; a worker killed mid-batch leaves its
  claims to expire, and they are claimed again;
- ``sent``; ``dead`` after the last attempt or a permanent refusal (``last_error``), re-sendable from Admin.
- ``withdrawn``: a waiting (pending or held) message whose cause was called off, e.g. a playbook step of a CTA
  that closed before the step's day; final: the worker never claims it, the caps never count it.

``idempotency_key`` is unique: enqueueing the same key twice returns the first message, and the key travels with
the message (``Message-ID``, ``Idempotency-Key``) so a receiver can drop a duplicate delivery.
``touch_on`` is the day a customer-facing message counts against the caps (:mod:`retain.delivery.caps`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from retain.state.models import Base, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    customer_facing: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(500))  # an e-mail address or a webhook URL
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    payload: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    account_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    contact_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)  # who sees a hold
    touch_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    held_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_outbox_messages_status_due", "status", "next_attempt_at"),
                      Index("ix_outbox_messages_contact_touch", "contact_id", "touch_on"),
                      Index("ix_outbox_messages_account_touch", "account_id", "touch_on"))
