"""Tiny hand-checked tables for the health tests: three scored accounts (and a churned one), as of 2024-06-30."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from retain.warehouse import Warehouse

AS_OF = dt.date(2024, 6, 30)


def load(wh: Warehouse, name: str, rows: list[dict]) -> None:
    """Insert ``rows`` into canonical table ``name``; missing columns are null."""
    schema = wh.raw(name).schema()
    frame = pd.DataFrame([{col: row.get(col) for col in schema.names} for row in rows])
    wh.con.insert(name, ibis.memtable(frame).cast(schema))


def ts(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def fill_tiny(wh: Warehouse) -> Warehouse:
    """A: healthy, B: struggling (low usage, tickets, NPS 3, overdue), C: no usage/survey data (N/A)."""
    load(wh, "accounts", [
        {"account_id": a, "name": a, "created_at": ts("2023-01-01"), "segment": seg, "owner_id": "csm1"}
        for a, seg in (("A", "smb"), ("B", "smb"), ("C", "enterprise"))
    ] + [{"account_id": "X", "name": "X", "created_at": ts("2023-01-01"), "segment": "smb"}])
    load(wh, "subscriptions", [
        {"subscription_id": "sA", "account_id": "A", "product_id": "p1", "started_on": d("2024-01-01"),
         "mrr": 100.0, "quantity": 10, "term_end_on": d("2024-12-31")},
        {"subscription_id": "sA2", "account_id": "A", "product_id": "p2", "started_on": d("2024-01-01"),
         "mrr": 50.0, "quantity": 5, "term_end_on": d("2024-12-31")},
        {"subscription_id": "sB", "account_id": "B", "product_id": "p1", "started_on": d("2024-01-01"),
         "mrr": 200.0, "quantity": 20, "term_end_on": d("2024-08-29")},
        {"subscription_id": "sC", "account_id": "C", "product_id": "p1", "started_on": d("2024-01-01"),
         "mrr": 1000.0, "quantity": 100},
        # X churned before the as-of day: not scored
        {"subscription_id": "sX", "account_id": "X", "product_id": "p1", "started_on": d("2023-01-01"),
         "mrr": 10.0, "quantity": 1, "ended_on": d("2024-03-01")},
    ])
    usage = []
    for k in range(90):  # 2024-04-02 .. 2024-06-30
        day = AS_OF - dt.timedelta(days=k)
        usage.append({"account_id": "A", "usage_on": day, "feature": "reports", "active_users": 8, "events": 5.0})
        usage.append({"account_id": "A", "usage_on": day, "feature": "all", "active_users": 9, "events": 9.0})
        if k >= 30:  # B used the product only 31-90 days ago
            usage.append({"account_id": "B", "usage_on": day, "feature": "all", "active_users": 6, "events": 1.0})
    usage.append({"account_id": "A", "usage_on": AS_OF, "feature": "alerts", "active_users": 1, "events": 1.0})
    # a future row must change nothing
    usage.append({"account_id": "B", "usage_on": AS_OF + dt.timedelta(days=1), "feature": "all",
                  "active_users": 99, "events": 9.0})
    load(wh, "usage", usage)
    load(wh, "support_tickets", [
        {"ticket_id": "t1", "account_id": "B", "opened_at": ts("2024-06-01"), "priority": "high", "escalated": True},
        {"ticket_id": "t2", "account_id": "B", "opened_at": ts("2024-06-10"), "priority": "urgent"},
        {"ticket_id": "t3", "account_id": "B", "opened_at": ts("2024-05-10"), "priority": "normal",
         "resolved_at": ts("2024-05-11")},
        {"ticket_id": "t4", "account_id": "A", "opened_at": ts("2024-06-20"), "priority": "high",
         "resolved_at": ts("2024-06-21")},
        # resolved only after the as-of day: still open as of it
        {"ticket_id": "t5", "account_id": "B", "opened_at": ts("2024-06-25"), "priority": "normal",
         "resolved_at": ts("2024-07-05")},
    ])
    load(wh, "survey_responses", [
        {"response_id": "r1", "account_id": "A", "responded_at": ts("2024-03-01"), "survey_type": "nps", "score": 6},
        {"response_id": "r2", "account_id": "A", "responded_at": ts("2024-05-01"), "survey_type": "nps", "score": 9},
        {"response_id": "r3", "account_id": "B", "responded_at": ts("2024-06-15"), "survey_type": "nps", "score": 3},
        {"response_id": "r4", "account_id": "B", "responded_at": ts("2024-07-02"), "survey_type": "nps", "score": 10},
    ])
    load(wh, "invoices", [
        {"invoice_id": "i1", "account_id": "B", "issued_on": d("2024-04-01"), "due_on": d("2024-05-01"),
         "amount": 600.0},
        {"invoice_id": "i2", "account_id": "A", "issued_on": d("2024-04-01"), "due_on": d("2024-05-01"),
         "amount": 450.0, "paid_on": d("2024-05-03")},
        # paid after the as-of day: overdue as of it
        {"invoice_id": "i3", "account_id": "A", "issued_on": d("2024-05-15"), "due_on": d("2024-06-20"),
         "amount": 100.0, "paid_on": d("2024-07-10")},
    ])
    load(wh, "activities", [
        {"activity_id": "m1", "account_id": "A", "occurred_at": ts("2024-06-10"), "activity_type": "qbr"},
        {"activity_id": "m2", "account_id": "A", "occurred_at": ts("2024-05-10"), "activity_type": "call"},
        {"activity_id": "m3", "account_id": "B", "occurred_at": ts("2024-01-31"), "activity_type": "executive_meeting"},
    ])
    load(wh, "contacts", [
        {"contact_id": "c1", "account_id": "B", "created_at": ts("2023-02-01"), "role": "champion",
         "left_at": ts("2024-06-01")},
        {"contact_id": "c2", "account_id": "A", "created_at": ts("2023-02-01"), "role": "champion"},
    ])
    return wh
