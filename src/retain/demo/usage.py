"""Daily product usage per account and feature, from the licences held and last week's health.

``active_users ~ Binomial(licences, utilisation x feature share x weekday)`` with utilisation
``sigmoid(0.2 + 1.6 h[week-1] + account habit + daily noise)``, so active users never exceed licences and usage
trails health by about a week. Days without any activity are not written (as real exports do).
Generated in blocks of accounts so 30,000 accounts stay within memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from retain.demo._base import NO_DAY, Clock, arrow_table, sigmoid, stream
from retain.demo.accounts import Accounts
from retain.demo.health import Health
from retain.demo.lifecycle import Lifecycle
from retain.demo.spec import ADDONS, CORE_FEATURES, PRODUCT_INDEX, PRODUCTS, DemoSpec

# (line, feature, share of licensed users using it on a working day, events per active user)
FEATURES = [(0, f, s, e) for f, s, e in zip(CORE_FEATURES, (0.9, 0.55, 0.3), (14.0, 6.0, 3.0), strict=True)]
FEATURES += [
    (1 + i, PRODUCTS[PRODUCT_INDEX[p]][5], s, e)
    for i, (p, s, e) in enumerate(zip(ADDONS, (0.45, 0.35, 0.25, 0.0), (8.0, 20.0, 60.0, 0.0), strict=True))
    if PRODUCTS[PRODUCT_INDEX[p]][5]
]
FEATURE_NAMES = np.array([f[1] for f in FEATURES], dtype=object)
BLOCK = 1500


def usage_tables(spec: DemoSpec, clock: Clock, acc: Accounts, health: Health, life: Lifecycle) -> Iterator[pa.Table]:
    """Usage as Arrow tables, one per block of :data:`BLOCK` accounts, each block with its own random stream."""
    r = life.rows
    habit = stream(spec, "usage-habit").normal(0, 0.35, len(acc))
    f_line = np.array([f[0] for f in FEATURES])
    f_share = np.array([f[2] for f in FEATURES])
    f_events = np.array([f[3] for f in FEATURES])
    bounds = np.searchsorted(r["account"], np.arange(0, len(acc) + BLOCK, BLOCK))
    for b in range(len(bounds) - 1):
        lo, hi = bounds[b], bounds[b + 1]
        if hi <= lo:
            continue
        rng = stream(spec, f"usage-{b}")
        rows = np.arange(lo, hi)
        # (row, feature) pairs for the features each row's line unlocks
        match = r["line"][rows][:, None] == f_line[None, :]
        pr, pf = np.nonzero(match)
        pr = rows[pr]
        start = r["start"][pr]
        end = np.where(r["end"][pr] == NO_DAY, clock.end + 1, np.minimum(r["end"][pr], clock.end + 1))
        count = np.maximum(end - start, 0)
        rep = np.repeat(np.arange(len(pr)), count)
        day = start[rep] + (np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count))
        account = r["account"][pr][rep]
        feat = pf[rep]
        qty = r["qty"][pr][rep]
        h = health.at(account, clock.week(day), lag=1)
        weekday = (day + 3) % 7
        work = np.where(weekday >= 5, 0.1, 1.0)
        util = sigmoid(0.2 + 1.6 * h + habit[account] + rng.normal(0, 0.3, len(day)))
        p = np.clip(util * f_share[feat] * work, 0, 1)
        active = rng.binomial(qty, p)
        keep = active > 0
        active, day, account, feat = active[keep], day[keep], account[keep], feat[keep]
        events = np.round(active * f_events[feat] * rng.gamma(3.0, 1 / 3.0, len(active)))
        minutes = np.round(events * rng.gamma(4.0, 0.5, len(active)), 1)
        yield arrow_table("usage", {
            "account_id": acc.account_id[account], "usage_on": day, "feature": FEATURE_NAMES[feat],
            "active_users": active, "events": events, "minutes": minutes,
        })
