"""Survey invitations, single-use links, answers and opt-outs (:mod:`retain.surveys`).

- ``survey_invitations``: one row per invitation a programme sent (``dedupe_key`` = programme, contact and
  touchpoint, unique, so a touchpoint is never surveyed twice); ``status`` goes ``sent`` -> ``answered`` once.
- ``survey_answers``: one row per answer; ``invitation_id`` is unique, and the answer's insert flips its invitation
  in the same transaction with ``UPDATE ... WHERE status = 'sent'``, so a link is single use even under a race.
  ``warehouse_at`` is set once the answer is in the warehouse's ``survey_responses`` (null: still to copy).
- ``survey_opt_outs``: contacts who unsubscribed; every programme skips them.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from retain.state.models import Base, utcnow


class InvitationStatus(enum.StrEnum):
    SENT = "sent"
    ANSWERED = "answered"


class SurveyInvitation(Base):
    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme: Mapped[str] = mapped_column(String(64), index=True)
    survey_type: Mapped[str] = mapped_column(String(8))
    touchpoint: Mapped[str] = mapped_column(String(32))
    touchpoint_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    contact_id: Mapped[str] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    sent_on: Mapped[dt.date] = mapped_column(Date)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.SENT.value)
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    reminder_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # when the one reminder is due
    reminded_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the outbox message of the invitation
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_survey_invitations_contact_sent", "contact_id", "sent_on"),
                      Index("ix_survey_invitations_status_reminder", "status", "reminder_on"))


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("survey_invitations.id", ondelete="CASCADE"), unique=True)
    response_id: Mapped[str] = mapped_column(String(64), unique=True)  # the warehouse key (survey_responses)
    programme: Mapped[str] = mapped_column(String(64), index=True)
    survey_type: Mapped[str] = mapped_column(String(8))
    touchpoint: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    contact_id: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    warehouse_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    cta_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SurveyOptOut(Base):
    __tablename__ = "survey_opt_outs"

    contact_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    source: Mapped[str] = mapped_column(String(32))  # "link" (the unsubscribe link), "admin", "import"
    opted_out_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
