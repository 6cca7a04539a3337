"""Calls to action (CTAs) and their playbook tasks, in the application database.

A CTA is what a rule asked someone to do about an account (:mod:`retain.action`). Its life:

- ``open`` when a rule fires; an open (or snoozed) CTA with the same account, type and reason is *updated*, never
  duplicated: ``open_key`` holds ``account|type|reason`` while it is open or snoozed and is unique, so the database
  itself refuses a duplicate; it is cleared when the CTA closes.
- ``snoozed`` until a day, with a reason: it does not re-fire before then.
- ``done`` or ``dismissed`` (with a reason) by a person; ``auto_closed`` when its signal clears (recorded with the
  day and why).
- Overdue by the rule set's ``escalate_after_days``: ``escalated_to`` the owner's manager, once.

The evidence is frozen at firing (``evidence``); ``detail`` and ``priority`` follow the latest firing.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from retain.state.models import Base, utcnow


class CtaStatus(enum.StrEnum):
    OPEN = "open"
    SNOOZED = "snoozed"
    DONE = "done"
    DISMISSED = "dismissed"
    AUTO_CLOSED = "auto_closed"

    @property
    def live(self) -> bool:
        """Open or snoozed: the CTA still holds its dedupe key."""
        return self in (CtaStatus.OPEN, CtaStatus.SNOOZED)


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


def open_key(account_id: str, type_: str, reason: str) -> str:
    """The dedupe key of a live CTA."""
    return f"{account_id}|{type_}|{reason}"


class Cta(Base):
    __tablename__ = "ctas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    type: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)  # the reason with the latest values, in words
    priority: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)  # value at risk or opportunity value
    owner_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    routed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)  # csm, fallback:account_owner, ...
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=CtaStatus.OPEN.value)
    open_key: Mapped[str | None] = mapped_column(String(400), nullable=True, unique=True)
    snoozed_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why snoozed, dismissed or auto-closed
    rule: Mapped[str] = mapped_column(String(64), index=True)
    rule_version: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # frozen at firing
    playbook: Mapped[str | None] = mapped_column(String(64), nullable=True)
    auto_close: Mapped[str] = mapped_column(String(16))
    opened_on: Mapped[dt.date] = mapped_column(Date)  # the as-of day it first fired
    last_fired_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    escalated_to: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    escalated_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    tasks: Mapped[list[CtaTask]] = relationship(back_populates="cta", order_by="CtaTask.seq", lazy="select",
                                                cascade="all, delete-orphan")

    __table_args__ = (Index("ix_ctas_owner_status_due", "owner_id", "status", "due_on"),
                      Index("ix_ctas_status_due", "status", "due_on"))

    @property
    def live(self) -> bool:
        return CtaStatus(self.status).live


class CtaTask(Base):
    """One task of a CTA's playbook, in the playbook's order."""

    __tablename__ = "cta_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cta_id: Mapped[int] = mapped_column(ForeignKey("ctas.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN.value)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cta: Mapped[Cta] = relationship(back_populates="tasks")
