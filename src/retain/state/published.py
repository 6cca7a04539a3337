"""Published results: each declared once here, with whose it is, and read by every face through :func:`read`.

``retain publish`` copies these results from the warehouse into the application database; nothing else is
published, and nothing reads them another way. A declaration says which column of a row names the team member it
belongs to (the rep on a call, a lead's owner) and which names its account:

- an **owned** result (at least one such column): an admin reads every row; a manager the rows of their team
  (themselves and everyone below them) or of the accounts their team owns or looks after; a member their own
  rows and those of the accounts in their book. A row may name two members (``csm_column``: the CSM of a book
  beside its owner): it belongs to both, as an account belongs to its owner's and its CSM's book. The
  restriction is SQL over ``result_rows``, whose ``member_id`` and ``account_id`` are copied out of each record
  at publish, with the same team tree and account scope as the accounts list (:func:`retain.state.queries.scoped`).
- aggregates (:func:`aggregate`) group and sum the rows a viewer may read in SQL, however many there are: the
  Calls page's per-rep figures, a viewer's NRR/GRR from ``book_revenue``.
- a **company** result (neither column): an aggregate over the whole company that names no account and no
  person (retention by segment, cohorts, survival, Pareto shares); every signed-in role reads it whole. A test
  checks on the demo that no value of a company result is an account or member id, so a per-account result
  declared as company fails CI instead of leaking.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, false, func, insert, or_, select
from sqlalchemy.orm import Session

from retain import results
from retain.state.models import AccountSnapshot, MetricSnapshot, ResultRow, Role
from retain.state.queries import Scope, printable, scoped, team_ids

MAX_ROWS = 50_000  # what one read returns at most (pages page through more); publishing keeps every row
INSERT_CHUNK = 10_000


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
    csm_column: str | None = None  # a second member the row belongs to (read from the record, not indexed)

    @property
    def visibility(self) -> Visibility:
        return Visibility.OWNED if self.member_column or self.account_column else Visibility.COMPANY


SALES_RESULTS = (  # the Sales and Pipeline review pages (retain.sales)
    PublishedResult("opportunity_scores", "Open deals: P(win), stage benchmark, reasons and warnings.",
                    member_column="owner_id", account_column="account_id"),
    PublishedResult("sales_goals", "Personal goals: actual, pace, projected attainment.", member_column="member_id"),
    PublishedResult("sales_bookings", "Won ARR and units per month, rep, type and product.", member_column="owner_id"),
    PublishedResult("sales_deals", "Deals closed in the last 12 months (the Sales page's drill-down).",
                    member_column="owner_id", account_column="account_id"),
    PublishedResult("sales_team_goals", "Team and company goals: actual, pace, projected attainment."),
    PublishedResult("sales_forecast", "Expected bookings per quarter and team with intervals and CRM categories."),
    PublishedResult("sales_backtest", "The forecast at the start of past quarters against what was won."),
    PublishedResult("sales_model_check", "The opportunity model against the CRM probability and stage only."),
    PublishedResult("win_loss", "Win rates and loss reasons by segment, product, type, period and competitor."),
    PublishedResult("sales_capacity", "Pipeline saturation, conversion and the new-vs-existing call per team."),
)

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
    PublishedResult("book_revenue", "MRR movements per month and book (owner and CSM), summed per viewer.",
                    member_column="owner_id", csm_column="csm_id"),
    PublishedResult("doctor", "The data doctor's verdicts per analytic and its suspicious-data flags (Admin page)."),
    *SALES_RESULTS,
    PublishedResult("survey_trends", "NPS, CSAT and CES per month with 95% intervals (Surveys page)."),
    PublishedResult("survey_outcomes", "Per NPS score: later churn and expansion rates with intervals (Surveys page)."),
    PublishedResult("survey_themes", "Recurring words of survey comments per language, with sentiment (Surveys page)."),
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
    db.add(MetricSnapshot(name=result.name, as_of=day, rows=len(records)))
    db.flush()
    for start in range(0, len(records), INSERT_CHUNK):  # every row: the Calls page covers every call
        db.execute(insert(ResultRow), [
            {"name": result.name, "seq": i, "record": r,
             "member_id": _key(r, result.member_column), "account_id": _key(r, result.account_column)}
            for i, r in enumerate(records[start:start + INSERT_CHUNK], start=start)])


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
    if result.csm_column:
        csm = ResultRow.record[result.csm_column].as_string()
        allowed.append(csm == scope.member_id if team is None else csm.in_(team))
    if result.account_column:
        allowed.append(ResultRow.account_id.in_(scoped(select(AccountSnapshot.account_id), scope, team=team)))
    return or_(*allowed)


def _rows(result: PublishedResult, scope: Scope, *columns):
    """SELECT ``columns`` from the rows of ``result`` that ``scope`` may read."""
    stmt = select(*columns).select_from(ResultRow).where(ResultRow.name == result.name)
    condition = visible(result, scope)
    return stmt if condition is None else stmt.where(condition)


def read(db: Session, scope: Scope, name: str, *, limit: int = MAX_ROWS, offset: int = 0) -> Rows | None:
    """The rows of the published result ``name`` that ``scope`` may read, in published order (``limit`` of them
    from ``offset``); None when ``name`` is not declared or not published (an unknown name and an unpublished one
    look the same)."""
    result = declared(name)
    head = db.get(MetricSnapshot, name) if result else None
    if result is None or head is None:
        return None
    stmt = _rows(result, scope, ResultRow.record).order_by(ResultRow.seq).limit(limit).offset(offset)
    return Rows(name, head.as_of, result.visibility, list(db.scalars(stmt)))


def records(db: Session, scope: Scope, name: str, *, limit: int = MAX_ROWS, offset: int = 0) -> list[dict]:
    """:func:`read`'s records, or [] when the result is not published."""
    rows = read(db, scope, name, limit=limit, offset=offset)
    return rows.records if rows else []


def count(db: Session, scope: Scope, name: str) -> int:
    """How many rows of the published result ``name`` ``scope`` may read (0 when not published)."""
    result = declared(name)
    return int(db.scalar(_rows(result, scope, func.count())) or 0) if result else 0


def as_of(db: Session, name: str) -> dt.date | None:
    """The day the published result ``name`` is as of (None when not published)."""
    head = db.get(MetricSnapshot, name) if declared(name) else None
    return head.as_of if head else None


# -- aggregates over what a viewer may read (in SQL, however many rows) ------------------------------------------


class Agg(enum.StrEnum):
    SUM = "sum"
    AVG = "avg"
    COUNT = "count"


def aggregate(db: Session, scope: Scope, name: str, by: Sequence[str],
              measures: Mapping[str, tuple[Agg, str | None]]) -> list[dict]:
    """The rows of ``name`` that ``scope`` may read, grouped by the declared columns ``by`` and reduced to
    ``measures`` (output name: (aggregate, declared column)), in SQL over the published JSON records: the page
    reads one row per group, never the rows themselves. Group values come back in their declared types."""
    result = declared(name)
    if result is None:
        return []
    spec = results.spec(name)

    def field(column: str):
        spec.column(column)  # a column the spec does not declare fails here, not as an empty chart
        if column == result.member_column:
            return ResultRow.member_id  # copied out at publish, indexed
        return ResultRow.record[column].as_string()

    keys = [field(c).label(f"k{i}") for i, c in enumerate(by)]
    reducers = {Agg.SUM: func.sum, Agg.AVG: func.avg}
    values = [func.count().label(out) if agg is Agg.COUNT else
              reducers[agg](ResultRow.record[spec.column(col).name].as_float()).label(out)
              for out, (agg, col) in measures.items()]
    stmt = _rows(result, scope, *keys, *values).group_by(*keys).order_by(*keys)
    out = []
    for row in db.execute(stmt):
        rec = {c: _typed(spec.column(c).type, row[i]) for i, c in enumerate(by)}
        rec.update({m: row[len(by) + i] for i, m in enumerate(measures)})
        out.append(rec)
    return out


def _typed(kind: enum.StrEnum, value):
    """A group value read as text from JSON (SQLite gives 1/0 for booleans, PostgreSQL 'true'/'false')."""
    if value is None or kind.value != "boolean":
        return value
    return str(value).lower() in ("1", "true")


MOVEMENTS = ("start_mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivated_mrr", "end_mrr")


def revenue_by_period(db: Session, scope: Scope) -> list[dict]:
    """MRR movements, GRR and NRR per month of the books ``scope`` may see (``book_revenue`` summed in SQL):
    a member's own book, a manager's team, the whole company for an admin. Same columns as ``revenue_retention``'s
    (period, period_start, complete, the movements, grr, nrr); [] when not published."""
    rows = aggregate(db, scope, "book_revenue", ("period", "period_start", "complete"),
                     {m: (Agg.SUM, m) for m in MOVEMENTS})
    for r in rows:
        start = r["start_mrr"] or 0.0
        kept = start - (r["churned_mrr"] or 0.0) - (r["contraction_mrr"] or 0.0)
        r["grr"] = kept / start if start else None
        r["nrr"] = (kept + (r["expansion_mrr"] or 0.0)) / start if start else None
    return sorted(rows, key=lambda r: str(r["period_start"]))


def names(db: Session) -> list[str]:
    """Names of the declared results that are published now."""
    published = select(MetricSnapshot.name).where(MetricSnapshot.name.in_(RESULTS)).order_by(MetricSnapshot.name)
    return list(db.scalars(published))


def is_published(db: Session, name: str) -> bool:
    return name in RESULTS and bool(db.scalar(select(func.count()).where(MetricSnapshot.name == name)))
