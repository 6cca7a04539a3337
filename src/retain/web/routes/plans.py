"""An account's success plan page: objectives with start, current and target values, a progress bar and status,
linked CTAs; create the plan from a template, change an objective's target or date (CSRF-protected forms). Role
scope is the domain's, in SQL: an account the viewer may not see is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse

from retain.action import plans
from retain.action.plan_spec import load_plan_templates
from retain.errors import ArgumentError, NotFoundError, RetainError
from retain.server.deps import DB, runtime
from retain.state import queries
from retain.web.deps import CsrfViewer, CurrentViewer, Viewer
from retain.web.render import page

router = APIRouter()


def plan_url(account_id: str) -> str:
    return f"/accounts/{quote(account_id, safe='')}/plan"


def _page(request: Request, db, viewer: Viewer, account_id: str, *, error: str | None = None,
          status_code: int = 200):
    a = queries.get_account(db, viewer.scope, account_id)
    view = plans.account_plan(db, account_id, viewer.scope)
    templates = load_plan_templates()
    return page(request, "plan.html", db=db, viewer=viewer, nav="accounts", a=a, view=view, error=error,
                templates=sorted(templates.plan_templates), suggested=templates.for_segment(a.segment),
                status_code=status_code, plan_url=plan_url(account_id))


@router.get("/accounts/{account_id:path}/plan", name="account_plan")
def plan_page(request: Request, db: DB, viewer: CurrentViewer, account_id: str = Path(max_length=128)):
    return _page(request, db, viewer, account_id)


@router.post("/accounts/{account_id:path}/plan")
def create_plan(request: Request, db: DB, viewer: CsrfViewer, account_id: str = Path(max_length=128),
                template: Annotated[str, Form(max_length=64)] = ""):
    try:
        plans.create_plan_in(db, runtime(request).settings.warehouse, account_id, template or None,
                             by=viewer.user.username, scope=viewer.scope)
    except NotFoundError:
        raise
    except RetainError as exc:
        db.rollback()
        return _page(request, db, viewer, account_id, error=exc.message, status_code=400)
    return RedirectResponse(plan_url(account_id), status_code=303)


@router.post("/plans/{plan_id}/objectives/{objective_id}")
def update_objective(request: Request, db: DB, viewer: CsrfViewer,
                     plan_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                     objective_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                     target: Annotated[str, Form(max_length=40)] = "",
                     due_on: Annotated[str, Form(max_length=10)] = ""):
    try:
        objective = plans.update_objective(db, plan_id, objective_id, target=_number(target), due_on=_date(due_on),
                                           by=viewer.user.username, scope=viewer.scope)
    except NotFoundError:
        raise
    except RetainError as exc:
        db.rollback()
        account_id = plans.plan_account(db, plan_id, viewer.scope)
        return _page(request, db, viewer, account_id, error=exc.message, status_code=400)
    return RedirectResponse(plan_url(objective.plan.account_id), status_code=303)


def _number(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text.replace(",", "").replace("%", "").strip())
    except ValueError:
        raise ArgumentError(f"target '{text}' is not a number", hint="e.g. 0.8 or 75") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ArgumentError(f"target '{text}' is not a number", hint="e.g. 0.8 or 75")
    return value


def _date(text: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ArgumentError(f"'{text}' is not a date", hint="use YYYY-MM-DD") from None
