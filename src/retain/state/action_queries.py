"""Calls to action as pages and the API read and change them, with role scope enforced here, in the SQL itself.

Who sees a CTA: an ``admin`` every one; a ``member`` those they own, those escalated to them and those on accounts of
their book; a ``manager`` the same for anyone in their team tree (themselves and everyone below them, at any depth).
A CTA (or task) outside the scope is indistinguishable from a missing one: :class:`NotFoundError`. Changes go through
:mod:`retain.action.lifecycle` (audited) after the scope check.

"Today" is the reference day of the data: the ``as_of`` of the last publish (CTAs are due relative to the day the
rules ran), or the calendar day when nothing is published yet.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, union
from sqlalchemy.orm import Session, selectinload

from retain.action import lifecycle
from retain.action.spec import CtaType, Priority
from retain.errors import ArgumentError, NotFoundError
from retain.state import audit, notes, queries
from retain.state.actions import Cta, CtaStatus, CtaTask, TaskStatus
from retain.state.models import AccountSnapshot, PublishRun, Role, TeamMember, utcnow
from retain.state.queries import PRINTABLE, Scope

LIVE = (CtaStatus.OPEN.value, CtaStatus.SNOOZED.value)
MAX_CTA_PAGE = 200
TODAY_LIMIT = 200


def reference_day(db: Session) -> dt.date:
    """The day CTAs are due and overdue against: the last publish's ``as_of``, else the calendar day."""
    day = db.scalar(select(PublishRun.as_of).order_by(PublishRun.id.desc()).limit(1))
    return day or dt.date.today()


def priority_rank():
    """Most urgent first, in SQL (the priorities are words, so ``ORDER BY priority`` would sort them by spelling)."""
    return case({p.value: p.rank for p in Priority}, value=Cta.priority, else_=len(Priority))


# -- scope ------------------------------------------------------------------------------------------------


def visible(scope: Scope) -> ColumnElement[bool] | None:
    """The condition a CTA row must meet for ``scope`` (None: no condition, an admin)."""
    if scope.role is Role.ADMIN:
        return None
    if not scope.member_id:
        return false()
    if scope.role is Role.MEMBER:
        mine = scope.member_id
        return or_(Cta.owner_id == mine, Cta.escalated_to == mine, Cta.account_id.in_(_book(mine)))
    team = queries.team_ids(scope)
    return or_(Cta.owner_id.in_(team), Cta.escalated_to.in_(team), Cta.account_id.in_(_book(team)))


def _book(members):
    """The accounts owned or looked after (CSM) by ``members`` (an id, or a SELECT of ids): the accounts scope of
    :func:`retain.state.queries.scoped`, as a union of two index searches (an OR of both columns scanned them all)."""
    a = AccountSnapshot

    def by(column):
        return select(a.account_id).where(column == members if isinstance(members, str) else column.in_(members))
    return union(by(a.owner_id), by(a.csm_id))


def scoped_ctas(stmt: Select, scope: Scope) -> Select:
    condition = visible(scope)
    return stmt if condition is None else stmt.where(condition)


def get_cta(db: Session, scope: Scope, cta_id: int) -> Cta:
    """The CTA with its tasks if ``scope`` may see it; otherwise :class:`NotFoundError`, as if it did not exist."""
    stmt = scoped_ctas(select(Cta).options(selectinload(Cta.tasks)).where(Cta.id == cta_id), scope)
    cta = db.scalar(stmt)
    if cta is None:
        raise NotFoundError(f"no CTA {cta_id}", hint="list the CTAs you can see on Today or with GET /v1/ctas")
    return cta


def get_task(db: Session, scope: Scope, task_id: int) -> CtaTask:
    """The task if ``scope`` may see its CTA or it is assigned to them; otherwise :class:`NotFoundError`."""
    stmt = select(CtaTask).join(Cta, Cta.id == CtaTask.cta_id).where(CtaTask.id == task_id)
    condition = visible(scope)
    if condition is not None:
        stmt = stmt.where(or_(condition, CtaTask.assignee_id == scope.member_id) if scope.member_id else condition)
    task = db.scalar(stmt)
    if task is None:
        raise NotFoundError(f"no task {task_id}", hint="list a CTA's tasks with GET /v1/ctas/{id}/tasks")
    return task


# -- changes ----------------------------------------------------------------------------------------------


class CtaAction(enum.StrEnum):
    """What a person may do to a live CTA."""

    DONE = "done"
    DISMISSED = "dismissed"
    SNOOZED = "snoozed"


NONBLANK = r"^[^\x00-\x1F\x7F]*[^\s\x00-\x1F\x7F][^\x00-\x1F\x7F]*$"  # printable, not only spaces
_UPDATE_RULES = {  # the validator's rules, stated in the JSON schema too (clients and Schemathesis read them)
    "anyOf": [{"required": ["status"], "properties": {"status": {"type": "string"}}},
              {"required": ["owner_id"], "properties": {"owner_id": {"type": "string"}}}],
    "allOf": [
        {"if": {"required": ["status"], "properties": {"status": {"const": "snoozed"}}},
         "then": {"required": ["until", "reason"], "properties": {"until": {"type": "string"},
                                                                  "reason": {"type": "string"}}},
         "else": {"properties": {"until": {"type": "null"}}}},
        {"if": {"required": ["status"], "properties": {"status": {"const": "dismissed"}}},
         "then": {"required": ["reason"], "properties": {"reason": {"type": "string"}}}},
    ],
}


class CtaUpdate(BaseModel):
    """A change to one CTA: close or snooze it (``status``), hand it to someone else (``owner_id``), or both."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_UPDATE_RULES)

    status: CtaAction | None = None
    reason: Annotated[str | None, Field(max_length=500, pattern=NONBLANK,
                                        description="Why: required to dismiss or snooze.")] = None
    until: Annotated[dt.date | None, Field(description="Snoozed until this day (YYYY-MM-DD), after today.")] = None
    owner_id: Annotated[str | None, Field(min_length=1, max_length=128, pattern=PRINTABLE,
                                          description="Reassign to this team member (managers and admins).")] = None

    @model_validator(mode="after")
    def _complete(self) -> CtaUpdate:
        if self.status is None and self.owner_id is None:
            raise ValueError("give a status (done, dismissed, snoozed) or an owner_id")
        if self.status is CtaAction.SNOOZED and self.until is None:
            raise ValueError("a snooze needs 'until' (YYYY-MM-DD)")
        if self.status in (CtaAction.SNOOZED, CtaAction.DISMISSED) and self.reason is None:
            raise ValueError(f"a {'snooze' if self.status is CtaAction.SNOOZED else 'dismissal'} needs a reason")
        if self.status is not CtaAction.SNOOZED and self.until is not None:
            raise ValueError("'until' only goes with status 'snoozed'")
        return self


def update_cta(db: Session, scope: Scope, cta_id: int, change: CtaUpdate, actor: str,
               day: dt.date | None = None) -> Cta:
    """Apply ``change`` to a CTA ``scope`` may see (reassignment first, then the status); audited, committed."""
    cta = get_cta(db, scope, cta_id)
    day = day or reference_day(db)
    if change.owner_id is not None:
        reassign(db, scope, cta, change.owner_id, actor)
    if change.status is CtaAction.DONE:
        lifecycle.complete(db, cta.id, actor, day)
    elif change.status is CtaAction.DISMISSED:
        lifecycle.dismiss(db, cta.id, change.reason or "", actor, day)
    elif change.status is CtaAction.SNOOZED:
        lifecycle.snooze(db, cta.id, change.until, change.reason or "", actor, day)
    db.refresh(cta)
    return cta


def reassign(db: Session, scope: Scope, cta: Cta, owner_id: str, actor: str) -> None:
    """Give a live CTA to ``owner_id``: an admin to any team member, a manager to someone in their team tree."""
    if scope.role is Role.MEMBER:
        raise ArgumentError("only a manager or an admin may reassign a CTA", hint="ask your manager to reassign it")
    if not cta.live:
        raise ArgumentError(f"CTA {cta.id} is {cta.status}; only an open or snoozed CTA can be reassigned")
    known = db.scalar(select(TeamMember.member_id).where(TeamMember.member_id == owner_id))
    allowed = scope.role is Role.ADMIN or owner_id in queries.visible_members(db, scope)
    if known is None or not allowed:  # someone outside the tree is as unknown as nobody
        raise NotFoundError(f"cannot reassign to '{owner_id}': no such member in your team",
                            hint="give the member_id of someone in your team tree")
    before = cta.owner_id
    cta.owner_id, cta.routed_by, cta.updated_at = owner_id, "reassigned", utcnow()
    audit.record(db, "cta.reassigned", actor=actor, target=f"cta:{cta.id}", detail={"from": before, "to": owner_id})
    db.commit()


def task_done(db: Session, scope: Scope, task_id: int, actor: str) -> CtaTask:
    """Check off a task ``scope`` may see (audited)."""
    task = get_task(db, scope, task_id)
    return lifecycle.task_done(db, task.id, actor)


# -- the CTA list of the API ------------------------------------------------------------------------------


class CtaQuery(BaseModel):
    """Filters and page of a CTA list (live CTAs by default), most urgent first, then by due day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: Annotated[str | None, Field(max_length=128, pattern=PRINTABLE,
                                       description="Owner's member_id (also matches the escalated-to).")] = None
    status: CtaStatus | None = Field(None, description="One status; open and snoozed when empty.")
    type: CtaType | None = None
    priority: Priority | None = None
    account: Annotated[str | None, Field(max_length=128, pattern=PRINTABLE, description="The account's id.")] = None
    due_before: Annotated[dt.date | None, Field(description="Due on or before this day (YYYY-MM-DD).")] = None
    escalated: bool | None = Field(None, description="Only escalated (true) or not escalated (false) CTAs.")
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=MAX_CTA_PAGE)] = 50


@dataclass(frozen=True)
class CtaPage:
    items: list[Cta]
    names: dict[str, str]  # account id -> name, for the page's rows
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _filtered(stmt: Select, scope: Scope, query: CtaQuery) -> Select:
    stmt = scoped_ctas(stmt, scope)
    stmt = stmt.where(Cta.status == query.status.value) if query.status else stmt.where(Cta.status.in_(LIVE))
    if query.owner:
        stmt = stmt.where(or_(Cta.owner_id == query.owner, Cta.escalated_to == query.owner))
    for column, value in ((Cta.type, query.type), (Cta.priority, query.priority), (Cta.account_id, query.account)):
        if value:
            stmt = stmt.where(column == value)
    if query.due_before:
        stmt = stmt.where(Cta.due_on <= query.due_before)
    if query.escalated is not None:
        stmt = stmt.where(Cta.escalated_to.is_not(None) if query.escalated else Cta.escalated_to.is_(None))
    return stmt


def list_ctas(db: Session, scope: Scope, query: CtaQuery) -> CtaPage:
    """One page of the CTAs ``scope`` may see, filtered."""
    total = int(db.scalar(_filtered(select(func.count()).select_from(Cta), scope, query)) or 0)
    stmt = _filtered(select(Cta).options(selectinload(Cta.tasks)), scope, query)
    stmt = stmt.order_by(priority_rank(), Cta.due_on, Cta.id)
    items = list(db.scalars(stmt.limit(query.per_page).offset((query.page - 1) * query.per_page)))
    return CtaPage(items, account_names(db, {c.account_id for c in items}), total, query.page, query.per_page)


def account_names(db: Session, account_ids: set[str]) -> dict[str, str]:
    if not account_ids:
        return {}
    stmt = select(AccountSnapshot.account_id, AccountSnapshot.name).where(AccountSnapshot.account_id.in_(account_ids))
    return {account_id: name for account_id, name in db.execute(stmt)}


# -- Today ------------------------------------------------------------------------------------------------


class TodayStatus(enum.StrEnum):
    OPEN = "open"
    SNOOZED = "snoozed"


class Due(enum.StrEnum):
    """Which due days the Today list shows."""

    ANY = "any"
    OVERDUE = "overdue"
    WEEK = "week"  # due within seven days of today, overdue included


class TodayFilter(BaseModel):
    """The Today page's filters (from its query string)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: TodayStatus = TodayStatus.OPEN
    type: CtaType | None = None
    priority: Priority | None = None
    due: Due = Due.ANY


@dataclass(frozen=True)
class TodayView:
    day: dt.date
    ctas: list[Cta]
    names: dict[str, str]
    tasks: list[CtaTask]  # open tasks assigned to the viewer on CTAs owned by someone else
    counts: dict[str, int]  # open, snoozed, overdue, escalated to me: of the viewer's live CTAs, unfiltered

    def overdue(self, cta: Cta) -> bool:
        return cta.status == CtaStatus.OPEN and cta.due_on < self.day


def today(db: Session, member_id: str, filters: TodayFilter, day: dt.date | None = None) -> TodayView:
    """``member_id``'s CTAs (owned or escalated to them) by priority and due day, with their tasks, and the open
    tasks others' CTAs assign to them. Reads through ``ix_ctas_owner_status_due`` and ``ix_ctas_escalated_status``:
    a person's live CTAs, not the table's history."""
    day = day or reference_day(db)
    mine = or_(and_(Cta.owner_id == member_id, Cta.status.in_(LIVE)),
               and_(Cta.escalated_to == member_id, Cta.status.in_(LIVE)))
    stmt = select(Cta).options(selectinload(Cta.tasks)).where(mine, Cta.status == filters.status.value)
    if filters.type:
        stmt = stmt.where(Cta.type == filters.type.value)
    if filters.priority:
        stmt = stmt.where(Cta.priority == filters.priority.value)
    if filters.due is Due.OVERDUE:
        stmt = stmt.where(Cta.due_on < day)
    elif filters.due is Due.WEEK:
        stmt = stmt.where(Cta.due_on <= day + dt.timedelta(days=7))
    ctas = list(db.scalars(stmt.order_by(priority_rank(), Cta.due_on, Cta.id).limit(TODAY_LIMIT)))
    tasks = list(db.scalars(
        select(CtaTask).options(selectinload(CtaTask.cta)).join(Cta, Cta.id == CtaTask.cta_id)
        .where(CtaTask.assignee_id == member_id, CtaTask.status == TaskStatus.OPEN.value,
               Cta.status.in_(LIVE), or_(Cta.owner_id.is_(None), Cta.owner_id != member_id))
        .order_by(CtaTask.due_on, CtaTask.id).limit(TODAY_LIMIT)))
    counted = db.execute(select(
        func.count().filter(Cta.status == CtaStatus.OPEN.value),
        func.count().filter(Cta.status == CtaStatus.SNOOZED.value),
        func.count().filter(Cta.status == CtaStatus.OPEN.value, Cta.due_on < day),
        func.count().filter(Cta.escalated_to == member_id),
    ).where(mine)).one()
    counts = dict(zip(("open", "snoozed", "overdue", "escalated"), map(int, counted), strict=True))
    ids = {c.account_id for c in ctas} | {t.cta.account_id for t in tasks}
    return TodayView(day, ctas, account_names(db, ids), tasks, counts)


def needs_attention(db: Session, member_id: str | None) -> int:
    """How many open CTAs ``member_id`` owns or had escalated to them (the Portfolio's link into Today)."""
    if not member_id:
        return 0
    mine = or_(Cta.owner_id == member_id, Cta.escalated_to == member_id)
    return int(db.scalar(select(func.count()).select_from(Cta).where(mine, Cta.status == CtaStatus.OPEN.value)) or 0)


# -- Team actions -----------------------------------------------------------------------------------------


def team_actions(db: Session, scope: Scope, day: dt.date | None = None, books: list[dict] | None = None
                 ) -> list[dict]:
    """Per owner in ``scope``'s team tree (everyone for an admin): open, overdue, snoozed and escalated live CTAs,
    and their book's health change (``books``: :func:`retain.state.queries.team`'s rows, which pages memoise until
    the next publish; computed when not given)."""
    day = day or reference_day(db)
    stmt = select(
        Cta.owner_id, func.count().filter(Cta.status == CtaStatus.OPEN.value),
        func.count().filter(Cta.status == CtaStatus.OPEN.value, Cta.due_on < day),
        func.count().filter(Cta.status == CtaStatus.SNOOZED.value),
        func.count().filter(Cta.escalated_to.is_not(None)),
    ).where(Cta.status.in_(LIVE)).group_by(Cta.owner_id)
    if scope.role is not Role.ADMIN:
        stmt = stmt.where(Cta.owner_id.in_(queries.team_ids(scope)) if scope.member_id else false())
    books = {r["owner_id"]: r for r in (queries.team(db, scope) if books is None else books)}
    names = queries.member_names(db)
    rows = []
    for owner, open_, overdue, snoozed, escalated in db.execute(stmt):
        book = books.get(owner, {})
        rows.append({"owner_id": owner, "owner_name": names.get(owner or "", owner), "open": int(open_),
                     "overdue": int(overdue), "snoozed": int(snoozed), "escalated": int(escalated),
                     "accounts": book.get("accounts"), "avg_health": book.get("avg_health"),
                     "avg_health_change": book.get("avg_health_change")})
    return sorted(rows, key=lambda r: (-r["overdue"], -r["open"], r["owner_name"] or ""))


def escalations(db: Session, scope: Scope, limit: int = 100) -> tuple[list[Cta], dict[str, str]]:
    """Live escalated CTAs ``scope`` may see, the latest escalation first, with their accounts' names."""
    stmt = scoped_ctas(select(Cta).where(Cta.status.in_(LIVE), Cta.escalated_to.is_not(None)), scope)
    items = list(db.scalars(stmt.order_by(Cta.escalated_on.desc(), Cta.id.desc()).limit(limit)))
    return items, account_names(db, {c.account_id for c in items})


# -- an account's CTAs and notes, and the Health review ---------------------------------------------------


def account_ctas(db: Session, scope: Scope, account_id: str) -> list[Cta]:
    """The live CTAs of an account ``scope`` may see (the account itself is checked first)."""
    queries.get_account(db, scope, account_id)
    stmt = (select(Cta).options(selectinload(Cta.tasks)).where(Cta.account_id == account_id, Cta.status.in_(LIVE))
            .order_by(priority_rank(), Cta.due_on, Cta.id))
    return list(db.scalars(stmt))


def account_notes(db: Session, scope: Scope, account_id: str, limit: int = 50) -> list[notes.AccountNote]:
    queries.get_account(db, scope, account_id)
    return notes.for_account(db, account_id, limit)


def add_note(db: Session, scope: Scope, account_id: str, body: str, author: str) -> notes.AccountNote:
    """Write a note on an account ``scope`` may see (audited)."""
    queries.get_account(db, scope, account_id)
    return notes.add(db, account_id, body, author)


def health_review(db: Session, scope: Scope, limit: int = 100) -> list[dict]:
    """At-risk active accounts in ``scope`` (largest ARR first) with their live CTAs, the last touch by each team
    (published with the account's detail) and the plan's status when plans exist."""
    a = AccountSnapshot
    stmt = queries.scoped(select(a).options(selectinload(a.extra))
                          .where(queries.at_risk_clause(), a.status == "active"), scope)
    accounts = list(db.scalars(stmt.order_by(a.arr.desc(), a.account_id).limit(limit)))
    ids = [x.account_id for x in accounts]
    live: dict[str, list[Cta]] = {i: [] for i in ids}
    if ids:
        rows = db.scalars(select(Cta).where(Cta.account_id.in_(ids), Cta.status.in_(LIVE))
                          .order_by(priority_rank(), Cta.due_on, Cta.id))
        for cta in rows:
            live[cta.account_id].append(cta)
    return [{"account": x, "ctas": live[x.account_id], "touches": (x.detail or {}).get("touches") or [],
             "plan": plan_line(db, x.account_id)} for x in accounts]


def plan_line(db: Session, account_id: str) -> str | None:
    """The account's success plan in one line (:func:`retain.action.plans.plan_summary`), or None without one."""
    try:
        from retain.action.plans import plan_summary
    except ImportError:  # success plans are optional: the pages link to the plan page either way
        return None
    summary = plan_summary(db, account_id)
    return None if summary is None else getattr(summary, "line", None) or str(summary)
