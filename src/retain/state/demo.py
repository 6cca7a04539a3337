"""Who the demo's sign-ins act as: a manager with reports and a CSM or rep who owns accounts, read from the
published team and snapshots."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from retain.state.models import AccountSnapshot, TeamMember


def demo_people(db: Session) -> dict[str, str | None]:
    """``{"member": the owner of the most published accounts, "manager": that owner's manager}`` (any manager
    when the owner has none; None where the published data has nobody)."""
    owner = db.scalar(select(AccountSnapshot.owner_id).where(AccountSnapshot.owner_id.is_not(None))
                      .group_by(AccountSnapshot.owner_id).order_by(func.count().desc()).limit(1))
    manager = None
    if owner is not None:
        manager = db.scalar(select(TeamMember.manager_id).where(TeamMember.member_id == owner))
    if manager is None:
        manager = db.scalar(select(TeamMember.manager_id).where(TeamMember.manager_id.is_not(None)).limit(1))
    return {"member": owner, "manager": manager}
