"""Raw product events of the app (``product_events``: account, time, type, value; no user ids) and support tickets.

On each day of a trial or paid period a subscriber opens the app with probability
``sigmoid(-0.6 + 1.5 h[week-1] + habit) x weekday`` (weekends busier). An active day has 1 + Poisson(0.6)
``session_start`` events (one row each) and per feature one row whose ``value`` counts the uses
(``lesson_completed``, ``favorite_added``, ``share``). After a subscriber decides to cancel, the app is hardly
opened any more (a tenth of the usual chance). Retain rolls the events up into ``usage`` on load (``active_users``
stays 0: there are no user ids).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retain.demo._base import DAY, NO_DAY, Clock, arrow_table, ids, pick, sigmoid, stream
from retain.demo._latent import DayGrid, open_end
from retain.demo.app import Lifecycle, Subscribers
from retain.demo.spec import DemoSpec

# event type, uses per active day at neutral health (Poisson mean), health slope
FEATURES = (("lesson_completed", 1.4, 0.35), ("favorite_added", 0.2, 0.3), ("share", 0.06, 0.6))
BLOCK = 2000


def _activity(rng: np.random.Generator, clock: Clock, weekly: np.ndarray, habit: np.ndarray, life: Lifecycle,
              rows: np.ndarray):
    """Active (account, day) pairs of the given lifecycle rows, with health on that day."""
    r = life.rows
    grid = DayGrid.of(r["account"][rows], r["start"][rows], open_end(r["end"][rows], clock))
    a, day = grid.account, grid.day
    h = np.nan_to_num(weekly[a, np.maximum(clock.week(day) - 1, 0)])
    weekend = (day + 3) % 7 >= 5
    decided = life.decided_day[rows][grid.interval]
    quiet = np.where((decided != NO_DAY) & (day >= decided), 0.1, 1.0)
    p = sigmoid(-0.6 + 1.5 * h + habit[a]) * np.where(weekend, 1.15, 0.95) * quiet
    on = rng.random(len(a)) < p
    return a[on], day[on], h[on]


def events_table(spec: DemoSpec, clock: Clock, subs: Subscribers, weekly: np.ndarray, life: Lifecycle) -> pa.Table:
    habit = stream(spec, "app-habit").normal(0, 0.5, len(subs))
    r = life.rows
    bounds = np.searchsorted(r["account"], np.arange(0, len(subs) + BLOCK, BLOCK))
    parts: dict[str, list[np.ndarray]] = {"account": [], "time": [], "feature": [], "value": []}
    for b in range(len(bounds) - 1):
        rng = stream(spec, f"app-events-{b}")
        a, day, h = _activity(rng, clock, weekly, habit, life, np.arange(bounds[b], bounds[b + 1]))
        sessions = 1 + rng.poisson(0.6, len(a))
        s_idx = np.repeat(np.arange(len(a)), sessions)
        feats = [(s_idx, np.zeros(len(s_idx), np.int64), np.ones(len(s_idx)))]
        for f, (_, mean, slope) in enumerate(FEATURES, start=1):
            uses = rng.poisson(mean * np.exp(slope * h))
            on = np.flatnonzero(uses > 0)
            feats.append((on, np.full(len(on), f), uses[on].astype(np.float64)))
        idx = np.concatenate([x[0] for x in feats])
        parts["account"].append(a[idx])
        parts["time"].append(day[idx] * DAY + rng.integers(6 * 3600, 24 * 3600, len(idx)))
        parts["feature"].append(np.concatenate([x[1] for x in feats]))
        parts["value"].append(np.concatenate([x[2] for x in feats]))
    c = {k: np.concatenate(v) for k, v in parts.items()}
    keep = c["time"] < (clock.end + 1) * DAY
    c = {k: v[keep] for k, v in c.items()}
    order = np.lexsort((c["feature"], c["time"], c["account"]))
    names = np.array(["session_start", *(f[0] for f in FEATURES)], dtype=object)
    return arrow_table("product_events", {
        "event_id": ids("evt_", len(order), 9), "account_id": subs.account_id[c["account"][order]],
        "occurred_at": c["time"][order], "event_type": names[c["feature"][order]], "value": c["value"][order],
    })


def tickets_table(spec: DemoSpec, clock: Clock, subs: Subscribers, weekly: np.ndarray, life: Lifecycle) -> pa.Table:
    """A few tickets per paid period: billing questions, bugs and refund requests, more when unhappy."""
    rng = stream(spec, "app-tickets")
    r = life.rows
    paid = np.flatnonzero(r["trial"] == 0)
    length = open_end(r["end"][paid], clock) - r["start"][paid]
    a = r["account"][paid]
    h = np.nan_to_num(np.nanmean(weekly, axis=1))[a]
    count = rng.poisson(length / 365 * 0.5 * np.exp(-0.8 * h))
    row = np.repeat(np.arange(len(paid)), count)
    day = r["start"][paid][row] + np.floor(rng.random(len(row)) * length[row]).astype(np.int64)
    opened = day * DAY + rng.integers(7 * 3600, 23 * 3600, len(row))
    order = np.argsort(opened, kind="stable")
    row, opened = row[order], opened[order]
    n = len(row)
    category = pick(rng, ("billing", "bug", "account", "refund_request"), n, (0.35, 0.35, 0.15, 0.15))
    resolved = opened + np.round(rng.lognormal(0, 0.7, n) * DAY).astype(np.int64)
    open_ = resolved >= (clock.end + 1) * DAY
    return arrow_table("support_tickets", {
        "ticket_id": ids("atk_", n, 7), "account_id": subs.account_id[a[row]], "opened_at": opened,
        "category": category, "resolved_at": np.where(open_, NO_DAY, resolved),
        "status": np.where(open_, "open", "closed").astype(object),
    })
