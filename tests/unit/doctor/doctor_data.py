"""Tiny hand-built warehouses for the doctor tests: each function fills one data shape."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from retain.warehouse import Warehouse

EXPORT = dt.date(2025, 7, 15)


def load(wh: Warehouse, name: str, rows: list[dict]) -> None:
    """Insert ``rows`` into canonical table ``name``; missing columns are null."""
    schema = wh.raw(name).schema()
    frame = pd.DataFrame([{col: row.get(col) for col in schema.names} for row in rows])
    wh.con.insert(name, ibis.memtable(frame).cast(schema))


def ts(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def ids(count: int, prefix: str = "a") -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(count)]


def accounts(wh: Warehouse, names: list[str], *, created: dt.date = dt.date(2024, 1, 1),
             churned: dict[str, dt.date] | None = None) -> None:
    churned = churned or {}
    load(wh, "accounts", [{"account_id": a, "name": a, "created_at": ts(created), "segment": "smb",
                           "churned_at": ts(churned[a]) if a in churned else None} for a in names])


def subscriptions(wh: Warehouse, rows: list[tuple]) -> None:
    """``(account_id, product_id, started_on, ended_on, mrr, quantity)`` per period."""
    load(wh, "subscriptions", [
        {"subscription_id": f"s{i:03d}", "account_id": a, "product_id": p, "started_on": start, "ended_on": end,
         "mrr": mrr, "quantity": qty, "billing_period": "monthly"}
        for i, (a, p, start, end, mrr, qty) in enumerate(rows)])


def snapshot_with_labels(wh: Warehouse, *, churned: int = 25, stayed: int = 15) -> list[str]:
    """One row per customer exported on :data:`EXPORT`: subscriptions from tenure, all running, and a label each."""
    names = ids(churned + stayed)
    accounts(wh, names, created=dt.date(2023, 1, 1))
    subscriptions(wh, [(a, "plan", EXPORT - dt.timedelta(days=30 * (i + 1)), None, 50.0, 1)
                       for i, a in enumerate(names)])
    load(wh, "outcome_labels", [{"account_id": a, "observed_on": EXPORT, "outcome": "churn", "happened": i < churned}
                                for i, a in enumerate(names)])
    return names


def snapshot_churned_on_one_day(wh: Warehouse, churned: int = 30, stayed: int = 10) -> None:
    """A snapshot whose churn column became ``churned_at`` = the export day (and ends of the churned subscriptions)."""
    names = ids(churned + stayed)
    gone = {a: EXPORT for a in names[:churned]}
    accounts(wh, names, created=dt.date(2023, 1, 1), churned=gone)
    subscriptions(wh, [(a, "plan", dt.date(2024, 1, 1), gone.get(a), 50.0, 1) for a in names])


def churn_over_months(wh: Warehouse, churned: int = 30, stayed: int = 10) -> None:
    """Monthly subscriptions from 2024-01-01; ``churned`` accounts end on days spread over six months of 2024."""
    names = ids(churned + stayed)
    accounts(wh, names)
    ends = {a: dt.date(2024, 7, 1) + dt.timedelta(days=6 * i) for i, a in enumerate(names[:churned])}
    subscriptions(wh, [(a, "plan", dt.date(2024, 1, 1), ends.get(a), 100.0, 5) for a in names])
