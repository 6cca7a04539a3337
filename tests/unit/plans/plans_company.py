"""Hand-built warehouses for the success-plan and playbook-effectiveness tests.

``plan_company``: four accounts on known usage, seats, health, NPS and subscriptions, with rows dated after
``DAY`` that a plan measured as of ``DAY`` must not see. ``play_company``: ``n`` accounts where a rule fired on
``FIRED`` (health red), half of them touched three days later; churn and health recovery drawn (seeded) with the
rates given for the treated and the untreated, so a test knows whether the play truly helps.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from retain.warehouse import Warehouse

DAY = dt.date(2024, 6, 30)
FIRED = dt.date(2024, 3, 1)


def ts(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def put(wh: Warehouse, name: str, rows: list[dict]) -> None:
    schema = wh.raw(name).schema().to_pyarrow()
    wh.con.insert(name, ibis.memtable(pa.Table.from_pylist(rows, schema=schema)))


def plan_company() -> Warehouse:
    """``p1`` (enterprise): 10 seats, 4 active users on each of the last 30 days (8 after DAY), 100 events a day,
    two products (MRR 1000 + 500), contract to 2024-12-31, health 50 on DAY (90 stored after), NPS 10 and 5.
    ``p2`` (smb): 20 seats, 5 users on 15 of the last 30 days, one product (MRR 200), health 80.
    ``p3`` (smb): churned on 2024-05-01. ``p4`` (mid_market): joins after DAY."""
    wh = Warehouse.open(":memory:")
    put(wh, "team_members", [{"member_id": "m1", "name": "Mia Manager", "role": "manager"}])
    put(wh, "products", [{"product_id": "core", "name": "Core"}, {"product_id": "plus", "name": "Plus"}])
    put(wh, "accounts", [
        {"account_id": "p1", "name": "Plan One", "segment": "enterprise", "owner_id": "m1",
         "created_at": ts(dt.date(2023, 1, 2))},
        {"account_id": "p2", "name": "Plan Two", "segment": "smb", "owner_id": "m1",
         "created_at": ts(dt.date(2023, 1, 2))},
        {"account_id": "p3", "name": "Plan Three", "segment": "smb", "created_at": ts(dt.date(2023, 1, 2))},
        {"account_id": "p4", "name": "Plan Four", "segment": "mid_market", "created_at": ts(DAY + dt.timedelta(5))},
    ])
    start = dt.date(2023, 1, 2)
    put(wh, "subscriptions", [
        {"subscription_id": "s1", "account_id": "p1", "product_id": "core", "started_on": start, "mrr": 1000.0,
         "quantity": 10, "term_end_on": dt.date(2024, 12, 31)},
        {"subscription_id": "s2", "account_id": "p1", "product_id": "plus", "started_on": start, "mrr": 500.0,
         "quantity": 5, "term_end_on": dt.date(2024, 12, 31)},
        {"subscription_id": "s3", "account_id": "p2", "product_id": "core", "started_on": start, "mrr": 200.0,
         "quantity": 20, "term_end_on": dt.date(2025, 3, 31)},
        {"subscription_id": "s4", "account_id": "p3", "product_id": "core", "started_on": start, "mrr": 300.0,
         "quantity": 5, "ended_on": dt.date(2024, 5, 1)},
        {"subscription_id": "s5", "account_id": "p4", "product_id": "core", "started_on": DAY + dt.timedelta(5),
         "mrr": 900.0, "quantity": 5},
        {"subscription_id": "s6", "account_id": "p1", "product_id": "core", "started_on": DAY + dt.timedelta(3),
         "mrr": 700.0, "quantity": 40},  # an upgrade after DAY: not there as of DAY
    ])
    usage = [{"account_id": "p1", "usage_on": DAY - dt.timedelta(days=d), "feature": "all", "active_users": 4,
              "events": 100.0} for d in range(30)]
    usage += [{"account_id": "p1", "usage_on": DAY - dt.timedelta(days=d), "feature": "reports",
               "active_users": 2, "events": 60.0} for d in range(30)]  # per-feature rows beside 'all'
    usage += [{"account_id": "p1", "usage_on": DAY + dt.timedelta(days=d), "feature": "all", "active_users": 8,
               "events": 500.0} for d in range(1, 20)]  # after DAY
    usage += [{"account_id": "p2", "usage_on": DAY - dt.timedelta(days=2 * d), "feature": "core",
               "active_users": 5, "events": 7.0} for d in range(15)]
    usage += [{"account_id": "p2", "usage_on": DAY - dt.timedelta(days=2 * d), "feature": "admin",
               "active_users": 1, "events": 3.0} for d in range(15)]
    usage += [{"account_id": "p2", "usage_on": DAY - dt.timedelta(days=40), "feature": "core", "active_users": 50,
               "events": 900.0}]  # before the window
    put(wh, "usage", usage)
    put(wh, "survey_responses", [
        {"response_id": "r1", "account_id": "p1", "responded_at": ts(dt.date(2024, 2, 1)), "survey_type": "nps",
         "score": 10},
        {"response_id": "r2", "account_id": "p1", "responded_at": ts(dt.date(2024, 6, 1)), "survey_type": "nps",
         "score": 5},
        {"response_id": "r3", "account_id": "p1", "responded_at": ts(DAY + dt.timedelta(2)), "survey_type": "nps",
         "score": 10},  # after DAY
    ])
    wh.store_result("health_scores", pd.DataFrame({"account_id": ["p1", "p2"], "scorecard": "standard",
                                                   "total": [50.0, 80.0], "grade": ["yellow", "green"]}), DAY)
    wh.store_result("health_scores", pd.DataFrame({"account_id": ["p1", "p2"], "scorecard": "standard",
                                                   "total": [90.0, 85.0], "grade": ["green", "green"]}),
                    DAY + dt.timedelta(days=20))
    return wh


def play_company(n: int, churn: tuple[float, float], recover: tuple[float, float], seed: int = 3
                 ) -> tuple[Warehouse, pd.DataFrame]:
    """``n`` accounts in service on ``FIRED`` with red health; even ones treated (a call on FIRED + 3). Within 90
    days a treated account churns with probability ``churn[0]`` (untreated ``churn[1]``) after the landmark, and a
    remaining one recovers to green with probability ``recover[0]`` (``recover[1]``). Returns the warehouse and the
    episodes (``account_id, day, rule, playbook, treated``)."""
    rng = np.random.default_rng(seed)
    wh = Warehouse.open(":memory:")
    ids = [f"x{i:04d}" for i in range(n)]
    treated = np.arange(n) % 2 == 0
    put(wh, "accounts", [{"account_id": a, "name": a, "segment": "smb", "created_at": ts(dt.date(2023, 1, 2))}
                         for a in ids])
    put(wh, "products", [{"product_id": "core", "name": "Core"}])
    p_churn = np.where(treated, churn[0], churn[1])
    p_recover = np.where(treated, recover[0], recover[1])
    churned = rng.random(n) < p_churn
    recovered = rng.random(n) < p_recover
    ended = [FIRED + dt.timedelta(days=int(d)) for d in rng.integers(20, 85, n)]
    put(wh, "subscriptions", [
        {"subscription_id": f"s_{a}", "account_id": a, "product_id": "core", "started_on": dt.date(2023, 1, 2),
         "mrr": 100.0 + 10 * (i % 7), "quantity": 5, "term_end_on": dt.date(2025, 12, 31),
         "ended_on": ended[i] if churned[i] else None} for i, a in enumerate(ids)])
    put(wh, "activities", [
        {"activity_id": f"t_{a}", "account_id": a, "occurred_at": ts(FIRED + dt.timedelta(days=3)),
         "activity_type": "call", "direction": "outbound"} for a, t in zip(ids, treated, strict=True) if t])
    wh.store_result("health_scores", pd.DataFrame({"account_id": ids, "scorecard": "standard", "total": 30.0,
                                                   "grade": "red"}), FIRED)
    later = FIRED + dt.timedelta(days=89)
    kept = [i for i in range(n) if not churned[i]]
    wh.store_result("health_scores", pd.DataFrame({
        "account_id": [ids[i] for i in kept], "scorecard": "standard",
        "total": [80.0 if recovered[i] else 35.0 for i in kept],
        "grade": ["green" if recovered[i] else "red" for i in kept]}), later)
    episodes = pd.DataFrame({"account_id": ids, "day": FIRED, "rule": "health_grade_drop",
                             "playbook": "health_recovery", "treated": treated})
    return wh, episodes
