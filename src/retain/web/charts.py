"""Plotly figures (as plain dicts) for the pages, built from snapshot rows and published result records.

A builder reads a result's columns by the names its spec declares (:mod:`retain.results.specs`), looked up when
this module is imported, so a renamed column fails at start-up rather than drawing an empty chart. A builder
returns ``None`` when it has no rows, so a page shows what exists and a note for the rest.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from retain import results
from retain.results import HealthGrade

REVENUE = results.spec("book_revenue")  # a viewer's sums carry its columns; ``revenue_retention`` declares the same
COHORTS = results.spec("cohorts_logo")
SURVIVAL = results.spec("survival")
PRODUCTS = results.spec("products_held")
PARETO = results.spec("pareto")
DIMENSION, GRAIN, ALL = results.spec("revenue_retention").column("dimension").name, "grain", "all"
PERIOD, COMPLETE = REVENUE.column("period").name, REVENUE.column("complete").name
NRR, GRR = REVENUE.column("nrr").name, REVENUE.column("grr").name
MOVES = tuple(REVENUE.column(n).name for n in ("new_mrr", "expansion_mrr", "reactivated_mrr", "contraction_mrr",
                                               "churned_mrr"))
NEGATIVE_MOVES = (REVENUE.column("contraction_mrr").name, REVENUE.column("churned_mrr").name)
DAYS_PER_MONTH = 365.25 / 12
FONT = "Noto Sans CJK SC, Noto Sans, system-ui, sans-serif"
GRADE_ORDER = (*(g.value for g in (HealthGrade.GREEN, HealthGrade.YELLOW, HealthGrade.RED)), "unscored")
GRADE_COLORS = {HealthGrade.GREEN.value: "#1a9850", HealthGrade.YELLOW.value: "#fee08b",
                HealthGrade.RED.value: "#d73027", "unscored": "#bbbbbb"}


def _layout(title: str, **extra) -> dict:
    layout = {"title": {"text": title, "font": {"size": 14}}, "font": {"family": FONT, "size": 12},
              "margin": {"l": 50, "r": 20, "t": 40, "b": 40}, "height": 300, "paper_bgcolor": "white",
              "plot_bgcolor": "#fafafa"}
    layout.update(extra)
    return layout


def _col(records: Sequence[dict], name: str) -> list:
    return [r.get(name) for r in records]


def company_level(records: Sequence[dict], grain: str = "month") -> list[dict]:
    """Rows of a per-period result for the whole company (``dimension == 'all'``) at one ``grain`` (a row without
    those columns, e.g. a viewer's sums of ``book_revenue``, is kept)."""
    return [r for r in records if r.get(DIMENSION, ALL) == ALL and r.get(GRAIN, grain) == grain]


def grade_bars(by_grade: list[dict]) -> dict:
    rank = {g: i for i, g in enumerate(GRADE_ORDER)}
    by_grade = sorted(by_grade, key=lambda g: (rank.get(g["grade"], len(rank) - 1), g["grade"]))
    grades = [g["grade"] for g in by_grade]
    return {"data": [
        {"type": "bar", "name": "ARR", "x": grades, "y": [g["arr"] for g in by_grade],
         "marker": {"color": [GRADE_COLORS.get(g, "#4575b4") for g in grades]}},
        {"type": "scatter", "mode": "markers+text", "name": "accounts", "x": grades,
         "y": [g["accounts"] for g in by_grade], "yaxis": "y2", "text": [g["accounts"] for g in by_grade],
         "textposition": "top center"},
    ], "layout": _layout("ARR and accounts by health grade", yaxis={"title": "ARR"},
                         yaxis2={"title": "accounts", "overlaying": "y", "side": "right", "rangemode": "tozero",
                                 "tickformat": ",d"}, showlegend=False)}


def health_histogram(hist: list[dict]) -> dict:
    return {"data": [{"type": "bar", "x": [f"{h['bucket']}-{h['bucket'] + 10}" for h in hist],
                      "y": [h["accounts"] for h in hist], "marker": {"color": "#4575b4"}}],
            "layout": _layout("Health distribution (accounts)", xaxis={"title": "health"})}


def health_history(points: list) -> dict | None:
    rows = [p for p in points if p.health_total is not None or p.churn_probability is not None]
    if not rows:
        return None
    xaxis: dict = {"type": "date"}
    if len(rows) == 1:  # one score: plotly would zoom to milliseconds around it; show the month around it instead
        day = rows[0].as_of
        xaxis["range"] = [(day - dt.timedelta(days=15)).isoformat(), (day + dt.timedelta(days=15)).isoformat()]
    return {"data": [
        {"type": "scatter", "mode": "lines+markers", "name": "health", "x": [p.as_of.isoformat() for p in rows],
         "y": [p.health_total for p in rows]},
        {"type": "scatter", "mode": "lines+markers", "name": "churn probability", "yaxis": "y2",
         "x": [p.as_of.isoformat() for p in rows], "y": [p.churn_probability for p in rows]},
    ], "layout": _layout("Health and churn probability over time", xaxis=xaxis,
                         yaxis={"title": "health", "range": [0, 100]},
                         yaxis2={"title": "churn p", "overlaying": "y", "side": "right", "range": [0, 1]})}


def component_bars(components: list[dict] | None) -> dict | None:
    """Horizontal bars of the component scores; a component with no data has no bar and reads "no data" (never a
    score of 0)."""
    if not components:
        return None
    names = [str(c.get("component", "?")) for c in components]
    scores = [_score(c.get("score")) for c in components]
    notes = [{"x": 0, "y": n, "text": "no data", "showarrow": False, "xanchor": "left",
              "font": {"color": "#6b7785"}} for n, v in zip(names, scores, strict=True) if v is None]
    return {"data": [{"type": "bar", "orientation": "h", "y": names, "x": scores,
                      "text": ["" if v is None else f"{v:.0f}" for v in scores], "textposition": "auto",
                      "marker": {"color": "#4575b4"}}],
            "layout": _layout("Health components", xaxis={"range": [0, 100]}, height=60 + 30 * len(names),
                              annotations=notes)}


def _score(value) -> float | None:
    """A component score, or None when it is missing (None, NaN or not a number)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _period_axis(records: Sequence[dict]) -> list:
    """Period labels, with "(partial)" beside a period still running at the as-of date (``complete`` false)."""
    return [f"{r.get(PERIOD)} (partial)" if r.get(COMPLETE) is False else r.get(PERIOD) for r in records]


def nrr_grr(records: list[dict]) -> dict | None:
    """NRR and GRR per month (``revenue_retention`` rows for the company, or a viewer's ``book_revenue`` sums)."""
    records = company_level(records)
    if not records:
        return None
    return {"data": [{"type": "scatter", "mode": "lines+markers", "name": s.upper(), "x": _period_axis(records),
                      "y": _col(records, s)} for s in (NRR, GRR)],
            "layout": _layout("NRR and GRR", yaxis={"tickformat": ".0%"})}


def decomposition(records: list[dict]) -> dict | None:
    """MRR movements per month, losses drawn below zero."""
    records = company_level(records)
    if not records:
        return None
    data = []
    for p in MOVES:
        sign = -1 if p in NEGATIVE_MOVES else 1
        ys = [None if v is None else sign * abs(v) for v in _col(records, p)]
        data.append({"type": "bar", "name": p.removesuffix("_mrr").replace("_", " "), "x": _period_axis(records),
                     "y": ys})
    return {"data": data, "layout": _layout("MRR movements by month (retention decomposition)", barmode="relative")}


def cohort_heatmap(records: list[dict]) -> dict | None:
    """Cohorts x months since start; the running month's cells are measured at ``as_of``, before the month ends,
    so they are marked partial (hover text and a hollow marker over each), never read as a full month."""
    cohort, age = COHORTS.column("cohort").name, COHORTS.column("months_since_start").name
    value, complete = COHORTS.column("logo_retention").name, COHORTS.column("complete").name
    records = [r for r in records if r.get(DIMENSION) == ALL]
    if not records:
        return None
    cohorts = sorted({str(r[cohort]) for r in records})
    ages = sorted({r[age] for r in records if r[age] is not None})
    grid = {(str(r[cohort]), r[age]): r for r in records}
    z = [[(grid.get((c, a)) or {}).get(value) for a in ages] for c in cohorts]
    partial = [(str(r[cohort]), r[age]) for r in records if r.get(complete) is False and r[age] is not None]
    notes = [["" if (c, a) not in partial else " (partial month, so far)" for a in ages] for c in cohorts]
    scale = [[0, "#d73027"], [0.5, "#fee08b"], [1, "#1a9850"]]
    data = [{"type": "heatmap", "x": ages, "y": cohorts, "z": z, "customdata": notes, "colorscale": scale,
             "zmin": 0, "zmax": 1,
             "hovertemplate": "cohort %{y}, month %{x}: %{z:.0%}%{customdata}<extra></extra>"}]
    if partial:
        data.append({"type": "scatter", "mode": "markers", "name": "partial month", "showlegend": True,
                     "x": [a for _, a in partial], "y": [c for c, _ in partial], "hoverinfo": "skip",
                     "marker": {"symbol": "circle-open", "size": 7, "color": "#1d2733"}})
    title = "Logo retention by signup cohort" + (" (o = partial month, measured so far)" if partial else "")
    return {"data": data,
            "layout": _layout(title, height=420, xaxis={"title": "months since start"},
                              yaxis={"type": "category", "autorange": "reversed"},
                              margin={"l": 70, "r": 20, "t": 40, "b": 40})}


def survival_curves(records: list[dict]) -> dict | None:
    """Kaplan-Meier curves, overall and by segment, against months (the declared ``time_days`` / 30.44)."""
    dim, group = SURVIVAL.column("dimension").name, SURVIVAL.column("dimension_value").name
    days, share = SURVIVAL.column("time_days").name, SURVIVAL.column("survival").name
    records = [r for r in records if r.get(dim) in (ALL, "segment") and r.get(days) is not None]
    if not records:
        return None
    data = []
    for g in sorted({str(r.get(group)) for r in records}):
        rows = [r for r in records if str(r.get(group)) == g]
        data.append({"type": "scatter", "mode": "lines", "line": {"shape": "hv"}, "name": g,
                     "x": [r[days] / DAYS_PER_MONTH for r in rows], "y": _col(rows, share)})
    return {"data": data, "layout": _layout("Survival (share of accounts still customers)",
                                            yaxis={"range": [0, 1.02]}, xaxis={"title": "months"})}


def products_held(records: list[dict]) -> dict | None:
    x, y = PRODUCTS.column("products_held").name, PRODUCTS.column("retention").name
    band = PRODUCTS.column("tenure_band").name
    if not records:
        return None
    data = [{"type": "bar", "name": g, "x": _col(rows, x), "y": _col(rows, y)}
            for g in sorted({str(r.get(band)) for r in records})
            for rows in [[r for r in records if str(r.get(band)) == g]]]
    return {"data": data, "layout": _layout("Products held vs retention (by tenure)",
                                            xaxis={"title": "products held", "dtick": 1}, barmode="group")}


def pareto(records: list[dict]) -> dict | None:
    """The ``pareto`` result's curve (or :func:`retain.state.queries.arr_pareto`'s, which has its columns)."""
    if not records:
        return None
    x, y = PARETO.column("customer_share").name, PARETO.column("revenue_share").name
    return {"data": [{"type": "scatter", "mode": "lines", "x": _col(records, x), "y": _col(records, y),
                      "fill": "tozeroy"}],
            "layout": _layout("Pareto: share of revenue from the top share of customers",
                              xaxis={"tickformat": ".0%"}, yaxis={"tickformat": ".0%"})}


def clv_by_channel(records: list[dict]) -> dict | None:
    """Mean CLV per acquisition channel (:func:`retain.state.queries.clv_by_channel`)."""
    if not records:
        return None
    return {"data": [{"type": "bar", "x": _col(records, "acquisition_channel"), "y": _col(records, "clv"),
                      "marker": {"color": "#91bfdb"}}],
            "layout": _layout("CLV by acquisition channel")}
