"""Plotly figures (as plain dicts) for the pages, built from snapshot rows and stored metric records.

Metric records come from other domains; each builder looks for the columns it needs by a few likely names and
returns ``None`` when they are absent, so a page shows what exists and a note for the rest.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from retain.results import HealthGrade

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


def _pick(records: Sequence[dict], *names: str) -> str | None:
    if not records:
        return None
    keys = records[0].keys()
    return next((n for n in names if n in keys), None)


def _col(records: Sequence[dict], name: str) -> list:
    return [r.get(name) for r in records]


def company_level(records: Sequence[dict], grain: str = "month") -> list[dict]:
    """Rows for the whole company (``dimension == 'all'``) at one ``grain``, when the result has those columns."""
    rows = list(records)
    if rows and "dimension" in rows[0]:
        rows = [r for r in rows if r.get("dimension") == "all"]
    if rows and "grain" in rows[0]:
        rows = [r for r in rows if r.get("grain") == grain]
    return rows


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


def _period_axis(records: Sequence[dict], x: str) -> list:
    """Period labels, with "(partial)" beside a period still running at the as-of date (``complete`` false)."""
    return [f"{r.get(x)} (partial)" if r.get("complete") is False else r.get(x) for r in records]


def nrr_grr(records: list[dict]) -> dict | None:
    records = company_level(records)
    x = _pick(records, "period", "month", "period_start", "as_of", "on")
    series = [n for n in ("nrr", "grr", "logo_retention", "net_revenue_retention", "gross_revenue_retention")
              if _pick(records, n)]
    if not x or not series:
        return None
    return {"data": [{"type": "scatter", "mode": "lines+markers", "name": s.upper() if len(s) == 3 else s,
                      "x": _period_axis(records, x), "y": _col(records, s)} for s in series],
            "layout": _layout("NRR and GRR", yaxis={"tickformat": ".0%"})}


NEGATIVE_MOVES = ("contraction_mrr", "churned_mrr", "contraction", "churned", "churn")


def decomposition(records: list[dict]) -> dict | None:
    records = company_level(records)
    x = _pick(records, "period", "month", "period_start", "as_of")
    parts = [n for n in ("new_mrr", "expansion_mrr", "reactivated_mrr", "contraction_mrr", "churned_mrr", "new",
                         "expansion", "reactivation", "contraction", "churned") if _pick(records, n)]
    if not x or not parts:
        return None
    data = []
    for p in parts:
        sign = -1 if p in NEGATIVE_MOVES else 1
        ys = [None if v is None else sign * abs(v) for v in _col(records, p)]
        data.append({"type": "bar", "name": p.removesuffix("_mrr").replace("_", " "), "x": _period_axis(records, x),
                     "y": ys})
    return {"data": data, "layout": _layout("MRR movements by month (retention decomposition)", barmode="relative")}


def cohort_heatmap(records: list[dict]) -> dict | None:
    records = company_level(records)
    cohort = _pick(records, "cohort", "cohort_month", "cohort_start")
    age = _pick(records, "months_since_start", "period", "age", "months_since", "period_number", "offset")
    value = _pick(records, "logo_retention", "retention", "retained_share", "rate", "share", "value")
    if not (cohort and age and value):
        return None
    cohorts = sorted({str(r[cohort]) for r in records})
    ages = sorted({r[age] for r in records if r[age] is not None})
    grid = {(str(r[cohort]), r[age]): r[value] for r in records}
    z = [[grid.get((c, a)) for a in ages] for c in cohorts]
    scale = [[0, "#d73027"], [0.5, "#fee08b"], [1, "#1a9850"]]
    return {"data": [{"type": "heatmap", "x": ages, "y": cohorts, "z": z, "colorscale": scale, "zmin": 0,
                      "zmax": 1, "hovertemplate": "cohort %{y}, month %{x}: %{z:.0%}<extra></extra>"}],
            "layout": _layout("Logo retention by signup cohort", height=420, xaxis={"title": "months since start"},
                              yaxis={"type": "category", "autorange": "reversed"},
                              margin={"l": 70, "r": 20, "t": 40, "b": 40})}


def survival_curves(records: list[dict]) -> dict | None:
    if records and "dimension" in records[0]:
        records = [r for r in records if r.get("dimension") in ("all", "segment")]
    t = _pick(records, "time_months", "timeline", "t", "days", "months", "time_days", "tenure", "duration")
    s = _pick(records, "survival", "km_estimate", "survival_function", "s")
    group = _pick(records, "dimension_value", "group", "segment", "stratum")
    if not (t and s):
        return None
    groups = sorted({str(r.get(group)) for r in records}) if group else ["all"]
    data = []
    for g in groups:
        rows = [r for r in records if not group or str(r.get(group)) == g]
        data.append({"type": "scatter", "mode": "lines", "line": {"shape": "hv"}, "name": g,
                     "x": _col(rows, t), "y": _col(rows, s)})
    return {"data": data, "layout": _layout("Survival (share of accounts still customers)",
                                            yaxis={"range": [0, 1.02]}, xaxis={"title": t})}


def products_held(records: list[dict]) -> dict | None:
    x = _pick(records, "products_held", "products", "n_products")
    y = _pick(records, "retention", "retention_rate", "retained_share", "churn_rate")
    if not (x and y):
        return None
    band = _pick(records, "tenure_band", "group")
    groups = sorted({str(r.get(band)) for r in records}) if band else [None]
    data = [{"type": "bar", "name": g or y, "x": _col(rows, x), "y": _col(rows, y)}
            for g in groups for rows in [[r for r in records if band is None or str(r.get(band)) == g]]]
    return {"data": data, "layout": _layout(f"Products held vs {y.replace('_', ' ')} (by tenure)",
                                            xaxis={"title": "products held", "dtick": 1}, barmode="group")}


def pareto(records: list[dict]) -> dict | None:
    x = _pick(records, "customer_share", "share_of_customers", "account_share", "x")
    y = _pick(records, "revenue_share", "share_of_revenue", "cumulative_share", "y")
    if not (x and y):
        return None
    return {"data": [{"type": "scatter", "mode": "lines", "x": _col(records, x), "y": _col(records, y),
                      "fill": "tozeroy"}],
            "layout": _layout("Pareto: share of revenue from the top share of customers",
                              xaxis={"tickformat": ".0%"}, yaxis={"tickformat": ".0%"})}


def clv_by_channel(records: list[dict]) -> dict | None:
    x = _pick(records, "acquisition_channel", "channel")
    y = _pick(records, "clv", "avg_clv", "mean_clv", "clv_mean", "total_clv")
    if not (x and y):
        return None
    return {"data": [{"type": "bar", "x": _col(records, x), "y": _col(records, y), "marker": {"color": "#91bfdb"}}],
            "layout": _layout("CLV by acquisition channel")}
