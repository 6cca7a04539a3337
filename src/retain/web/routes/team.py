"""Team actions (a manager's view of their team's calls to action) and the Health review of at-risk accounts.

Both read through :mod:`retain.state.action_queries`, which applies the viewer's role scope in SQL."""

from __future__ import annotations

from fastapi import APIRouter, Request

from retain.server.deps import DB, runtime
from retain.state import action_queries as aq
from retain.state import queries
from retain.state.models import Role
from retain.web.deps import CurrentViewer, Forbidden
from retain.web.render import page
from retain.web.routes.accounts import people

router = APIRouter()


@router.get("/team/actions", name="team_actions")
def team_actions(request: Request, db: DB, viewer: CurrentViewer):
    """Open, overdue and escalated CTAs per owner of the team tree, with each book's health change."""
    if viewer.user.role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden("Team actions is for managers: your own calls to action are on Today")
    day = aq.reference_day(db)
    escalated, names = aq.escalations(db, viewer.scope)
    books = runtime(request).memo(db, ("team", viewer.scope), lambda: queries.team(db, viewer.scope))  # as /team
    return page(request, "team_actions.html", db=db, viewer=viewer, nav="team_actions",
                rows=aq.team_actions(db, viewer.scope, day, books=books), escalated=escalated, names=names, ref_day=day,
                people=people(request, db))


@router.get("/health-review", name="health_review")
def health_review(request: Request, db: DB, viewer: CurrentViewer):
    """At-risk accounts in the viewer's scope with their open CTAs, plan status and each team's last touch."""
    return page(request, "health_review.html", db=db, viewer=viewer, nav="health_review",
                rows=aq.health_review(db, viewer.scope), ref_day=aq.reference_day(db), people=people(request, db))
