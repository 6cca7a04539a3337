"""A small seeded subscription + transaction book for the CLV tests (contracts from a known sBG)."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from retain.clv.simulate import sbg_lifetimes, transactions
from retain.schema import table as table_spec

AS_OF = dt.date(2025, 1, 1)
SEGMENTS = {"smb": (0.7, 1.2), "enterprise": (0.7, 3.8)}


def load(wh, name: str, frame: pd.DataFrame) -> None:
    """Insert ``frame`` into canonical table ``name``, with every column the model has (missing ones empty)."""
    schema = table_spec(name).ibis_schema()
    t = ibis.memtable(frame)
    wh.con.insert(name, t.select(**{
        col: t[col].cast(dtype) if col in frame.columns else ibis.null(dtype) for col, dtype in schema.items()
    }))


def book(n_per_segment: int = 400, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    accounts, subs = [], []
    for segment, (alpha, beta) in SEGMENTS.items():
        ids = [f"{segment[:3]}-{i:04d}" for i in range(n_per_segment)]
        start = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 365 * 5, n_per_segment), unit="D")
        life = np.minimum(sbg_lifetimes(n_per_segment, alpha, beta, seed=rng), 60)
        end = start + pd.to_timedelta(np.round(life * 365.25).astype(int), unit="D")
        accounts.append(pd.DataFrame({
            "account_id": ids, "name": [f"Account {i}" for i in ids],
            "created_at": start.tz_localize("UTC"), "segment": segment,
            "acquisition_channel": rng.choice(["inbound", "partner", "outbound"], n_per_segment),
            "campaign": rng.choice(["spring", "summer", None], n_per_segment),
        }))
        subs.append(pd.DataFrame({
            "subscription_id": [f"s-{i}" for i in ids], "account_id": ids, "product_id": "core",
            "started_on": start.date, "mrr": np.round(rng.uniform(100, 2000, n_per_segment), 2),
            "ended_on": end.date, "billing_period": "annual",
        }))
    accounts, subs = pd.concat(accounts, ignore_index=True), pd.concat(subs, ignore_index=True)
    buyers = accounts.sample(300, random_state=seed)
    tx = transactions(300, start="2023-01-01", acquisition_days=365, observation_days=730, seed=seed)
    tx["account_id"] = buyers["account_id"].to_numpy()[tx["customer_id"].to_numpy()]
    tx["transaction_id"] = [f"t-{i}" for i in range(len(tx))]
    return {"accounts": accounts, "subscriptions": subs, "transactions": tx.drop(columns="customer_id")}


def load_book(wh, **kwargs):
    for name, frame in book(**kwargs).items():
        load(wh, name, frame)
    return wh
