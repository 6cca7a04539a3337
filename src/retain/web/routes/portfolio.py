"""Portfolio (everything the viewer may see), My book and Team."""

from __future__ import annotations

from fastapi import APIRouter, Request

from retain.server.deps import DB, runtime
from retain.state import action_queries, published, queries
from retain.state.models import Role
from retain.state.queries import Scope
from retain.web import charts
from retain.web.deps import CurrentViewer, Forbidden
from retain.web.render import page

router = APIRouter()


def _figures(request: Request, db, scope: Scope, p: dict) -> dict:
    """Every chart of the page for ``scope``: grades and health from its accounts, NRR/GRR and MRR movements
    from the ``book_revenue`` rows of its books summed in SQL (the company for an admin)."""
    revenue = runtime(request).memo(db, ("book_revenue", scope), lambda: published.revenue_by_period(db, scope))
    return {"grades": charts.grade_bars(p["by_grade"]) if p["by_grade"] else None,
            "health": charts.health_histogram(p["health_hist"]) if p["health_hist"] else None,
            "nrr": charts.nrr_grr(revenue), "decomposition": charts.decomposition(revenue)}


def _summary(request: Request, db, scope: Scope) -> dict:
    return runtime(request).memo(db, ("portfolio", scope), lambda: queries.portfolio(db, scope))


@router.get("/", name="portfolio")
def portfolio(request: Request, db: DB, viewer: CurrentViewer):
    p = _summary(request, db, viewer.scope)
    return page(request, "portfolio.html", db=db, viewer=viewer, nav="portfolio", heading="Portfolio", p=p,
                subtitle="All accounts you can see: every figure and chart below covers them, and only them.",
                figs=_figures(request, db, viewer.scope, p),
                worst=queries.worst_accounts(db, viewer.scope), columns=LIST_COLUMNS, numeric=NUMERIC,
                attention=action_queries.needs_attention(db, viewer.user.member_id))


@router.get("/book", name="book")
def book(request: Request, db: DB, viewer: CurrentViewer):
    if not viewer.user.member_id:
        raise Forbidden("your user is not linked to a team member, so it has no book")
    scope = Scope(Role.MEMBER, viewer.user.member_id)
    p = _summary(request, db, scope)
    figs = _figures(request, db, scope, p)
    return page(request, "portfolio.html", db=db, viewer=viewer, nav="book", heading="My book", p=p, figs=figs,
                subtitle="Accounts you own or look after, and how their health moved since the last score.",
                worst=queries.worst_accounts(db, scope, 25), columns=LIST_COLUMNS, numeric=NUMERIC,
                attention=action_queries.needs_attention(db, viewer.user.member_id))


@router.get("/team", name="team")
def team(request: Request, db: DB, viewer: CurrentViewer):
    if viewer.user.role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden("the Team page is for managers")
    scope = viewer.scope
    p = _summary(request, db, scope)
    figs = _figures(request, db, scope, p)
    return page(request, "portfolio.html", db=db, viewer=viewer, nav="team", heading="Team", p=p, figs=figs,
                subtitle="Your reports' books: health and its change since the last score.",
                team_rows=runtime(request).memo(db, ("team", scope), lambda: queries.team(db, scope)))


LIST_COLUMNS = (("name", "Account"), ("health_total", "Health"), ("health_change", "Change"),
                ("churn_probability", "Churn p"), ("clv", "CLV"), ("arr", "ARR"), ("owner_name", "Owner"),
                ("segment", "Segment"), ("renewal_on", "Renewal"), ("adoption_tier", "Adoption"))
NUMERIC = {"health_total", "health_change", "churn_probability", "clv", "arr"}
