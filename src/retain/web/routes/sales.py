"""Pages: Sales (goals, bookings by type, the new-vs-existing call, forecast, win/loss, drill-down to deals) and
Pipeline review (open deals by stage with score, warnings and what changed since the last review).

Every figure is read from published results in the viewer's scope (:mod:`retain.state.published`): a rep sees
their deals, goals and bookings, a manager their team's, an admin everyone's; per-month and per-rep totals are
summed in SQL over the rows in scope. Company results (team goals, forecast, win/loss, capacity) are read whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from retain.sales.goal_spec import GoalMetric
from retain.sales.goals import ARR_TYPES
from retain.sales.warnings import describe
from retain.server.deps import DB
from retain.state import published, queries
from retain.state import sales as reviews
from retain.state.models import Role
from retain.state.published import Agg
from retain.state.queries import Scope
from retain.web.deps import CsrfViewer, CurrentViewer, Forbidden, Viewer
from retain.web.render import page

router = APIRouter()
SCORES, BOOKINGS, DEALS = "opportunity_scores", "sales_bookings", "sales_deals"
TYPES = ("new_business", "add_on", "renewal")
MONTH = r"^\d{4}-\d{2}$"
# Goals that count won deals (the others count meetings, calls, follow-ups, deals created): their rows drill down.
DRILLABLE = frozenset({GoalMetric.NEW_BUSINESS_ARR, GoalMetric.ADD_ON_ARR, GoalMetric.RENEWAL_ARR,
                       GoalMetric.TOTAL_ARR, GoalMetric.UNITS, GoalMetric.ADD_ON_SHARE})


def monthly(db, scope: Scope) -> list[dict]:
    """Per month: won ARR and units per opportunity type over the bookings in ``scope``."""
    rows = published.aggregate(db, scope, BOOKINGS, ("month", "opportunity_type"),
                               {"arr": (Agg.SUM, "arr"), "units": (Agg.SUM, "units")})
    months: dict[str, dict] = {}
    for r in rows:
        m = months.setdefault(r["month"], {"month": r["month"]})
        m[f"{r['opportunity_type']}_arr"] = r["arr"]
        m[f"{r['opportunity_type']}_units"] = r["units"]
    return [months[k] for k in sorted(months)]


def per_rep(db, scope: Scope, names: dict[str, str]) -> list[dict]:
    rows = published.aggregate(db, scope, BOOKINGS, ("owner_id", "opportunity_type"),
                               {"arr": (Agg.SUM, "arr"), "units": (Agg.SUM, "units"), "deals": (Agg.SUM, "deals")})
    reps: dict[str, dict] = {}
    for r in rows:
        rep = reps.setdefault(r["owner_id"], {"rep": names.get(r["owner_id"], r["owner_id"]), "arr": 0.0})
        rep[f"{r['opportunity_type']}_arr"] = r["arr"]
        rep["arr"] += r["arr"] or 0.0
    return sorted(reps.values(), key=lambda r: -r["arr"])


def latest_capacity(db, scope: Scope) -> list[dict]:
    rows = published.records(db, scope, "sales_capacity")
    last = max((r["month"] for r in rows), default=None)
    return [r for r in rows if r["month"] == last]


def drill_down(db, scope: Scope, month: str | None, kind: str | None) -> list[dict]:
    """The closed deals in ``scope`` of ``month`` and type ``kind`` (either may be None: all)."""
    rows = published.records(db, scope, DEALS)
    return [r for r in rows if (month is None or r.get("month") == month)
            and (kind is None or r.get("opportunity_type") == kind)]


def _day(value) -> str | None:
    """A published record's date as ``YYYY-MM-DD`` (None for none: None, '', pandas' 'NaT')."""
    text = "" if value is None else str(value).strip()
    return None if text.lower() in ("", "nat", "nan", "none", "null") else text[:10]


def goal_deals(goal: dict, deals: list[dict]) -> list[dict]:
    """The won ``deals`` that count toward ``goal``, by the rules of :func:`retain.sales.goals.actuals`: closed in
    its period, by its person or team, of its product and (ARR goals) its opportunity type."""
    start, end = _day(goal.get("period_start_on")), _day(goal.get("period_end_on"))
    kind = ARR_TYPES.get(goal.get("metric"))
    wanted = {"owner_id": goal.get("member_id"), "team": goal.get("team"), "product_id": goal.get("product_id"),
              "opportunity_type": kind}
    out = []
    for d in deals:
        closed = _day(d.get("closed_on"))
        if not d.get("is_won") or (start and (not closed or closed < start)) or (end and (not closed or closed > end)):
            continue
        if all(v is None or d.get(k) == v for k, v in wanted.items()):
            out.append(d)
    return out


@router.get("/sales", name="sales")
def sales(request: Request, db: DB, viewer: CurrentViewer,
          month: Annotated[str | None, Query(pattern=MONTH)] = None,
          kind: Annotated[str | None, Query(alias="type", pattern="^(new_business|add_on|renewal)$")] = None,
          goal: Annotated[str | None, Query(max_length=128)] = None):
    scope = viewer.scope
    names = queries.member_names(db)
    goals = published.records(db, scope, "sales_goals")
    team_goals = published.records(db, scope, "sales_team_goals")
    chosen = next((g for g in goals + team_goals if g["goal_id"] == goal), None) if goal else None
    if chosen:
        deals = goal_deals(chosen, published.records(db, scope, DEALS))
    else:
        deals = drill_down(db, scope, month, kind) if (month or kind) else []
    forecast = published.records(db, scope, "sales_forecast")
    win_loss = [r for r in published.records(db, scope, "win_loss")
                if r["dimension"] in ("segment", "opportunity_type") and r["reason"] == "all"]
    return page(request, "sales.html", db=db, viewer=viewer, nav="sales", names=names, goals=goals,
                team_goals=team_goals, months=monthly(db, scope), reps=per_rep(db, scope, names), types=TYPES,
                capacity=latest_capacity(db, scope), forecast=forecast,
                backtest=published.records(db, scope, "sales_backtest"),
                model_check=published.records(db, scope, "sales_model_check"), win_loss=win_loss,
                deals=deals, month=month, kind=kind, goal=goal, chosen=chosen, drillable=DRILLABLE,
                as_of=published.as_of(db, BOOKINGS))


def _reviewer(viewer: Viewer) -> str:
    if viewer.user.role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden("Pipeline review is for managers: your own deals are on the Sales page")
    return viewer.user.member_id or "all"


def _open_deals(db, scope: Scope) -> list[dict]:
    rows = published.records(db, scope, SCORES)
    for r in rows:
        r["warning_words"] = describe(r.get("warnings"))
    return sorted(rows, key=lambda r: (-(r.get("stage_position") or 0), -(r.get("amount") or 0)))


@router.get("/pipeline-review", name="pipeline_review")
def pipeline_review(request: Request, db: DB, viewer: CurrentViewer):
    key = _reviewer(viewer)
    deals = _open_deals(db, viewer.scope)
    as_of = published.as_of(db, SCORES) or dt.date.today()
    last = reviews.last_review(db, key)
    changed = reviews.changes(reviews.snapshot(last), deals, as_of, last.as_of) if last else None
    stages: dict[str, dict] = {}
    for d in deals:
        group = stages.setdefault(d.get("stage") or "unknown", {"rows": [], "amount": 0.0})
        group["rows"].append(d)
        group["amount"] += d.get("amount") or 0.0
    return page(request, "pipeline_review.html", db=db, viewer=viewer, nav="pipeline_review",
                names=queries.member_names(db), stages=stages, deals=deals, last=last, changed=changed,
                as_of=published.as_of(db, SCORES))


@router.post("/pipeline-review", name="pipeline_review_done")
def review_done(request: Request, db: DB, viewer: CsrfViewer):
    """Record this review: its deals become what the next review compares with."""
    key = _reviewer(viewer)
    deals = _open_deals(db, viewer.scope)
    reviews.record_review(db, key, viewer.user.username, published.as_of(db, SCORES) or dt.date.today(), deals)
    return RedirectResponse("/pipeline-review", status_code=303)
