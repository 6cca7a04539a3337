"""A tiny, hand-checkable company for tests of the state layer, the API and the browser pages.

Team: manager ``m1`` (Mia Manager) with reports ``r1`` (Rita Rep) and ``r2`` (Raj Rep); ``r3`` (Olga Other)
reports to nobody. Six accounts, one with a Chinese name; stored health, propensity, CLV and retention results
(with the columns declared in :mod:`retain.results`) on two dates so history and change exist.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa

from retain.warehouse import Warehouse

AS_OF = dt.date(2024, 6, 30)
PREVIOUS = dt.date(2024, 5, 31)
CHINESE_NAME = "北京云端科技有限公司"


def _put(wh: Warehouse, name: str, rows: list[dict]) -> None:
    schema = wh.raw(name).schema().to_pyarrow()
    wh.con.insert(name, ibis.memtable(pa.Table.from_pylist(rows, schema=schema)))


def _ts(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def build(wh: Warehouse) -> Warehouse:
    """Fill ``wh`` (empty, with canonical tables) with the tiny company and its stored results."""
    _put(wh, "team_members", [
        {"member_id": "m1", "name": "Mia Manager", "role": "manager", "team": "East"},
        {"member_id": "r1", "name": "Rita Rep", "role": "csm", "manager_id": "m1", "team": "East"},
        {"member_id": "r2", "name": "Raj Rep", "role": "rep", "manager_id": "m1", "team": "East"},
        {"member_id": "r3", "name": "Olga Other", "role": "rep", "team": "West"},
    ])
    _put(wh, "products", [{"product_id": "core", "name": "Core"}, {"product_id": "plus", "name": "Plus add-on"}])
    accounts = [
        ("a1", "Acme Corp", "r1", "enterprise", "east", "outbound"),
        ("a2", "Globex", "r1", "smb", "east", "inbound"),
        ("a3", "Initech", "r2", "mid_market", "east", "referral"),
        ("a4", CHINESE_NAME, "r2", "enterprise", "apac", "partner"),
        ("a5", "Umbrella", "r3", "smb", "west", "inbound"),
        ("a6", "Hooli", "r3", "mid_market", "west", "paid"),
    ]
    _put(wh, "accounts", [
        {"account_id": a, "name": n, "owner_id": o, "segment": s, "region": r, "acquisition_channel": c,
         "created_at": _ts("2023-01-15")} for a, n, o, s, r, c in accounts
    ])
    subs = [
        ("s1", "a1", "core", "2023-01-15", 1000.0, "2024-12-31", None),
        ("s2", "a1", "plus", "2023-06-01", 250.0, "2024-12-31", None),
        ("s3", "a2", "core", "2023-01-15", 300.0, "2024-09-30", None),
        ("s4", "a3", "core", "2023-01-15", 500.0, "2025-01-31", None),
        ("s5", "a4", "core", "2023-01-15", 2000.0, "2024-08-31", None),
        ("s6", "a5", "core", "2023-01-15", 100.0, "2024-01-15", "2024-01-15"),
        ("s7", "a6", "core", "2023-01-15", 400.0, "2024-07-31", None),
    ]
    _put(wh, "subscriptions", [
        {"subscription_id": i, "account_id": a, "product_id": p, "started_on": dt.date.fromisoformat(s), "mrr": m,
         "currency": "USD", "quantity": 10, "term_end_on": dt.date.fromisoformat(t),
         "ended_on": dt.date.fromisoformat(e) if e else None} for i, a, p, s, m, t, e in subs
    ])
    _put(wh, "support_tickets", [
        {"ticket_id": "t1", "account_id": "a1", "opened_at": _ts("2024-06-20"), "priority": "high",
         "category": "bug", "subject": "Export fails"},
        {"ticket_id": "t2", "account_id": "a1", "opened_at": _ts("2024-03-01"), "priority": "normal",
         "category": "how_to", "subject": "SSO set-up", "resolved_at": _ts("2024-03-02")},
        {"ticket_id": "t3", "account_id": "a4", "opened_at": _ts("2024-06-25"), "priority": "urgent",
         "category": "outage", "subject": "无法登录"},
    ])
    _put(wh, "survey_responses", [
        {"response_id": "n1", "account_id": "a1", "responded_at": _ts("2024-05-10"), "survey_type": "nps",
         "score": 9, "touchpoint": "qbr", "comment": "Great support"},
        {"response_id": "n2", "account_id": "a4", "responded_at": _ts("2024-06-01"), "survey_type": "nps",
         "score": 3, "touchpoint": "relationship", "comment": "太慢了"},
    ])
    _put(wh, "activities", [
        {"activity_id": "x1", "account_id": "a1", "occurred_at": _ts("2024-06-15"), "activity_type": "qbr",
         "member_id": "r1", "subject": "Q2 business review", "outcome": "completed"},
        {"activity_id": "x2", "account_id": "a3", "occurred_at": _ts("2024-06-10"), "activity_type": "call",
         "member_id": "r2", "subject": "Check-in", "outcome": "connected"},
    ])
    _put(wh, "usage", [
        {"account_id": "a1", "usage_on": AS_OF - dt.timedelta(days=d), "feature": "all", "active_users": 5,
         "events": 40.0} for d in range(25)
    ] + [{"account_id": "a3", "usage_on": AS_OF - dt.timedelta(days=d), "feature": "all", "active_users": 1,
          "events": 3.0} for d in range(3)])
    health = {"a1": (82.0, "green"), "a2": (55.0, "yellow"), "a3": (68.0, "yellow"), "a4": (31.0, "red"),
              "a6": (47.0, "yellow")}
    before = {"a1": (78.0, "green"), "a2": (60.0, "yellow"), "a3": (68.0, "yellow"), "a4": (45.0, "yellow"),
              "a6": (50.0, "yellow")}
    for day, table in ((PREVIOUS, before), (AS_OF, health)):
        wh.store_result("health_scores", pd.DataFrame(
            {"account_id": list(table), "scorecard": "standard", "total": [v[0] for v in table.values()],
             "grade": [v[1] for v in table.values()]}), day)
    wh.store_result("health_components", pd.DataFrame({
        "account_id": ["a1", "a1", "a4", "a4"], "scorecard": "standard", "component": ["usage", "support"] * 2,
        "score": [90.0, 70.0, 20.0, 40.0], "weight_pct": [60.0, 40.0, 60.0, 40.0]}), AS_OF)
    wh.store_result("propensity", pd.DataFrame({
        "account_id": ["a1", "a2", "a3", "a4", "a6"], "churn_probability": [0.05, 0.35, 0.2, 0.72, 0.55],
        "reasons": [None if a in ("a1", "a3") else "low_usage,open_urgent_ticket" for a in ("a1", "a2", "a3", "a4",
                                                                                              "a6")]}), AS_OF)
    wh.store_result("clv", pd.DataFrame({
        "account_id": ["a1", "a2", "a3", "a4", "a6"], "clv": [42000.0, 5000.0, 15000.0, 30000.0, 9000.0]}), AS_OF)
    wh.store_result("revenue_retention", pd.DataFrame({
        "grain": "month", "period": ["2024-03", "2024-04", "2024-05", "2024-06"], "dimension": "all",
        "dimension_value": "all", "nrr": [1.04, 1.02, 0.99, 1.01],
        "grr": [0.95, 0.94, 0.93, 0.96]}), AS_OF)
    _company_results(wh)
    _owned_results(wh)
    _sales_results(wh)
    return wh


def _company_results(wh: Warehouse) -> None:
    """One small frame for each company-wide published result (aggregates that name no account or person)."""
    wh.store_result("retention", pd.DataFrame({"grain": "month", "period": ["2024-05", "2024-06"], "dimension": "all",
                                               "dimension_value": "all", "logo_retention": [0.9, 0.8]}), AS_OF)
    cohorts = {"dimension": ["all"] * 2, "dimension_value": ["all"] * 2, "cohort": ["2023-01"] * 2,
               "months_since_start": [0, 1], "accounts": [6, 6]}
    wh.store_result("cohorts_logo", pd.DataFrame(cohorts | {"logo_retention": [1.0, 0.83]}), AS_OF)
    wh.store_result("cohorts_revenue", pd.DataFrame(cohorts | {"revenue_retention": [1.0, 0.9]}), AS_OF)
    wh.store_result("survival", pd.DataFrame({"dimension": ["all"] * 2, "dimension_value": ["all"] * 2,
                                              "time_days": [0, 365], "survival": [1.0, 0.83]}), AS_OF)
    wh.store_result("products_held", pd.DataFrame({"products_held": [1, 2], "tenure_band": ["1y+"] * 2,
                                                   "retention": [0.8, 1.0]}), AS_OF)
    wh.store_result("pareto", pd.DataFrame({"customer_share": [0.2, 1.0], "revenue_share": [0.55, 1.0]}), AS_OF)
    wh.store_result("doctor", pd.DataFrame({
        "item": [0, 1], "section": ["verdict", "flag"], "subject": ["churn model", "subscriptions.quantity"],
        "status": ["supported", "outlier"], "message": ["6 churned accounts over 4 observation dates", "a quantity "
                                                        "100x the median"], "fix": ["", "check the export"]}), AS_OF)
    wh.store_result("survey_trends", pd.DataFrame({
        "survey_type": "nps", "period": ["2024-05", "2024-06"], "period_start": pd.to_datetime(["2024-05-01",
        "2024-06-01"]), "responses": [10, 8], "promoters": [5, 3], "detractors": [2, 3], "mean_score": [7.9, 6.8],
        "score": [30.0, 0.0], "score_lo": [-10.0, -45.0], "score_hi": [70.0, 45.0]}), AS_OF)
    wh.store_result("survey_outcomes", pd.DataFrame({"survey_type": "nps", "score": [3, 9], "responses": [4, 6],
                                                     "churn_90d": [0.5, 0.0], "expansion_180d": [0.0, 0.33]}), AS_OF)
    wh.store_result("survey_themes", pd.DataFrame({"language": ["en", "zh"], "theme": ["support", "客服"],
                                                   "mentions": [3, 2], "sentiment": [0.4, -0.2],
                                                   "detractor_share": [0.33, 0.5]}), AS_OF)


# Rows of the owned results, each with whom it belongs to; tests derive what every role may read from these.
CALLS = [  # (conversation_id, rep member_id, account_id)
    ("c1", "r1", "a1"), ("c2", "r2", "a3"), ("c3", "r3", "a5"), ("c4", "r3", "a1"), ("c5", "r3", None),
    ("c6", "m1", "a6"),
]
LEADS = [("l1", "r1"), ("l2", "r2"), ("l3", "r3"), ("l4", None), ("l5", "m1")]  # (lead_id, owner_id)


def _owned_results(wh: Warehouse) -> None:
    wh.store_result("call_metrics", pd.DataFrame({
        "conversation_id": [c for c, _, _ in CALLS], "member_id": [m for _, m, _ in CALLS],
        "account_id": pd.Series([a for _, _, a in CALLS], dtype="string"),
        "title": [f"Call {c}" for c, _, _ in CALLS], "qa_score": [70.0 + i for i in range(len(CALLS))],
        "rep_talk_share": 0.5, "rep_questions": 4.0, "longest_monologue_seconds": 60.0, "customer_sentiment": 0.2,
        "duration_seconds": 900.0}), AS_OF)
    wh.store_result("lead_recovery", pd.DataFrame({
        "rank": list(range(1, len(LEADS) + 1)), "lead_id": [lead for lead, _ in LEADS],
        "owner_id": pd.Series([o for _, o in LEADS], dtype="string"), "company": [f"Lead {lead}" for lead, _ in LEADS],
        "score": [0.9 - 0.1 * i for i in range(len(LEADS))]}), AS_OF)


# (opportunity_id, owner member_id, account_id): open deals for opportunity_scores and closed ones for sales_deals
OPPORTUNITIES = [("o1", "r1", "a1"), ("o2", "r2", "a3"), ("o3", "r3", "a5"), ("o4", "r3", "a1"), ("o5", "r3", None),
                 ("o6", "m1", None)]
GOALS = [("g1", "r1"), ("g2", "r2"), ("g3", "r3")]  # (goal_id, member_id): personal goals


def _sales_results(wh: Warehouse) -> None:
    """The sales domain's published results: owned rows (deals, personal goals, bookings) and company ones."""
    opps = pd.DataFrame({"opportunity_id": [o for o, _, _ in OPPORTUNITIES],
                         "owner_id": [m for _, m, _ in OPPORTUNITIES],
                         "account_id": pd.Series([a for _, _, a in OPPORTUNITIES], dtype="string"),
                         "name": [f"Deal {o}" for o, _, _ in OPPORTUNITIES], "opportunity_type": "new_business",
                         "stage": "proposal", "stage_position": 2.0, "amount": 1000.0, "p_win": 0.4,
                         "stage_benchmark": 0.55, "below_benchmark": True, "reasons": "no activity for 20 days",
                         "warnings": "no_activity", "warning_count": 1})
    wh.store_result("opportunity_scores", opps, AS_OF)
    wh.store_result("sales_deals", opps[["opportunity_id", "owner_id", "account_id", "name", "amount"]].assign(
        month="2024-06", is_won=True, opportunity_type="add_on"), AS_OF)
    goals = pd.DataFrame({"goal_id": [g for g, _ in GOALS], "member_id": [m for _, m in GOALS],
                          "metric": "new_business_arr", "target": 1000.0, "actual": 500.0, "pace": 600.0,
                          "attainment": 0.5, "projected": 900.0, "projected_attainment": 0.9})
    wh.store_result("sales_goals", goals, AS_OF)
    wh.store_result("sales_team_goals", goals.drop(columns="member_id").assign(goal_id="g0", team="East").head(1),
                    AS_OF)
    wh.store_result("sales_bookings", pd.DataFrame({"month": "2024-06", "owner_id": [m for _, m in GOALS],
                                                    "team": "East", "opportunity_type": "add_on",
                                                    "product_id": "plus", "arr": 100.0, "units": 2.0, "deals": 1}),
                    AS_OF)
    wh.store_result("sales_forecast", pd.DataFrame({"period": "2024-Q3", "team": ["all", "East"], "open_deals": 3,
                                                    "pipeline": 3000.0, "expected": 1200.0}), AS_OF)
    wh.store_result("sales_backtest", pd.DataFrame({"period": ["2024-Q1"], "open_deals": [4], "actual_won": [900.0],
                                                    "model_forecast": [1000.0], "crm_forecast": [1400.0]}), AS_OF)
    wh.store_result("sales_model_check", pd.DataFrame({"method": ["model", "crm_probability", "stage_only"],
                                                       "auc": [0.8, 0.65, 0.66]}), AS_OF)
    wh.store_result("win_loss", pd.DataFrame({"dimension": "segment", "dimension_value": ["smb", "enterprise"],
                                              "reason": "all", "closed": 10, "won": [6, 3], "share": [0.6, 0.3]}),
                    AS_OF)
    wh.store_result("sales_capacity", pd.DataFrame({"team": ["East"], "month": ["2024-06"], "saturation": [0.8],
                                                    "situation": ["grow_new_business"]}), AS_OF)


PASSWORDS = {"admin": "admin-pass-1", "mia": "mia-pass-1", "rita": "rita-pass-1", "olga": "olga-pass-1"}
ROLES = {"admin": ("admin", None), "mia": ("manager", "m1"), "rita": ("member", "r1"), "olga": ("member", "r3")}
