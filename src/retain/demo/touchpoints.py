"""Scheduled moments with a customer, drawn before the lifecycle because churn reacts to them.

Onboarding NPS (about six weeks in), relationship NPS (twice a year) and, for mid-market and enterprise, quarterly
business reviews (held less often when health is low) followed by an NPS. A detractor score (0-4) raises churn in
the next 90 days on top of what health alone explains (see :mod:`retain.demo.lifecycle`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retain.demo._base import Clock, sigmoid, stream
from retain.demo.accounts import Accounts
from retain.demo.health import Health
from retain.demo.spec import DemoSpec

DETRACTOR_MAX = 4
DETRACTOR_WEEKS = 12  # weeks after the answer: within about 90 days


@dataclass
class Events:
    """Rows of (account, day, kind) plus numeric payload; filtered to the customer's lifetime later."""

    account: np.ndarray
    day: np.ndarray
    kind: np.ndarray  # object: touchpoint name
    score: np.ndarray  # NPS score, -1 when none

    def take(self, mask: np.ndarray) -> Events:
        return Events(self.account[mask], self.day[mask], self.kind[mask], self.score[mask])

    @staticmethod
    def concat(parts: list[Events]) -> Events:
        return Events(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("account", "day", "kind", "score")))


def recurring(acc_created: np.ndarray, first: int, period: int, end: int, eligible: np.ndarray):
    """(account, day) for every ``first + k*period`` days after creation up to ``end``, for eligible accounts."""
    count = np.where(eligible, np.maximum(0, (end - acc_created - first) // period + 1), 0)
    account = np.repeat(np.arange(len(acc_created)), count)
    k = np.arange(len(account)) - np.repeat(np.cumsum(count) - count, count)
    return account, acc_created[account] + first + k * period


def nps_score(rng: np.random.Generator, h: np.ndarray) -> np.ndarray:
    return np.clip(np.round(7.1 + 1.6 * h + rng.normal(0, 1.4, len(h))), 0, 10).astype(np.int64)


@dataclass
class Touchpoints:
    qbr: Events  # score = 1 if held, 0 if cancelled
    nps: Events
    detractor: np.ndarray  # (accounts, weeks) bool: an NPS <= 4 in the last 90 days


def schedule_touchpoints(spec: DemoSpec, clock: Clock, acc: Accounts, health: Health) -> Touchpoints:
    rng = stream(spec, "touchpoints")
    n = len(acc)
    # QBRs for mid-market and enterprise, quarterly; cancelled more often when the account is unhappy
    q_acc, q_day = recurring(acc.created_day, 91, 91, clock.end, acc.segment >= 1)
    q_day = q_day + rng.integers(-6, 7, len(q_day))
    q_day = np.minimum(q_day, clock.end)
    held = rng.random(len(q_acc)) < sigmoid(1.6 + 1.5 * health.at(q_acc, clock.week(q_day)))
    qbr = Events(q_acc, q_day, np.full(len(q_acc), "qbr", dtype=object), held.astype(np.int64))
    parts = []
    # onboarding NPS
    o_day = acc.created_day + 42 + rng.integers(0, 10, n)
    ok = (o_day <= clock.end) & (rng.random(n) < 0.55)
    parts.append((np.flatnonzero(ok), o_day[ok], "onboarding"))
    # relationship NPS twice a year
    r_acc, r_day = recurring(acc.created_day, 150, 182, clock.end, np.ones(n, bool))
    r_day = np.minimum(r_day + rng.integers(0, 14, len(r_day)), clock.end)
    ok = rng.random(len(r_acc)) < 0.35
    parts.append((r_acc[ok], r_day[ok], "relationship"))
    # NPS after a held QBR
    ok = held & (rng.random(len(q_acc)) < 0.5)
    parts.append((q_acc[ok], np.minimum(q_day[ok] + rng.integers(1, 6, ok.sum()), clock.end), "qbr"))
    account = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[2], dtype=object) for p in parts])
    score = nps_score(rng, health.at(account, clock.week(day), lag=1))
    nps = Events(account, day, kind, score)
    detractor = detractor_matrix(n, clock, nps)
    return Touchpoints(qbr, nps, detractor)


def detractor_matrix(n: int, clock: Clock, nps: Events) -> np.ndarray:
    """(account, week) true during the 13 weeks after (and including) the week of an NPS <= 4."""
    bad = nps.score <= DETRACTOR_MAX
    delta = np.zeros((n, clock.n_weeks + DETRACTOR_WEEKS + 1), dtype=np.int32)
    # answered late in the week: effective from the next week on
    w = clock.week(nps.day[bad]) + 1
    np.add.at(delta, (nps.account[bad], w), 1)
    np.add.at(delta, (nps.account[bad], w + DETRACTOR_WEEKS), -1)
    return np.cumsum(delta, axis=1)[:, : clock.n_weeks] > 0
