"""Analytics: cohorts, survival, products held vs retention, Pareto and CLV by channel."""

from __future__ import annotations

from fastapi import APIRouter, Request

from retain.state import queries
from retain.web import charts
from retain.web.deps import DB, CurrentViewer, runtime
from retain.web.render import page

router = APIRouter()


def _first(db, names: tuple[str, ...], builder):
    for name in names:
        snap = queries.metric(db, name)
        if snap is not None and (fig := builder(snap.records)):
            return fig
    return None


@router.get("/analytics", name="analytics")
def analytics(request: Request, db: DB, viewer: CurrentViewer):
    figs = runtime(request).memo(db, ("analytics", viewer.scope), lambda: _figures(db, viewer))
    return page(request, "analytics.html", db=db, viewer=viewer, nav="analytics", figs=figs)


def _figures(db, viewer) -> dict:
    return {
        "cohorts": _first(db, ("cohorts_logo", "cohorts"), charts.cohort_heatmap),
        "survival": _first(db, ("survival",), charts.survival_curves),
        "products": _first(db, ("products_held",), charts.products_held),
        "pareto": _first(db, ("pareto",), charts.pareto) or charts.pareto(queries.arr_pareto(db, viewer.scope)),
        "clv_channel": _first(db, ("clv_by_channel",), charts.clv_by_channel)
        or charts.clv_by_channel(queries.clv_by_channel(db, viewer.scope)),
    }
