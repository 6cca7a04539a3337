import datetime as dt
from types import SimpleNamespace

from retain.web import charts


def point(day: dt.date, health: float | None, churn: float | None = None):
    return SimpleNamespace(as_of=day, health_total=health, churn_probability=churn)


def test_history_of_one_score_shows_the_month_around_it():
    fig = charts.health_history([point(dt.date(2026, 10, 31), 64.0, 0.2)])
    assert fig["layout"]["xaxis"] == {"type": "date", "range": ["2026-10-16", "2026-11-15"]}
    assert fig["data"][0]["y"] == [64.0] and fig["data"][1]["y"] == [0.2]


def test_history_of_several_scores_spans_them_and_skips_empty_points():
    fig = charts.health_history([point(dt.date(2026, 9, 30), 60.0), point(dt.date(2026, 10, 15), None),
                                 point(dt.date(2026, 10, 31), 70.0)])
    assert fig["layout"]["xaxis"] == {"type": "date"}
    assert fig["data"][0]["x"] == ["2026-09-30", "2026-10-31"]
    assert charts.health_history([point(dt.date(2026, 9, 30), None)]) is None


def test_retention_charts_mark_the_running_period_partial():
    rows = [{"grain": "month", "dimension": "all", "period": p, "complete": done, "nrr": 1.0, "grr": 0.9,
             "new_mrr": 10.0, "churned_mrr": 5.0} for p, done in (("2026-09", True), ("2026-10", False))]
    rows.append({"grain": "quarter", "dimension": "all", "period": "2026-Q4", "complete": False, "nrr": 1.0,
                 "grr": 0.9, "new_mrr": 1.0, "churned_mrr": 1.0})
    for fig in (charts.nrr_grr(rows), charts.decomposition(rows)):
        assert all(trace["x"] == ["2026-09", "2026-10 (partial)"] for trace in fig["data"])


def test_cohort_heatmap_marks_the_running_month_partial():
    rows = [{"dimension": "all", "cohort": c, "months_since_start": k, "logo_retention": v, "complete": done}
            for c, k, v, done in (("2026-09", 0, 1.0, True), ("2026-09", 1, 0.9, False), ("2026-10", 0, 1.0, False))]
    fig = charts.cohort_heatmap(rows)
    heat, marks = fig["data"]
    assert heat["customdata"] == [["", " (partial month, so far)"], [" (partial month, so far)", ""]]
    assert sorted(zip(marks["y"], marks["x"], strict=True)) == [("2026-09", 1), ("2026-10", 0)]
    assert "partial" in fig["layout"]["title"]["text"]
    done = [dict(r, complete=True) for r in rows]
    assert len(charts.cohort_heatmap(done)["data"]) == 1
