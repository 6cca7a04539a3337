"""The Surveys page: response rates (live, from the invitations and answers), score trends with intervals, scores
against later churn and expansion, and comment themes (published results of the surveys section)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from retain.server.deps import DB, runtime
from retain.state import published
from retain.surveys import analytics
from retain.web.deps import CurrentViewer
from retain.web.render import page

router = APIRouter()
COLORS = {"nps": "#1f5fbf", "csat": "#1a9850", "ces": "#b35806"}
TITLES = {"nps": "NPS (points)", "csat": "CSAT (% satisfied)", "ces": "CES (% easy)"}


def trend_figure(records: list[dict]) -> dict | None:
    """One line per survey type with its 95 % interval as a band (plotly dict); None without rows."""
    if not records:
        return None
    data = []
    for kind in sorted({r["survey_type"] for r in records}):
        rows = sorted((r for r in records if r["survey_type"] == kind), key=lambda r: r["period"])
        x = [r["period"] for r in rows]
        color = COLORS.get(kind, "#555")
        data.append({"type": "scatter", "mode": "lines", "x": x + x[::-1], "fill": "toself", "opacity": 0.2,
                     "y": [r["score_hi"] for r in rows] + [r["score_lo"] for r in rows][::-1], "hoverinfo": "skip",
                     "line": {"width": 0, "color": color}, "showlegend": False, "name": f"{kind} 95%"})
        data.append({"type": "scatter", "mode": "lines+markers", "x": x, "y": [r["score"] for r in rows],
                     "name": TITLES.get(kind, kind), "line": {"color": color}})
    return {"data": data, "layout": {"title": {"text": "Scores per month with 95% intervals", "font": {"size": 14}},
                                     "height": 320, "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
                                     "yaxis": {"range": [-100, 100]}}}


@router.get("/surveys", name="surveys")
def surveys(request: Request, db: DB, viewer: CurrentViewer):
    rates = {by: analytics.response_rates(db, by).to_dict("records") for by in analytics.RATE_DIMENSIONS}
    trends = published.records(db, viewer.scope, "survey_trends")
    figs = {"trend": runtime(request).memo(db, ("survey_trend_fig",), lambda: trend_figure(trends))}
    latest = {}
    for row in sorted(trends, key=lambda r: r["period"]):
        latest[row["survey_type"]] = row
    return page(request, "surveys.html", db=db, viewer=viewer, nav="surveys", rates=rates, figs=figs,
                latest=latest, titles=TITLES, outcomes=published.records(db, viewer.scope, "survey_outcomes"),
                themes=published.records(db, viewer.scope, "survey_themes"), counts=analytics.counts(db))
