"""``churn_events`` of the SaaS company: what its billing system records beside the subscription periods.

Derived from the lifecycle rows, so the events agree with the subscriptions exactly:

- ``churn``: one per account and churn day (every line ended with ``end_kind = churn``), the core line's cancel
  reason, ``mrr_change`` = minus the MRR that ended;
- ``downgrade``: a licence contraction (mid-term or at a yearly renewal) and an add-on dropped (with its reason);
- ``upgrade``: a licence expansion (mid-term or at renewal) and an add-on bought;
- ``reactivation``: a win-back (the new core subscription).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retain.demo._base import arrow_table, ids
from retain.demo.accounts import Accounts
from retain.demo.lifecycle import ENDS, KINDS, Lifecycle, subscription_products
from retain.demo.spec import CANCEL_REASONS

EVENT_TYPES = ("churn", "downgrade", "upgrade", "reactivation")


def previous_row(account: np.ndarray, line: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Index of the previous row of the same (account, line) in start order, -1 for the first."""
    order = np.lexsort((start, line, account))
    prev = np.full(len(account), -1, np.int64)
    same = (account[order][1:] == account[order][:-1]) & (line[order][1:] == line[order][:-1])
    prev[order[1:][same]] = order[:-1][same]
    return prev


def events_table(prefix: str, account_id: np.ndarray, day: np.ndarray, kind: np.ndarray, product: np.ndarray,
                 reason: np.ndarray, mrr_change: np.ndarray) -> pa.Table:
    """The ``churn_events`` table, rows sorted by (day, account, event type), ids ``<prefix>0000001``..."""
    order = np.lexsort((kind.astype(str), account_id.astype(str), day))
    n = len(order)
    return arrow_table("churn_events", {
        "event_id": ids(prefix, n, 7), "account_id": account_id[order], "occurred_on": day[order],
        "event_type": kind[order], "product_id": product[order], "reason": reason[order], "currency": "USD",
        "mrr_change": np.round(mrr_change[order], 2),
    })


def saas_churn_events(acc: Accounts, life: Lifecycle) -> pa.Table:
    r = life.rows
    product = subscription_products(r)
    reason = np.where(r["reason"] >= 0, np.asarray(CANCEL_REASONS, dtype=object)[np.maximum(r["reason"], 0)], None)
    prev = previous_row(r["account"], r["line"], r["start"])
    has_prev = prev >= 0
    prev_qty = np.where(has_prev, r["qty"][np.maximum(prev, 0)], 0)
    prev_mrr = np.where(has_prev, r["mrr"][np.maximum(prev, 0)], 0.0)
    kind, end_kind = r["kind"], r["end_kind"]
    parts: list[tuple[np.ndarray, np.ndarray, str, np.ndarray, np.ndarray, np.ndarray]] = []
    # churn: one event per (account, day), from the core line (every churn ends it)
    core_churn = np.flatnonzero((end_kind == ENDS.index("churn")) & (r["line"] == 0))
    ended = np.flatnonzero(end_kind == ENDS.index("churn"))
    key = r["account"][ended].astype(np.int64) << 32 | r["end"][ended]
    uniq, inverse = np.unique(key, return_inverse=True)
    lost = np.bincount(inverse, weights=r["mrr"][ended], minlength=len(uniq))
    core_key = r["account"][core_churn].astype(np.int64) << 32 | r["end"][core_churn]
    parts.append((core_churn, r["end"][core_churn], "churn", np.full(len(core_churn), None, dtype=object),
                  reason[core_churn], -lost[np.searchsorted(uniq, core_key)]))
    # licence changes on the core line: mid-term or at a yearly renewal
    change = (r["line"] == 0) & has_prev & np.isin(kind, [KINDS.index(k) for k in ("expansion", "contraction",
                                                                                   "renewal")])
    up = np.flatnonzero(change & (r["qty"] > prev_qty))
    down = np.flatnonzero(change & (r["qty"] < prev_qty))
    for rows, name in ((up, "upgrade"), (down, "downgrade")):
        parts.append((rows, r["start"][rows], name, product[rows], np.full(len(rows), None, dtype=object),
                      r["mrr"][rows] - prev_mrr[rows]))
    # add-ons bought and dropped
    bought = np.flatnonzero((r["line"] > 0) & (kind == KINDS.index("cross_sell")))
    parts.append((bought, r["start"][bought], "upgrade", product[bought], np.full(len(bought), None, dtype=object),
                  r["mrr"][bought]))
    dropped = np.flatnonzero(end_kind == ENDS.index("dropped"))
    parts.append((dropped, r["end"][dropped], "downgrade", product[dropped], reason[dropped], -r["mrr"][dropped]))
    back = np.flatnonzero(kind == KINDS.index("winback"))
    parts.append((back, r["start"][back], "reactivation", product[back], np.full(len(back), None, dtype=object),
                  r["mrr"][back]))
    rows = np.concatenate([p[0] for p in parts])
    return events_table(
        "chg_", acc.account_id[r["account"][rows]], np.concatenate([p[1] for p in parts]),
        np.concatenate([np.full(len(p[0]), p[2], dtype=object) for p in parts]),
        np.concatenate([p[3] for p in parts]), np.concatenate([p[4] for p in parts]),
        np.concatenate([p[5] for p in parts]).astype(np.float64),
    )
