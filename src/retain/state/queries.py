"""Read queries for pages and the API, with role scoping enforced here, in the SQL itself.

``admin`` sees every account; ``manager`` the accounts owned (or looked after as CSM) by themselves or anyone
reporting to them, at any depth of ``team_members.manager_id``; ``member`` their own book. An account outside
the scope is indistinguishable from a missing one: :func:`get_account` raises :class:`NotFoundError`.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, String, case, false, func, literal, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from retain.errors import NotFoundError
from retain.results import AdoptionTier, HealthGrade
from retain.state.models import (
    SORTED_BY_INDEX,
    AccountSnapshot,
    PublishRun,
    Role,
    ScoreHistory,
    TeamMember,
    User,
)
from retain.state.names import name_matches

RISK_PROBABILITY = 0.5
RISK_HEALTH = 40.0
MAX_PAGE = 200
MAX_EXPORT = 100_000


@dataclass(frozen=True)
class Scope:
    """Who is asking: their role and their ``team_members.member_id``."""

    role: Role
    member_id: str | None = None

    @classmethod
    def of(cls, user: User) -> Scope:
        return cls(Role(user.role), user.member_id)

    @classmethod
    def admin(cls) -> Scope:
        return cls(Role.ADMIN)


def team_ids(scope: Scope):
    """A SELECT of the member ids whose accounts a manager may see: themselves and everyone below them."""
    return team_tree(literal(scope.member_id or "", String(128)))


def team_tree(member) -> Select:
    """A SELECT of ``member`` (a literal or a bound parameter) and every member below them, at any depth."""
    root = select(member.label("member_id"))
    tree = root.cte("team_tree", recursive=True)
    below = select(TeamMember.member_id).where(TeamMember.manager_id == tree.c.member_id)
    tree = tree.union(below)
    return select(tree.c.member_id)


def visible_members(db: Session, scope: Scope) -> set[str]:
    """Member ids whose records a non-admin ``scope`` may see: themselves, and for a manager everyone below."""
    if not scope.member_id:
        return set()
    if scope.role is Role.MEMBER:
        return {scope.member_id}
    return {m for (m,) in db.execute(team_ids(scope))}


def scoped(stmt: Select, scope: Scope, *, walk_sort_index: bool = False, member=None, team: Select | None = None
           ) -> Select:
    """``stmt`` restricted to the accounts ``scope`` may see.

    ``walk_sort_index`` (SQLite, a large book): check the scope on the sort index's copy of the owner columns while
    walking it (see :func:`_walk_scope`) rather than collect the whole book through the owner indexes and sort it.
    ``member``: a bound parameter standing for the member id, for statements compiled once and run for anyone
    (:mod:`retain.state.records`). ``team``: a manager's :func:`team_ids` already used elsewhere in the same
    statement (SQL allows one CTE of a name).
    """
    if scope.role is Role.ADMIN:
        return stmt
    if member is None and not scope.member_id:
        return stmt.where(false())
    owner, csm = AccountSnapshot.owner_id, AccountSnapshot.csm_id
    if walk_sort_index:
        owner, csm = func.coalesce(owner, owner), func.coalesce(csm, csm)
    mine = member if member is not None else scope.member_id
    if scope.role is Role.MEMBER:
        return stmt.where(or_(owner == mine, csm == mine))
    ids = team if team is not None else team_ids(scope) if member is None else team_tree(member)
    return stmt.where(or_(owner.in_(ids), csm.in_(ids)))


# -- the accounts list ----------------------------------------------------------------------------------------


class SortKey(enum.StrEnum):
    NAME = "name"
    ARR = "arr"
    HEALTH = "health_total"
    HEALTH_CHANGE = "health_change"
    CHURN = "churn_probability"
    CLV = "clv"
    RENEWAL = "renewal_on"
    OWNER = "owner_name"
    SEGMENT = "segment"
    TIER = "adoption_tier"


class SortOrder(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


PRINTABLE = r"^[^\x00-\x1F\x7F]*$"  # text without control characters: what :func:`printable` accepts


class AccountQuery(BaseModel):
    """Filters, sort and page of the accounts list (the same for the page, its CSV export and the API)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # text filters: no control characters (PostgreSQL rejects NUL), declared as a pattern so the schema says so
    q: Annotated[str | None, Field(max_length=100, pattern=PRINTABLE, description="Part of the account name or id.")
                 ] = None
    grade: Annotated[str | None, Field(max_length=16, pattern=PRINTABLE)] = None
    segment: Annotated[str | None, Field(max_length=64, pattern=PRINTABLE)] = None
    region: Annotated[str | None, Field(max_length=64, pattern=PRINTABLE)] = None
    owner_id: Annotated[str | None, Field(max_length=128, pattern=PRINTABLE)] = None
    adoption_tier: Annotated[str | None, Field(max_length=32, pattern=PRINTABLE)] = None
    status: Annotated[str | None, Field(max_length=16, pattern=PRINTABLE)] = None
    at_risk: bool | None = None
    health_min: Annotated[float | None, Field(ge=0, le=100)] = None
    health_max: Annotated[float | None, Field(ge=0, le=100)] = None
    churn_min: Annotated[float | None, Field(ge=0, le=1)] = None
    renewal_before: Annotated[dt.date | None, Field(description="Renewing on or before this day (YYYY-MM-DD).")
                              ] = None
    sort: SortKey = SortKey.ARR
    order: SortOrder = SortOrder.DESC
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50

    @field_validator("renewal_before", mode="before")
    @classmethod
    def _iso_date(cls, value):
        """Only an ISO date, as the schema's ``format: date`` says (pydantic alone would take ``0`` as 1970-01-01)."""
        if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            return value
        if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return value
        raise ValueError("must be a date as YYYY-MM-DD")


def printable(text: str) -> bool:
    """No NUL or other control characters (PostgreSQL rejects NUL in text; nothing legitimate has them)."""
    return not any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def at_risk_clause():
    """Stored at publish (:func:`retain.state.publish.is_at_risk`): indexed, so the filter stays fast."""
    return AccountSnapshot.at_risk.is_(True)


def _filtered(scope: Scope, query: AccountQuery, stmt: Select, *, walk_sort_index: bool = False,
              walk_scope: bool = False, sqlite: bool = False) -> Select:
    """``stmt`` restricted to ``scope`` and the query's filters.

    ``walk_sort_index`` (SQLite page queries): wrap the low-selectivity filters (grade, segment, region, tier,
    status, at risk) in ``coalesce`` so SQLite walks the sort column's index and stops after one page, instead of
    collecting a third of the table through the filter's index and sorting it.
    """
    a = AccountSnapshot
    # a filter correlated with the sort (red accounts sorted by health) has a composite index serving both
    paired = {SortKey.HEALTH: a.health_grade, SortKey.CHURN: a.at_risk}.get(query.sort)

    def loose(column):
        return func.coalesce(column, column) if walk_sort_index and column is not paired else column

    stmt = scoped(stmt, scope, walk_sort_index=walk_scope)
    if query.q:
        indexed = name_matches(query.q) if sqlite else None
        if indexed is not None:
            stmt = stmt.where(or_(a.account_id.in_(indexed), a.account_id == query.q))
        else:
            pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").lower() + "%"
            # SQLite's LIKE already ignores ASCII case (and lower() per row doubles the cost); elsewhere use lower()
            name = a.name if sqlite else func.lower(a.name)
            stmt = stmt.where(or_(name.like(pattern, escape="\\"), a.account_id == query.q))
    for column, value in ((loose(a.health_grade), query.grade), (loose(a.segment), query.segment),
                          (loose(a.region), query.region), (a.owner_id, query.owner_id),
                          (loose(a.adoption_tier), query.adoption_tier), (loose(a.status), query.status)):
        if value:
            stmt = stmt.where(column == value)
    if query.at_risk is not None:
        stmt = stmt.where(loose(a.at_risk).is_(query.at_risk))
    if query.health_min is not None:
        stmt = stmt.where(a.health_total >= query.health_min)
    if query.health_max is not None:
        stmt = stmt.where(a.health_total <= query.health_max)
    if query.churn_min is not None:
        stmt = stmt.where(a.churn_probability >= query.churn_min)
    if query.renewal_before is not None:
        stmt = stmt.where(a.renewal_on <= query.renewal_before)
    return stmt


def _ordered(stmt: Select, query: AccountQuery, *, sqlite: bool = False) -> Select:
    column = getattr(AccountSnapshot, query.sort.value)
    nullable = column.nullable
    if sqlite and query.q:  # a name search matches few rows: sort them rather than walk the sort index
        column = func.coalesce(column, column)
    ordered = column.asc() if query.order is SortOrder.ASC else column.desc()
    if nullable:
        ordered = ordered.nulls_last()  # unscored accounts at the end in both directions, on every engine
    return stmt.order_by(ordered, AccountSnapshot.account_id)


@dataclass(frozen=True)
class Page:
    items: list[AccountSnapshot]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


LIST_COLUMNS = (
    AccountSnapshot.account_id, AccountSnapshot.name, AccountSnapshot.owner_id, AccountSnapshot.owner_name,
    AccountSnapshot.csm_id, AccountSnapshot.segment, AccountSnapshot.region, AccountSnapshot.status,
    AccountSnapshot.arr, AccountSnapshot.currency, AccountSnapshot.health_total, AccountSnapshot.health_grade,
    AccountSnapshot.health_change, AccountSnapshot.score_note, AccountSnapshot.churn_probability, AccountSnapshot.clv,
    AccountSnapshot.renewal_on, AccountSnapshot.adoption_tier, AccountSnapshot.products_held,
    AccountSnapshot.open_tickets, AccountSnapshot.as_of,
)


CountCache = Callable[[Hashable, Callable[[], int]], int]


def count_key(scope: Scope, query: AccountQuery) -> tuple:
    """What the total of a list depends on: the scope and the filters, not the sort or the page."""
    filters = query.model_dump(exclude={"sort", "order", "page", "per_page"})
    return ("account_count", scope, tuple(sorted(filters.items())))


def list_accounts(db: Session, scope: Scope, query: AccountQuery, *, count_cache: CountCache | None = None) -> Page:
    """One page of the accounts ``scope`` may see, filtered and sorted (rows carry the list columns only).

    ``count_cache(key, compute)`` may remember totals (they change only when snapshots are published), so paging
    and re-sorting a view scan its filters once instead of twice."""
    sqlite = db.get_bind().dialect.name == "sqlite"
    cached = count_cache or (lambda _key, compute: compute())

    def count(who: Scope, q: AccountQuery) -> Callable[[], int]:
        # an admin's filters are best served by their indexes; a scoped user's rows by the owner indexes
        stmt = select(func.count()).select_from(AccountSnapshot)
        return lambda: int(db.scalar(_filtered(who, q, stmt, sqlite=sqlite,
                                               walk_sort_index=sqlite and who.role is not Role.ADMIN)) or 0)

    total = cached(count_key(scope, query), count(scope, query))
    walk_scope = sqlite and scope.role is not Role.ADMIN and _walk_scope(
        query, total, book=lambda: cached(count_key(scope, AccountQuery()), count(scope, AccountQuery())),
        everyone=lambda: cached(count_key(Scope.admin(), AccountQuery()), count(Scope.admin(), AccountQuery())))
    stmt = _ordered(_filtered(scope, query, select(*LIST_COLUMNS), sqlite=sqlite, walk_sort_index=sqlite,
                              walk_scope=walk_scope), query, sqlite=sqlite)
    rows = db.execute(stmt.limit(query.per_page).offset((query.page - 1) * query.per_page)).all()
    return Page([r._mapping for r in rows], total, query.page, query.per_page)


def _walk_scope(query: AccountQuery, matching: int, *, book: Callable[[], int], everyone: Callable[[], int]) -> bool:
    """Whether a scoped page should walk the sort index, checking the owner columns it carries, rather than fetch
    the whole book (``book`` accounts) through the owner indexes, filter it to ``matching`` and sort it.

    Walking reads about (rows up to the page's end) x (everyone / matching) index entries at ~0.2 us each;
    fetching reads each account of the book from the table at ~1.5 us (measured on SQLite at 100k accounts: a
    5,000-account team's first pages walk in 0.5-4 ms instead of 7-10; a 500-account book is fetched in ~1 ms)."""
    if query.q or query.sort.value not in SORTED_BY_INDEX or matching == 0:
        return False
    end = query.page * query.per_page
    return end * everyone() * 2 < 15 * matching * book()


def export_accounts(db: Session, scope: Scope, query: AccountQuery, limit: int = MAX_EXPORT) -> list[dict]:
    """Every account of the current view (all pages), as plain dicts for CSV."""
    sqlite = db.get_bind().dialect.name == "sqlite"
    stmt = _ordered(_filtered(scope, query, select(*LIST_COLUMNS), sqlite=sqlite), query).limit(limit)
    return [dict(r._mapping) for r in db.execute(stmt)]


def get_account(db: Session, scope: Scope, account_id: str) -> AccountSnapshot:
    """The account if ``scope`` may see it; otherwise :class:`NotFoundError`, exactly as if it did not exist."""
    row = None
    if printable(account_id):
        row = db.scalar(scoped(select(AccountSnapshot).where(AccountSnapshot.account_id == account_id), scope))
    if row is None:
        raise NotFoundError(f"no account '{account_id}'", hint="check the id, or ask an admin for access")
    return row


def account_history(db: Session, scope: Scope, account_id: str) -> list[ScoreHistory]:
    get_account(db, scope, account_id)
    stmt = select(ScoreHistory).where(ScoreHistory.account_id == account_id).order_by(ScoreHistory.as_of)
    return list(db.scalars(stmt))


def filter_options(db: Session, scope: Scope) -> dict[str, list[str]]:
    """Distinct values of the list's drop-down filters within ``scope``."""
    out: dict[str, list[str]] = {}
    closed = {"health_grade": HealthGrade, "adoption_tier": AdoptionTier}  # offer only their vocabulary, in order
    for name in ("health_grade", "segment", "region", "adoption_tier"):
        column = getattr(AccountSnapshot, name)
        stmt = scoped(select(column).where(column.is_not(None)).distinct().order_by(column), scope)
        out[name] = [v for (v,) in db.execute(stmt)]
        if name in closed:
            out[name] = [v.value for v in closed[name] if v.value in out[name]]
    # distinct owner ids come from the owner index alone; their names from the team (as publish took them):
    # grouping the 100k snapshots for their owner_name read every row (~350 ms, paid by a worker's first page)
    ids = scoped(select(AccountSnapshot.owner_id).where(AccountSnapshot.owner_id.is_not(None)).distinct(),
                 scope).subquery()
    name = func.coalesce(TeamMember.name, ids.c.owner_id)
    owners = (select(ids.c.owner_id, name).join_from(ids, TeamMember, TeamMember.member_id == ids.c.owner_id,
                                                     isouter=True).order_by(name, ids.c.owner_id))
    out["owners"] = [(o, n) for o, n in db.execute(owners)]
    return out


# -- portfolio, book and team ------------------------------------------------------------------------------


def portfolio(db: Session, scope: Scope) -> dict:
    """Accounts and ARR by grade, ARR at risk and the health distribution within ``scope``."""
    a = AccountSnapshot
    active = a.status == "active"
    totals = db.execute(scoped(select(
        func.count(), func.coalesce(func.sum(a.arr), 0.0), func.avg(a.health_total),
        func.coalesce(func.sum(case((at_risk_clause(), a.arr), else_=0.0)), 0.0),
        func.sum(case((at_risk_clause(), 1), else_=0)), func.avg(a.health_change),
        func.min(a.currency), func.max(a.currency),
    ).where(active), scope)).one()
    grade = func.coalesce(a.health_grade, literal_column("'unscored'"))
    grades = db.execute(scoped(select(grade, func.count(), func.coalesce(func.sum(a.arr), 0.0))
                               .where(active).group_by(grade).order_by(grade), scope))
    bucket = func.floor(a.health_total / literal_column("10.0")) * literal_column("10")
    hist = db.execute(scoped(select(bucket, func.count(), func.coalesce(func.sum(a.arr), 0.0))
                             .where(active, a.health_total.is_not(None)).group_by(bucket).order_by(bucket), scope))
    return {
        "accounts": int(totals[0]), "arr": float(totals[1]),
        "avg_health": None if totals[2] is None else float(totals[2]),
        "arr_at_risk": float(totals[3]), "accounts_at_risk": int(totals[4] or 0),
        "avg_health_change": None if totals[5] is None else float(totals[5]),
        "currency": one_currency(totals[6], totals[7]),
        "by_grade": [{"grade": g, "accounts": int(n), "arr": float(v)} for g, n, v in grades],
        "health_hist": [{"bucket": int(min(b, 90)), "accounts": int(n), "arr": float(v)} for b, n, v in hist],
    }


MIXED_CURRENCIES = "mixed currencies"


def one_currency(low: str | None, high: str | None) -> str | None:
    """The currency of a total from the least and greatest currency summed into it: that code when they are the
    same, :data:`MIXED_CURRENCIES` when a total adds amounts in several (the page says so beside it)."""
    if low is None or high is None:
        return low or high
    return low if low == high else MIXED_CURRENCIES


def team(db: Session, scope: Scope) -> list[dict]:
    """Per person in ``scope``: their book's active accounts, ARR, average health and its change, ARR at risk.

    A person's book is the accounts they own or look after as CSM, as in the accounts scope and ``retain books``
    (:mod:`retain.health.books`): an account whose owner and CSM differ counts in both books. Accounts with neither
    form one row without a person (admins only).
    """
    a = AccountSnapshot
    cols = (a.arr, a.currency, a.health_total, a.health_change, a.at_risk)
    active = a.status == "active"
    books = union_all(
        select(a.owner_id.label("person_id"), *cols).where(active, a.owner_id.is_not(None)),
        select(a.csm_id.label("person_id"), *cols).where(
            active, a.csm_id.is_not(None), or_(a.owner_id.is_(None), a.csm_id != a.owner_id)),
        select(literal(None, String(128)).label("person_id"), *cols).where(
            active, a.owner_id.is_(None), a.csm_id.is_(None)),
    ).subquery("books")
    person = books.c.person_id
    stmt = select(
        person, func.max(TeamMember.name), func.count(), func.coalesce(func.sum(books.c.arr), 0.0),
        func.avg(books.c.health_total), func.avg(books.c.health_change),
        func.coalesce(func.sum(case((books.c.at_risk.is_(True), books.c.arr), else_=0.0)), 0.0),
        func.min(books.c.currency), func.max(books.c.currency),
    ).join_from(books, TeamMember, TeamMember.member_id == person, isouter=True).group_by(person).order_by(
        func.sum(books.c.arr).desc(), person)
    if scope.role is Role.MEMBER:
        stmt = stmt.where(person == scope.member_id) if scope.member_id else stmt.where(false())
    elif scope.role is not Role.ADMIN:
        stmt = stmt.where(person.in_(team_ids(scope))) if scope.member_id else stmt.where(false())
    keys = ("owner_id", "owner_name", "accounts", "arr", "avg_health", "avg_health_change", "arr_at_risk")
    return [dict(zip(keys, row[:-2], strict=True)) | {"currency": one_currency(*row[-2:])} for row in db.execute(stmt)]


def reports(db: Session, manager_id: str) -> list[TeamMember]:
    """Direct reports of a manager."""
    return list(db.scalars(select(TeamMember).where(TeamMember.manager_id == manager_id).order_by(TeamMember.name)))


def member_name(db: Session, member_id: str | None) -> str | None:
    if not member_id:
        return None
    return db.scalar(select(TeamMember.name).where(TeamMember.member_id == member_id))


# -- publishing status ------------------------------------------------------------------------------------


def last_publish_id(db: Session) -> int | None:
    return db.scalar(select(func.max(PublishRun.id)))


def last_publish(db: Session) -> PublishRun | None:
    return db.scalar(select(PublishRun).order_by(PublishRun.id.desc()).limit(1))


# -- analytics computed from the snapshots when no stored result exists ------------------------------------


def arr_pareto(db: Session, scope: Scope, points: int = 100) -> list[dict]:
    """Cumulative share of ARR held by the top x% of active accounts (``points`` + 1 points)."""
    values = [v for (v,) in db.execute(scoped(select(AccountSnapshot.arr).where(
        AccountSnapshot.status == "active", AccountSnapshot.arr > 0).order_by(AccountSnapshot.arr.desc()), scope))]
    total = sum(values)
    if not values or total <= 0:
        return []
    cumulative, running = [], 0.0
    for v in values:
        running += v
        cumulative.append(running)
    n = len(values)
    out = [{"customer_share": 0.0, "revenue_share": 0.0}]
    for i in range(1, points + 1):
        k = max(1, round(i * n / points))
        out.append({"customer_share": k / n, "revenue_share": cumulative[k - 1] / total})
    return out


def clv_by_channel(db: Session, scope: Scope) -> list[dict]:
    a = AccountSnapshot
    channel = func.coalesce(a.acquisition_channel, literal_column("'unknown'"))
    stmt = scoped(select(channel, func.avg(a.clv), func.count())
                  .where(a.clv.is_not(None)).group_by(channel)
                  .order_by(func.avg(a.clv).desc()), scope)
    return [{"acquisition_channel": c, "clv": float(v), "accounts": int(n)} for c, v, n in db.execute(stmt)]


def worst_accounts(db: Session, scope: Scope, limit: int = 10) -> list:
    """Active accounts most likely to churn (by churn probability, then lowest health)."""
    query = AccountQuery(status="active", sort=SortKey.CHURN, order=SortOrder.DESC, per_page=limit)
    return list_accounts(db, scope, query).items


def member_names(db: Session) -> dict[str, str]:
    return {m: n for m, n in db.execute(select(TeamMember.member_id, TeamMember.name))}
