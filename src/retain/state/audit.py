"""The audit log: sign-ins, API key use and every admin change, with who, when and from where."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from retain.state.models import AuditEvent


def record(db: Session, action: str, *, actor: str | None = None, target: str | None = None,
           ip: str | None = None, detail: dict | None = None) -> None:
    """Add an audit event to the session (committed with the change it describes)."""
    db.add(AuditEvent(action=action, actor=actor, target=target, ip=ip, detail=detail))


def recent(db: Session, limit: int = 100) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
