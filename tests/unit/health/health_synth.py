"""A seeded synthetic company for the health-fit tests: product events without user ids, no seats, no surveys.

Each account has a latent engagement ``r`` (share of days active); its monthly churn hazard falls steeply with
``r``, and its activity halves in the 60 days before it leaves. So churn depends on usage, and nothing else
(no tickets, surveys, invoices, licences) exists: the shape on which the shipped default used to give 99 % green.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from retain.warehouse import Warehouse

START = dt.date(2023, 1, 1)
END = dt.date(2024, 6, 30)


def insert(wh: Warehouse, name: str, frame: pd.DataFrame) -> None:
    """Append ``frame`` to canonical table ``name`` (missing columns null)."""
    schema = wh.raw(name).schema()
    full = frame.reindex(columns=schema.names)
    wh.con.insert(name, ibis.memtable(full).cast(schema))


def build(wh: Warehouse, accounts: int = 300, seed: int = 3, *, attributes: bool = False) -> Warehouse:
    """Fill ``wh`` with the synthetic company (see module docs); ``attributes`` adds a numeric ``accounts.attributes``
    key ``team_size`` that also lowers churn."""
    rng = np.random.default_rng(seed)
    span = (END - START).days
    ids = [f"a{i:04d}" for i in range(accounts)]
    created = rng.integers(0, span - 60, accounts)
    r = 1.0 / (1.0 + np.exp(-rng.normal(0.0, 1.3, accounts)))  # share of days active
    hazard = 0.005 + 0.16 * (1.0 - r) ** 2  # per 30 days
    life = np.ceil(rng.geometric(np.clip(hazard, 1e-4, 1.0)) * 30 + rng.integers(0, 30, accounts)).astype(int)
    end = created + life
    churned = end <= span
    team = np.round(np.exp(rng.normal(2.0, 0.8, accounts)) * (0.5 + r)).astype(int)
    acc = pd.DataFrame({
        "account_id": ids, "name": ids, "segment": "smb",
        "created_at": [dt.datetime.combine(START + dt.timedelta(days=int(c)), dt.time(), dt.UTC) for c in created],
    })
    if attributes:
        acc["attributes"] = [f'{{"team_size": {t}, "plan": "pro"}}' for t in team]
    insert(wh, "accounts", acc)
    insert(wh, "products", pd.DataFrame({"product_id": ["app"], "name": ["App"], "seat_based": [False]}))
    insert(wh, "subscriptions", pd.DataFrame({
        "subscription_id": [f"s{i}" for i in ids], "account_id": ids, "product_id": "app",
        "started_on": [START + dt.timedelta(days=int(c)) for c in created], "mrr": 50.0, "billing_period": "monthly",
        "ended_on": [START + dt.timedelta(days=int(e)) if c else None for e, c in zip(end, churned, strict=True)],
    }))
    # usage: one row per account, active day and event type (no active_users: events without user ids)
    rows = []
    for i in range(accounts):
        days = np.arange(created[i], min(end[i], span + 1))
        p = np.where(days >= end[i] - 60, r[i] / 2, r[i])
        active = days[rng.random(len(days)) < p]
        for feature, scale in (("login", 2.0), ("report", 4.0 * r[i])):
            n = rng.poisson(1 + scale, len(active))
            keep = n > 0
            rows.append(pd.DataFrame({"account_id": ids[i], "usage_on": active[keep], "feature": feature,
                                      "events": n[keep].astype(float), "active_users": 0}))
    usage = pd.concat(rows, ignore_index=True)
    usage["usage_on"] = [START + dt.timedelta(days=int(d)) for d in usage["usage_on"]]
    insert(wh, "usage", usage)
    return wh
