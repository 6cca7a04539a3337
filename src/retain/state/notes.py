"""Notes on accounts: what a person wrote about an account, shown on its timeline as activities of kind ``note``.

Notes live in the application database (``account_notes``), not the warehouse: they are written on the dashboard
or through the API between publishes, and appear at once. Adding one is audited. Role scope is checked by the
callers (:mod:`retain.state.action_queries`): this module never decides who may see an account.

This module also declares the extra indexes of migration 0007 on ``ctas`` and ``cta_tasks`` (tables of migration
0005, :mod:`retain.state.actions`), which the Today page's reads need: declaring them here keeps the models equal
to what the migrations build.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from retain.errors import ArgumentError
from retain.state import audit
from retain.state.actions import Cta, CtaTask
from retain.state.models import Base, utcnow

MAX_NOTE = 4000
NOTE_KIND = "note"


class AccountNote(Base):
    __tablename__ = "account_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128))
    author: Mapped[str] = mapped_column(String(64))  # the user name of who wrote it
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_account_notes_account_created", "account_id", "created_at"),)


# Today and Team actions: CTAs escalated to someone, live; a person's open tasks (migration 0007)
Index("ix_ctas_escalated_status", Cta.__table__.c.escalated_to, Cta.__table__.c.status)
Index("ix_ctas_account_status", Cta.__table__.c.account_id, Cta.__table__.c.status)
Index("ix_cta_tasks_assignee_status", CtaTask.__table__.c.assignee_id, CtaTask.__table__.c.status)


def clean_body(body: str) -> str:
    """The note's text, stripped; an empty, over-long or control-character note is an ``ArgumentError``."""
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise ArgumentError("a note needs some text", hint="write what happened, e.g. 'Called Ann: renewal on track'")
    if len(text) > MAX_NOTE:
        raise ArgumentError(f"a note has at most {MAX_NOTE:,} characters ({len(text):,} given)",
                            hint="shorten it or split it into two notes")
    if any((ord(ch) < 32 and ch not in "\n\t") or ord(ch) == 127 for ch in text):
        raise ArgumentError("a note may not contain control characters", hint="remove them and try again")
    return text


def add(db: Session, account_id: str, body: str, author: str) -> AccountNote:
    """Write a note on ``account_id`` (audited, committed). The caller has checked the author may see it."""
    note = AccountNote(account_id=account_id, author=author[:64], body=clean_body(body), created_at=utcnow())
    db.add(note)
    db.flush()
    audit.record(db, "note.added", actor=author[:64], target=f"account:{account_id}"[:200],
                 detail={"note_id": note.id})
    db.commit()
    return note


def for_account(db: Session, account_id: str, limit: int = 50) -> list[AccountNote]:
    """The account's latest notes, newest first."""
    stmt = (select(AccountNote).where(AccountNote.account_id == account_id)
            .order_by(AccountNote.created_at.desc(), AccountNote.id.desc()).limit(limit))
    return list(db.scalars(stmt))


def as_event(note: AccountNote, names: dict[str, str] | None = None) -> dict:
    """A note as a timeline event (the shape of the published ``timeline``: at, kind, title, detail)."""
    who = (names or {}).get(note.author, note.author)
    return {"at": note.created_at.isoformat(timespec="seconds"), "kind": NOTE_KIND, "title": f"Note by {who}",
            "detail": note.body, "note_id": note.id}


def timeline(published: list[dict], notes: list[AccountNote], names: dict[str, str] | None = None) -> list[dict]:
    """The published timeline and the notes as one stream, newest first (ISO times sort as text)."""
    events = [*published, *(as_event(n, names) for n in notes)]
    return sorted(events, key=lambda e: str(e.get("at") or ""), reverse=True)
