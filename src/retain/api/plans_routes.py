"""``/api/v1`` routes for success plans: read an account's plan, create one from a template, change an objective's
target or date. Role scope is checked in SQL by the domain (:mod:`retain.action.plans`): an account or plan the
key's user may not see is a 404, exactly like a missing one."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from retain.action import plans
from retain.api.deps import Reader, Writer
from retain.api.errors import ApiError, ErrorBody
from retain.errors import NotFoundError, WarehouseError
from retain.server.deps import DB

ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 422, 503)}
router = APIRouter(prefix="/v1", responses=ERRORS, tags=["plans"])
AccountId = Annotated[str, Path(min_length=1, max_length=128, description="The account's id.")]


class ObjectivePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str = Field(description="adoption, outcome, renewal or expansion.")
    title: str
    metric: str = Field(description="The measured metric (docs/plans.md lists the vocabulary).")
    start_value: float | None = Field(None, description="Measured as of the plan's creation day.")
    current_value: float | None = Field(None, description="Measured as of `measured_on`.")
    target_value: float | None = None
    start_on: dt.date
    due_on: dt.date
    measured_on: dt.date | None = None
    status: str = Field(description="achieved, on_track, no_data, at_risk or off_track (from pace).")
    progress: float | None = Field(None, description="Share (0-1) of the way from start to target covered.")


class LinkedCtaPublic(BaseModel):
    id: int
    reason: str
    status: str
    due_on: dt.date
    tasks_open: int


class PlanPublic(BaseModel):
    id: int
    account_id: str
    title: str
    template: str | None = None
    status: str = Field(description="The worst objective's status.")
    summary: str = Field(description="The plan in one line, as Account 360 shows it.")
    created_on: dt.date
    refreshed_on: dt.date | None = None
    objectives: list[ObjectivePublic]
    ctas: list[LinkedCtaPublic]
    task_ids: list[int]


class PlanCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: Annotated[str | None, Field(max_length=64, pattern=r"^[a-z][a-z0-9_]*$",
                                          description="Default: the template for the account's segment.")] = None


class ObjectiveUpdateRequest(BaseModel):
    """At least one of the two (the schema says so with ``minProperties``); neither may be null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    target_value: Annotated[float, Field(allow_inf_nan=False)] = None  # type: ignore[assignment]
    due_on: dt.date = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _something(self) -> ObjectiveUpdateRequest:
        if self.target_value is None and self.due_on is None:
            raise ValueError("give target_value, due_on, or both")
        return self


def _public(view: plans.PlanView) -> PlanPublic:
    p = view.plan
    objectives = [ObjectivePublic.model_validate(v.objective).model_copy(update={"progress": v.progress})
                  for v in view.objectives]
    ctas = [LinkedCtaPublic(id=c.id, reason=c.reason, status=c.status, due_on=c.due_on,
                            tasks_open=sum(t.status == "open" for t in c.tasks)) for c in view.ctas]
    return PlanPublic(id=p.id, account_id=p.account_id, title=p.title, template=p.template,
                      status=view.summary.status.value, summary=view.summary.line, created_on=p.created_on,
                      refreshed_on=p.refreshed_on, objectives=objectives, ctas=ctas,
                      task_ids=[t.id for t in view.tasks])


def _view(db, who, account_id: str) -> plans.PlanView:
    view = plans.account_plan(db, account_id, who.scope)
    if view is None:
        raise NotFoundError(f"account '{account_id}' has no active success plan",
                            hint=f"create one with POST /api/v1/accounts/{account_id}/plan")
    return view


@router.get("/accounts/{account_id:path}/plan", operation_id="get_account_plan", response_model=PlanPublic)
def get_plan(db: DB, who: Reader, account_id: AccountId):
    """The account's active success plan: objectives with start, current and target values, status, linked CTAs."""
    return _public(_view(db, who, account_id))


@router.post("/accounts/{account_id:path}/plan", operation_id="create_account_plan", response_model=PlanPublic,
             status_code=201)
def create_plan(request: Request, db: DB, who: Writer, account_id: AccountId, body: PlanCreateRequest | None = None):
    """Create the account's success plan from a template; start values are measured as of the last publish."""
    settings = request.app.state.runtime.settings
    try:
        plans.create_plan_in(db, settings.warehouse, account_id, body.template if body else None,
                             by=who.user.username, scope=who.scope)
    except WarehouseError as exc:
        raise ApiError(503, exc.message, hint=exc.hint) from exc
    return _public(_view(db, who, account_id))


@router.patch("/plans/{plan_id}/objectives/{objective_id}", operation_id="update_plan_objective",
              response_model=ObjectivePublic)
def update_objective(db: DB, who: Writer, body: ObjectiveUpdateRequest,
                     plan_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                     objective_id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
    """Change an objective's target and/or due date; its status is recomputed."""
    objective = plans.update_objective(db, plan_id, objective_id, target=body.target_value, due_on=body.due_on,
                                       by=who.user.username, scope=who.scope)
    view = plans.objective_view(objective)
    return ObjectivePublic.model_validate(objective).model_copy(update={"progress": view.progress})
