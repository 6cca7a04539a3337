"""``/api/v1`` routes for calls to action, their tasks and account notes. Role scope is applied in the query layer
(:mod:`retain.state.action_queries`): a CTA, task or account outside the key user's scope is a 404, as if missing."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Query

from retain.action.customer_steps import step_status
from retain.api import action_schemas as s
from retain.api.deps import Reader, Writer
from retain.api.errors import ApiError, ErrorBody
from retain.errors import ArgumentError
from retain.server.deps import DB
from retain.state import action_queries as aq
from retain.state.action_queries import CtaQuery, CtaUpdate

ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422, 500)}
router = APIRouter(prefix="/v1", responses=ERRORS)
CtaId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The CTA's id.")]
TaskId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The task's id.")]
AccountId = Annotated[str, Path(min_length=1, max_length=128, description="The account's id.")]


@contextmanager
def conflicts():
    """A change the CTA's (or task's) state refuses is a 409: closing a closed CTA, checking a done task off again,
    snoozing to a day not after the data's today. The message says which."""
    try:
        yield
    except ArgumentError as exc:
        raise ApiError(409, exc.message, hint=exc.hint) from exc


def _cta(cta, names: dict[str, str] | None = None, steps: dict[int, str] | None = None) -> s.CtaPublic:
    out = s.CtaPublic.model_validate(cta)
    tasks = [t.model_copy(update={"step": (steps or {}).get(t.id)}) for t in out.tasks]
    return out.model_copy(update={"account_name": (names or {}).get(cta.account_id), "tasks": tasks})


@router.get("/ctas", operation_id="list_ctas", response_model=s.CtaPage, tags=["actions"])
def list_ctas(db: DB, who: Reader, query: Annotated[CtaQuery, Query()]):
    """Calls to action the key's user may see (open and snoozed unless `status` says otherwise), most urgent first,
    then by due day; filtered and paginated."""
    page = aq.list_ctas(db, who.scope, query)
    steps = step_status(db, [t for c in page.items for t in c.tasks])
    return s.CtaPage(items=[_cta(c, page.names, steps) for c in page.items], total=page.total, page=page.page,
                     per_page=page.per_page, pages=page.pages)


@router.get("/ctas/{cta_id}", operation_id="get_cta", response_model=s.CtaPublic, tags=["actions"])
def get_cta(db: DB, who: Reader, cta_id: CtaId):
    """One CTA with its evidence and playbook tasks."""
    cta = aq.get_cta(db, who.scope, cta_id)
    return _cta(cta, aq.account_names(db, {cta.account_id}), step_status(db, cta.tasks))


@router.patch("/ctas/{cta_id}", operation_id="update_cta", response_model=s.CtaPublic, tags=["actions"])
def update_cta(db: DB, who: Writer, cta_id: CtaId, change: CtaUpdate):
    """Close (`done`), dismiss (with a `reason`) or snooze (with `until` and a `reason`) a CTA, and/or reassign it
    (`owner_id`: managers within their team tree, admins to anyone; someone else is a 404). Audited. A change the
    CTA's state refuses (it is closed; `until` is not after the data's today) is a 409."""
    with conflicts():
        cta = aq.update_cta(db, who.scope, cta_id, change, who.user.username)
    return _cta(cta, aq.account_names(db, {cta.account_id}))


@router.get("/ctas/{cta_id}/tasks", operation_id="list_cta_tasks", response_model=list[s.TaskPublic],
            tags=["actions"])
def list_tasks(db: DB, who: Reader, cta_id: CtaId):
    """The CTA's playbook tasks, in order."""
    tasks = aq.get_cta(db, who.scope, cta_id).tasks
    steps = step_status(db, tasks)
    return [s.TaskPublic.model_validate(t).model_copy(update={"step": steps.get(t.id)}) for t in tasks]


@router.post("/tasks/{task_id}/done", operation_id="complete_task", response_model=s.TaskPublic, tags=["actions"])
def task_done(db: DB, who: Writer, task_id: TaskId):
    """Check a task off (again is a 409 saying when and by whom). Audited."""
    with conflicts():
        task = aq.task_done(db, who.scope, task_id, who.user.username)
    return s.TaskPublic.model_validate(task)


# ':path': an account id may contain '/'; these routes are included before the account route (see api/app.py)
@router.get("/accounts/{account_id:path}/notes", operation_id="list_account_notes",
            response_model=list[s.NotePublic], tags=["actions"])
def list_notes(db: DB, who: Reader, account_id: AccountId):
    """The account's notes, newest first (the 50 latest)."""
    return [s.NotePublic.model_validate(n) for n in aq.account_notes(db, who.scope, account_id)]


@router.post("/accounts/{account_id:path}/notes", operation_id="add_account_note", response_model=s.NotePublic,
             status_code=201, tags=["actions"])
def add_note(db: DB, who: Writer, account_id: AccountId, note: s.NoteCreate):
    """Write a note on the account: it appears on the account's timeline as an activity of kind `note`. Audited."""
    return s.NotePublic.model_validate(aq.add_note(db, who.scope, account_id, note.body, who.user.username))


def document_webhooks(api: FastAPI) -> None:
    """Describe the webhook messages Retain sends in the OpenAPI document (its description and ``webhooks``)."""
    api.description = (api.description or "") + s.WEBHOOKS_TEXT

    @api.webhooks.post("cta_alert", operation_id="webhook_cta_alert", tags=["webhooks"])
    def cta_alert(message: s.WebhookMessage):
        """A critical CTA fired: sent once per CTA (`kind` `cta_alert`, `data` a CtaAlertData), signed as the
        description says."""

    @api.webhooks.post("digest", operation_id="webhook_digest", tags=["webhooks"])
    def digest(message: s.WebhookMessage):
        """A person's daily digest of open CTAs and tasks (`kind` `digest`)."""
