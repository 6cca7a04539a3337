"""Admin: the outbox — pending, held (with why) and dead messages, and a re-send button for the dead and held."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse

from retain.delivery.outbox import MessageStatus, messages, resend, status_counts
from retain.errors import ArgumentError
from retain.server.deps import DB
from retain.web.deps import AdminViewer, CsrfAdmin
from retain.web.render import page

router = APIRouter()
SHOWN = (MessageStatus.DEAD, MessageStatus.HELD, MessageStatus.PENDING, MessageStatus.SENDING)


def _page(request: Request, db, viewer, *, resent=None, error=None, status_code=200):
    groups = {s.value: messages(db, (s,), limit=200) for s in SHOWN}
    return page(request, "outbox.html", db=db, viewer=viewer, nav="admin", counts=status_counts(db), groups=groups,
                resent=resent, error=error, status_code=status_code)


@router.get("/admin/outbox", name="admin_outbox")
def outbox(request: Request, db: DB, viewer: AdminViewer, resent: int | None = None):
    return _page(request, db, viewer, resent=resent)


@router.post("/admin/outbox/{message_id}/resend")
def resend_message(request: Request, db: DB, viewer: CsrfAdmin, message_id: int = Path(ge=1)):
    try:
        resend(db, message_id, actor=viewer.user.username)
    except ArgumentError as exc:  # already sent or pending: say so; an unknown id is a 404 (NotFoundError)
        db.rollback()
        return _page(request, db, viewer, error=exc.message, status_code=409)
    return RedirectResponse(f"/admin/outbox?resent={message_id}", status_code=303)
