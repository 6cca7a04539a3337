"""Admin: users and roles, API keys, the active scorecard, publishing status and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from retain.errors import RetainError
from retain.server.deps import DB, client_ip, runtime
from retain.state import audit, published, queries, users
from retain.state.models import User
from retain.web.deps import AdminViewer, CsrfAdmin
from retain.web.render import page
from retain.web.scorecard import active_scorecard

router = APIRouter()


def _admin_page(request: Request, db, viewer, *, flash=None, error=None, new_key=None, status_code=200):
    return page(request, "admin.html", db=db, viewer=viewer, nav="admin", users=users.list_users(db),
                keys=users.list_keys(db), audit=audit.recent(db, 50), flash=flash, error=error, new_key=new_key,
                scorecard=active_scorecard(runtime(request).settings.scorecard), status_code=status_code,
                doctor=published.read(db, viewer.scope, "doctor"))  # None until the doctor report is published


@router.get("/admin", name="admin")
def admin(request: Request, db: DB, viewer: AdminViewer):
    return _admin_page(request, db, viewer)


@router.post("/admin/users")
def add_user(
    request: Request, db: DB, viewer: CsrfAdmin,
    username: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(pattern="^(admin|manager|member)$")],
    member_id: Annotated[str, Form(max_length=128)] = "",
):
    try:
        users.create_user(db, username, password, role, member_id=member_id or None, actor=viewer.user.username)
    except RetainError as exc:
        db.rollback()
        return _admin_page(request, db, viewer, error=str(exc), status_code=400)
    return _admin_page(request, db, viewer, flash=f"User {username} created.")


@router.post("/admin/users/{username}/active")
def set_active(request: Request, db: DB, viewer: CsrfAdmin, username: str = Path(max_length=64),
               active: Annotated[bool, Form()] = False):
    if username == viewer.user.username:
        return _admin_page(request, db, viewer, error="You cannot deactivate yourself.", status_code=400)
    users.set_active(db, username, active, actor=viewer.user.username)
    runtime(request).forget_keys()
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/keys")
def create_key(
    request: Request, db: DB, viewer: CsrfAdmin,
    name: Annotated[str, Form(min_length=1, max_length=100)], username: Annotated[str, Form(max_length=64)],
    scope: Annotated[str, Form(pattern="^(read|write)$")] = "read",
):
    owner = db.scalar(select(User).where(User.username == username))
    if owner is None:
        return _admin_page(request, db, viewer, error=f"No user '{username}'.", status_code=400)
    try:
        key, row = users.create_key(db, owner, name, scope, actor=viewer.user.username)
    except RetainError as exc:
        db.rollback()
        return _admin_page(request, db, viewer, error=str(exc), status_code=400)
    audit.record(db, "key.shown", actor=viewer.user.username, target=row.prefix, ip=client_ip(request))
    db.commit()
    return _admin_page(request, db, viewer, flash=f"Key '{name}' for {username} created:", new_key=key)


@router.post("/admin/keys/{prefix}/revoke")
def revoke_key(request: Request, db: DB, viewer: CsrfAdmin, prefix: str = Path(max_length=16)):
    users.revoke_key(db, prefix, actor=viewer.user.username)
    runtime(request).forget_keys()
    return RedirectResponse("/admin", status_code=303)


__all__ = ["router", "queries"]
