"""A tiny hand-checked SaaS book used by the metric tests.

Quarterly view as of 2024-06-30 (Q1 open = close of 2023-12-31, Q2 open = close of 2024-03-31):

- a: customer since 2023-01-01 at 100, upgraded to 150 on 2024-05-01 (Q2 expansion +50)
- b: 2023-06-01 → 2024-02-15 at 200, reason price (Q1 churn)
- c: 2023-03-01 → 2023-09-01 at 50, back on 2024-03-10 at 80 (Q1 reactivation)
- d: new on 2024-02-01 at 60, down to 40 on 2024-04-15 (Q1 new, Q2 contraction -20)
- e: 2024-01-10 → 2024-03-01 at 10 (came and went in Q1), reason no_value
- f: 2023-05-01 → 2024-04-01 at 30 (Q2 churn: its last day of service is 2024-03-31), reason competitor
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

D = dt.date

SUBS = [
    # id, account, product, started, ended, mrr, reason
    ("a1", "a", "core", D(2023, 1, 1), D(2024, 5, 1), 100.0, None),
    ("a2", "a", "core", D(2024, 5, 1), None, 150.0, None),
    ("b1", "b", "core", D(2023, 6, 1), D(2024, 2, 15), 200.0, "price"),
    ("c1", "c", "core", D(2023, 3, 1), D(2023, 9, 1), 50.0, "budget"),
    ("c2", "c", "addon", D(2024, 3, 10), None, 80.0, None),
    ("d1", "d", "core", D(2024, 2, 1), D(2024, 4, 15), 60.0, None),
    ("d2", "d", "core", D(2024, 4, 15), None, 40.0, None),
    ("e1", "e", "core", D(2024, 1, 10), D(2024, 3, 1), 10.0, "no_value"),
    ("f1", "f", "core", D(2023, 5, 1), D(2024, 4, 1), 30.0, "competitor"),
]
ACCOUNTS = {"a": "smb", "b": "smb", "c": "enterprise", "d": "enterprise", "e": "smb", "f": "enterprise"}
AS_OF = D(2024, 6, 30)
CHANNELS = ["inbound", "outbound", "inbound", "referral", "paid", "inbound"]


def subs_frame(rows=SUBS) -> pd.DataFrame:
    cols = ["subscription_id", "account_id", "product_id", "started_on", "ended_on", "mrr", "cancel_reason"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["ended_on"] = frame["ended_on"].astype("object")
    return frame


def accounts_frame(segments=ACCOUNTS) -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": list(segments), "name": [f"Account {k}" for k in segments],
        "created_at": pd.Timestamp("2022-12-01", tz="UTC"), "segment": list(segments.values()),
        "region": "emea",
        "acquisition_channel": [CHANNELS[i % len(CHANNELS)] for i in range(len(segments))],
    })

