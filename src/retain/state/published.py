"""Published results: each declared once here, with whose it is, and read by every face through :func:`read`.

``retain publish`` copies these results from the warehouse into the application database; nothing else is
published, and nothing reads them another way. A declaration says which column of a row names the team member it
belongs to (the rep on a call, a lead's owner) and which names its account:

- an **owned** result (at least one such column): an admin reads every row; a manager the rows of their team
  (themselves and everyone below them) or of the accounts their team owns or looks after; a member their own
  rows and those of the accounts in their book. The restriction is SQL over ``result_rows``, whose ``member_id``
  and ``account_id`` are copied out of each record at publish, with the same team tree and account scope as the
  accounts list (:func:`retain.state.queries.scoped`).
- a **company** result (neither column): an aggregate over the whole company that names no account and no
  person (retention by segment, cohorts, survival, Pareto shares); every signed-in role reads it whole. A test
  checks on the demo that no value of a company result is an account or member id, so a per-account result
  declared as company fails CI instead of leaking.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, false, func, insert, or_, select
from sqlalchemy.orm import Session

from retain.state.models import AccountSnapshot, MetricSnapshot, ResultRow, Role
from retain.state.queries import Scope, printable, scoped, team_ids

MAX_ROWS = 50_000  # per result at publish; a read returns at most its ``limit``


class Visibility(enum.StrEnum):
    COMPANY = "company"
    OWNED = "owned"


@dataclass(frozen=True)
class PublishedResult:
    """One result the pages and API may show: its warehouse name and the columns that say whose each row is."""

    name: str
    description: str
    member_column: str | None = None
    account_column: str | None = None

    @property
    def visibility(self) -> Visibility:
        return Visibility.OWNED if self.member_column or self.account_column else Visibility.COMPANY


RESULTS: dict[str, PublishedResult] = {r.name: r for r in (
    PublishedResult("retention", "Logo retention decomposed per period and dimension value."),
    PublishedResult("revenue_retention", "MRR movements, GRR and NRR per period and dimension value."),
    PublishedResult("cohorts_logo", "Signup cohorts x months since start: accounts still active."),
    PublishedResult("cohorts_revenue", "Signup cohorts x months since start: revenue retained."),
    PublishedResult("survival", "Kaplan-Meier survival with 95% bands, overall and by segment."),
    PublishedResult("products_held", "Retention by number of products held within tenure bands."),
    PublishedResult("pareto", "Share of revenue and profit held by the top share of customers."),
    PublishedResult("call_metrics", "One row per analysed call: talk metrics, compliance, SOP and QA.",
                    member_column="member_id", account_column="account_id"),
    PublishedResult("lead_recovery", "Dropped or unworked leads worth another call, ranked, with reasons.",
                    member_column="owner_id"),
)}


def declared(name: str) -> PublishedResult | None:
    return RESULTS.get(name) if printable(name) else None


# -- writing (retain publish) ----------------------------------------------------------------------------------


def replace(db: Session, result: PublishedResult, day: dt.date, records: list[dict] | None) -> None:
    """Replace ``result``'s published rows with ``records`` (JSON-safe dicts), or remove it when None."""
    db.execute(delete(ResultRow).where(ResultRow.name == result.name))
    db.execute(delete(MetricSnapshot).where(MetricSnapshot.name == result.name))
    if records is None:
        return
    records = records[:MAX_ROWS]
    db.add(MetricSnapshot(name=result.name, as_of=day, rows=len(records)))
    db.flush()
    if records:
        db.execute(insert(ResultRow), [
            {"name": result.name, "seq": i, "record": r,
             "member_id": _key(r, result.member_column), "account_id": _key(r, result.account_column)}
            for i, r in enumerate(records)])


def _key(record: dict, column: str | None) -> str | None:
    value = record.get(column) if column else None
    return None if value is None else str(value)[:128]


# -- reading (pages, API, exports) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    name: str
    as_of: dt.date
    visibility: Visibility
    records: list[dict]


def visible(result: PublishedResult, scope: Scope) -> ColumnElement[bool] | None:
    """The SQL condition on ``result_rows`` for the rows of ``result`` that ``scope`` may read (None: all)."""
    if scope.role is Role.ADMIN or result.visibility is Visibility.COMPANY:
        return None
    if not scope.member_id:
        return false()
    team = None if scope.role is Role.MEMBER else team_ids(scope)
    allowed = []
    if result.member_column:
        allowed.append(ResultRow.member_id == scope.member_id if team is None else ResultRow.member_id.in_(team))
    if result.account_column:
        allowed.append(ResultRow.account_id.in_(scoped(select(AccountSnapshot.account_id), scope, team=team)))
    return or_(*allowed)


def read(db: Session, scope: Scope, name: str, *, limit: int = MAX_ROWS) -> Rows | None:
    """The rows of the published result ``name`` that ``scope`` may read, in published order; None when ``name``
    is not declared or not published (an unknown name and an unpublished one look the same)."""
    result = declared(name)
    head = db.get(MetricSnapshot, name) if result else None
    if result is None or head is None:
        return None
    stmt = select(ResultRow.record).where(ResultRow.name == name)
    condition = visible(result, scope)
    if condition is not None:
        stmt = stmt.where(condition)
    records = list(db.scalars(stmt.order_by(ResultRow.seq).limit(limit)))
    return Rows(name, head.as_of, result.visibility, records)


def records(db: Session, scope: Scope, name: str, *, limit: int = MAX_ROWS) -> list[dict]:
    """:func:`read`'s records, or [] when the result is not published."""
    rows = read(db, scope, name, limit=limit)
    return rows.records if rows else []


def names(db: Session) -> list[str]:
    """Names of the declared results that are published now."""
    published = select(MetricSnapshot.name).where(MetricSnapshot.name.in_(RESULTS)).order_by(MetricSnapshot.name)
    return list(db.scalars(published))


def is_published(db: Session, name: str) -> bool:
    return name in RESULTS and bool(db.scalar(select(func.count()).where(MetricSnapshot.name == name)))
