"""Today: the signed-in person's calls to action and tasks, most urgent first, each closed, snoozed or dismissed in
one click (every form carries the session's CSRF token). Scope and every change live in
:mod:`retain.state.action_queries`; this module parses, calls and renders."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from retain.action.customer_steps import step_status
from retain.delivery.outbox import held_for_owner
from retain.errors import NotFoundError, RetainError
from retain.server.deps import DB
from retain.state import action_queries as aq
from retain.state.action_queries import CtaAction, CtaUpdate, TodayFilter
from retain.web.deps import CsrfViewer, CurrentViewer, Viewer
from retain.web.render import page
from retain.web.routes.accounts import BadQuery, people

router = APIRouter()
SNOOZE_DAYS = (7, 14, 30)
Reason = Annotated[str, Form(max_length=500)]


def today_filter(request: Request) -> TodayFilter:
    """The page's filters from the query string; empty fields mean no filter, unknown keys are ignored."""
    params = {k: v for k, v in request.query_params.items() if v != "" and k in TodayFilter.model_fields}
    try:
        return TodayFilter(**params)
    except ValidationError as exc:
        raise BadQuery("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from exc


def _render(request: Request, db: DB, viewer: Viewer, filters: TodayFilter, *, error: str | None = None,
            status_code: int = 200):
    member = viewer.user.member_id
    view = aq.today(db, member, filters) if member else None
    held = held_for_owner(db, member) if member else []  # customer-facing messages a contact cap holds back
    steps = step_status(db, [t for c in view.ctas for t in c.tasks] + view.tasks) if view else {}
    return page(request, "today.html", db=db, viewer=viewer, nav="today", view=view, filters=filters, held=held,
                steps=steps, error=error, snooze_days=SNOOZE_DAYS, people=people(request, db),
                status_code=status_code)


@router.get("/today", name="today")
def today(request: Request, db: DB, viewer: CurrentViewer):
    return _render(request, db, viewer, today_filter(request))


def _back(target: str) -> str:
    """Back to the page the form was on (same-site paths only)."""
    if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/today"
    return target


@router.post("/today/ctas/{cta_id}", name="today_cta")
def change_cta(request: Request, db: DB, viewer: CsrfViewer, cta_id: Annotated[int, Path(ge=1)],
               action: Annotated[CtaAction, Form()], reason: Reason = "",
               days: Annotated[int, Form(ge=1, le=365)] = SNOOZE_DAYS[0],
               next_url: Annotated[str, Form(alias="next", max_length=500)] = "/today"):
    """Done, snooze (``days`` from today, with a reason) or dismiss (with a reason) one CTA, then back."""
    day = aq.reference_day(db)
    try:
        change = CtaUpdate(status=action, reason=reason.strip() or None,
                           until=day + dt.timedelta(days=days) if action is CtaAction.SNOOZED else None)
        aq.update_cta(db, viewer.scope, cta_id, change, viewer.user.username, day)
    except (RetainError, ValidationError) as exc:
        return _failed(request, db, viewer, exc)
    return RedirectResponse(_back(next_url), status_code=303)


@router.post("/today/tasks/{task_id}/done", name="today_task_done")
def task_done(request: Request, db: DB, viewer: CsrfViewer, task_id: Annotated[int, Path(ge=1)],
              next_url: Annotated[str, Form(alias="next", max_length=500)] = "/today"):
    try:
        aq.task_done(db, viewer.scope, task_id, viewer.user.username)
    except RetainError as exc:
        return _failed(request, db, viewer, exc)
    return RedirectResponse(_back(next_url), status_code=303)


def _failed(request: Request, db: DB, viewer: Viewer, exc: Exception):
    """Today again, with what went wrong on top (a 404 stays a 404: out of scope looks like missing)."""
    db.rollback()
    status = 404 if isinstance(exc, NotFoundError) else 400
    if isinstance(exc, ValidationError):
        message = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    else:
        message = exc.message + (f" ({exc.hint})" if exc.hint else "")
    return _render(request, db, viewer, TodayFilter(), error=message, status_code=status)
