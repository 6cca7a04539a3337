"""Analytics: cohorts, survival, products held vs retention, Pareto and CLV by channel."""

from __future__ import annotations

from fastapi import APIRouter, Request

from retain.server.deps import DB, runtime
from retain.state import published, queries
from retain.web import charts
from retain.web.deps import CurrentViewer
from retain.web.render import page

router = APIRouter()


def _chart(db, viewer, name: str, builder):
    records = published.records(db, viewer.scope, name)
    return builder(records) if records else None


@router.get("/analytics", name="analytics")
def analytics(request: Request, db: DB, viewer: CurrentViewer):
    figs = runtime(request).memo(db, ("analytics", viewer.scope), lambda: _figures(db, viewer))
    return page(request, "analytics.html", db=db, viewer=viewer, nav="analytics", figs=figs)


def _figures(db, viewer) -> dict:
    return {
        "cohorts": _chart(db, viewer, "cohorts_logo", charts.cohort_heatmap),
        "survival": _chart(db, viewer, "survival", charts.survival_curves),
        "products": _chart(db, viewer, "products_held", charts.products_held),
        "pareto": _chart(db, viewer, "pareto", charts.pareto) or charts.pareto(queries.arr_pareto(db, viewer.scope)),
        "clv_channel": charts.clv_by_channel(queries.clv_by_channel(db, viewer.scope)),
    }
