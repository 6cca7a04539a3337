"""Each trigger on a tiny hand-built warehouse: exactly the accounts it should fire for, with the evidence."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests.unit.action.act_company import DAY, company, health, one_rule, propensity, put, ts

from retain.action import evaluate


def fired(wh, config, day=DAY):
    ev = evaluate(wh, day, config)
    return ev, {r["account_id"]: r for r in ev.fired.to_dict("records")}


def test_health_grade_drop_compares_with_the_grade_a_month_before(tmp_path):
    wh = company()
    health(wh, DAY - dt.timedelta(days=30), {"a1": (75, "green"), "a2": (55, "yellow"), "a3": (45, "yellow")})
    health(wh, DAY, {"a1": (40, "red"), "a2": (58, "yellow"), "a3": (30, "red")})
    _, rows = fired(wh, one_rule(tmp_path, "{kind: health_grade_drop, lookback_days: 30, to: [red]}"))
    assert set(rows) == {"a1", "a3"}
    ev = json.loads(rows["a1"]["evidence"])
    assert (ev["grade_before"], ev["grade_now"], ev["total_before"], ev["total_now"]) == ("green", "red", 75, 40)
    assert "health grade fell from green (75) to red (40)" in rows["a1"]["detail"]


def test_critical_factor_fires_for_any_factor_or_the_listed_ones(tmp_path):
    wh = company()
    health(wh, DAY, {"a1": (40, "red", "champion_left"), "a2": (70, "green", "payment_failed"), "a3": (80, "green")})
    _, rows = fired(wh, one_rule(tmp_path, "{kind: critical_factor}"))
    assert set(rows) == {"a1", "a2"}
    _, rows = fired(wh, one_rule(tmp_path, "{kind: critical_factor, factors: [payment_failed]}"))
    assert set(rows) == {"a2"} and "payment_failed" in rows["a2"]["detail"]


def test_churn_probability_above_the_threshold_within_the_horizon_only(tmp_path):
    wh = company()
    reasons = json.dumps([{"feature": "usage", "phrase": "usage fell", "direction": "raises"},
                          {"feature": "tenure", "phrase": "long tenure", "direction": "lowers"}])
    propensity(wh, DAY - dt.timedelta(days=10), {"a1": {"churn_probability": 0.8, "reasons": reasons},
                                                 "a2": {"churn_probability": 0.3}})
    config = one_rule(tmp_path, "{kind: churn_probability, above: 0.5, horizon_days: 30}")
    _, rows = fired(wh, config)
    assert set(rows) == {"a1"}
    assert json.loads(rows["a1"]["evidence"])["reasons"] == ["usage fell"]
    assert rows["a1"]["value"] == pytest.approx(1000 * 12 * 0.8)  # ARR x probability
    ev, rows = fired(wh, config, DAY + dt.timedelta(days=25))  # 35 days after the prediction: beyond its horizon
    assert rows == {} and "propensity" in ev.skipped["r"]


def test_adoption_tier_and_expansion_propensity(tmp_path):
    wh = company()
    propensity(wh, DAY, {"a1": {"adoption_tier": "low", "upsell_probability": 0.7, "next_product": "plus"},
                         "a2": {"adoption_tier": "high", "upsell_probability": 0.2}})
    _, rows = fired(wh, one_rule(tmp_path, "{kind: adoption_tier, tiers: [low]}", type_="lifecycle"))
    assert set(rows) == {"a1"}
    _, rows = fired(wh, one_rule(tmp_path, "{kind: expansion_propensity, above: 0.5}", type_="opportunity"))
    assert set(rows) == {"a1"} and "next product: plus" in rows["a1"]["detail"]


def test_usage_falling_compares_the_last_window_with_the_one_before(tmp_path):
    wh = company()
    rows = []
    for d in range(60):
        day = DAY - dt.timedelta(days=d)
        recent = d < 30
        rows.append({"account_id": "a1", "usage_on": day, "feature": "all", "events": 2.0 if recent else 10.0})
        rows.append({"account_id": "a2", "usage_on": day, "feature": "all", "events": 9.0 if recent else 10.0})
    put(wh, "usage", rows)
    _, hit = fired(wh, one_rule(tmp_path, "{kind: usage_falling, window_days: 30, drop_pct: 50}"))
    assert set(hit) == {"a1"}
    ev = json.loads(hit["a1"]["evidence"])
    assert (ev["previous"], ev["recent"], ev["change_pct"]) == (300.0, 60.0, -80.0)


def test_renewal_due_with_health_below(tmp_path):
    wh = company()
    health(wh, DAY, {"a1": (40, "red"), "a2": (80, "green"), "a3": (45, "yellow")})
    _, rows = fired(wh, one_rule(tmp_path, "{kind: renewal_due, within_days: 200, health_below: 50}"))
    assert set(rows) == {"a1", "a3"}  # every term ends 2024-12-31, 184 days after DAY
    assert json.loads(rows["a1"]["evidence"])["days_left"] == 184
    _, rows = fired(wh, one_rule(tmp_path, "{kind: renewal_due, within_days: 90, health_below: 50}"))
    assert rows == {}


def test_nps_detractor_and_promoter_by_the_latest_answer(tmp_path):
    wh = company()
    put(wh, "survey_responses", [
        {"response_id": "1", "account_id": "a1", "responded_at": ts("2024-06-01"), "survey_type": "nps", "score": 9},
        {"response_id": "2", "account_id": "a1", "responded_at": ts("2024-06-20"), "survey_type": "nps", "score": 3},
        {"response_id": "3", "account_id": "a2", "responded_at": ts("2024-06-10"), "survey_type": "nps", "score": 10},
        {"response_id": "4", "account_id": "a3", "responded_at": ts("2024-01-10"), "survey_type": "nps", "score": 2},
        {"response_id": "5", "account_id": "a3", "responded_at": ts("2024-06-10"), "survey_type": "csat", "score": 1},
        {"response_id": "6", "account_id": "a5", "responded_at": ts("2024-07-02"), "survey_type": "nps", "score": 0},
    ])
    _, rows = fired(wh, one_rule(tmp_path, "{kind: nps, category: detractor, within_days: 60}"))
    assert set(rows) == {"a1"}  # a3's is too old and a csat; a5's comes after the day
    assert "NPS 3 (detractor) answered on 2024-06-20" in rows["a1"]["detail"]
    _, rows = fired(wh, one_rule(tmp_path, "{kind: nps, category: promoter, within_days: 60}", type_="opportunity"))
    assert set(rows) == {"a2"}


def test_no_touch_by_segment_cadence_and_never_touched(tmp_path):
    wh = company()
    put(wh, "activities", [
        {"activity_id": "1", "account_id": "a1", "occurred_at": ts(DAY - dt.timedelta(days=10)),
         "activity_type": "call"},
        {"activity_id": "2", "account_id": "a2", "occurred_at": ts(DAY - dt.timedelta(days=40)),
         "activity_type": "meeting"},
        {"activity_id": "3", "account_id": "a3", "occurred_at": ts(DAY - dt.timedelta(days=5)),
         "activity_type": "note", "direction": "internal"},
        {"activity_id": "4", "account_id": "a4", "occurred_at": ts(DAY + dt.timedelta(days=1)),
         "activity_type": "call"},
    ])
    config = one_rule(tmp_path, "{kind: no_touch, days: 60, days_by_segment: {enterprise: 30}}", type_="activity")
    _, rows = fired(wh, config)
    # a2 (enterprise: 30 days) last touched 40 days ago; a3 (internal note only), a4 (a call after the day) and
    # a5 were never touched; a1 was touched 10 days ago; `ended` is not a customer any more
    assert set(rows) == {"a2", "a3", "a4", "a5"}
    assert "no touch for 40 days" in rows["a2"]["detail"] and "never touched" in rows["a3"]["detail"]


def test_a_rule_whose_input_is_missing_is_skipped_and_the_others_run(tmp_path):
    wh = company()
    health(wh, DAY, {"a1": (40, "red", "champion_left")})
    from tests.unit.action.act_company import rules_file

    from retain.action import load_rules

    config = load_rules(rules_file(tmp_path, """\
        - {name: churn, type: risk, reason: Churn risk, trigger: {kind: churn_probability, above: 0.5}}
        - {name: critical, type: risk, reason: Critical, trigger: {kind: critical_factor}}
        """))
    ev, rows = fired(wh, config)
    assert set(rows) == {"a1"} and list(ev.skipped) == ["churn"] and "retain predict" in ev.skipped["churn"]


def test_only_accounts_in_service_fire(tmp_path):
    wh = company()
    health(wh, DAY, {"ended": (10, "red", "champion_left"), "a1": (40, "red", "champion_left")})
    _, rows = fired(wh, one_rule(tmp_path, "{kind: critical_factor}"))
    assert set(rows) == {"a1"}
