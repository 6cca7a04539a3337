"""The hidden weekly health of every account: the cause behind usage, tickets, surveys, payments and churn.

Per account ``h[t] = mu + x[t] + onboarding(t)`` where ``x`` is an AR(1) process (``phi`` = 0.97, weekly noise
0.16) driven also by rare shocks (a re-organisation, an outage, a champion who leaves: negative; a new sponsor:
positive). ``mu`` depends on the segment and on referral (referred customers start healthier). The first weeks
after signing are rocky (onboarding dip). Nothing here is loaded into the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from retain.demo._base import NO_DAY, Clock, stream
from retain.demo.accounts import Accounts
from retain.demo.spec import SEGMENT_HEALTH, DemoSpec

PHI = 0.97
NOISE = 0.16
BURN_IN = 80


@dataclass
class Health:
    weekly: np.ndarray  # (accounts, weeks) float32; NaN before the account exists
    mu: np.ndarray  # long-run level per account
    champion_leave_day: np.ndarray  # day the champion left, NO_DAY if never

    def at(self, account: np.ndarray, week: np.ndarray, lag: int = 0) -> np.ndarray:
        """Health of ``account`` in ``week - lag`` (clipped to the account's first week)."""
        w = np.maximum(np.asarray(week) - lag, 0)
        value = self.weekly[account, w]
        first = self.weekly[account, np.asarray(week)]
        return np.where(np.isnan(value), first, value)


def simulate_health(spec: DemoSpec, clock: Clock, acc: Accounts) -> Health:
    rng = stream(spec, "health")
    n, weeks = len(acc), clock.n_weeks
    mu = np.asarray(SEGMENT_HEALTH)[acc.segment] + 0.3 * (acc.channel == "referral") + rng.normal(0, 0.55, n)
    innov = rng.normal(0, NOISE, (n, weeks + BURN_IN))
    shock = (rng.random((n, weeks + BURN_IN)) < 0.004) * rng.normal(-1.3, 0.4, (n, weeks + BURN_IN))
    shock += (rng.random((n, weeks + BURN_IN)) < 0.003) * rng.normal(0.8, 0.3, (n, weeks + BURN_IN))
    innov += shock
    # a third of accounts lose their champion at some point: a lasting blow to health
    first_week = clock.week(acc.created_day)
    leave_week = first_week + 8 + np.floor(rng.random(n) * (weeks - first_week)).astype(np.int64)
    leaves = (rng.random(n) < 0.33) & (leave_week < weeks)
    innov[np.flatnonzero(leaves), leave_week[leaves] + BURN_IN] -= 1.2
    x = lfilter([1.0], [1.0, -PHI], innov, axis=1)[:, BURN_IN:]
    since = np.arange(weeks)[None, :] - first_week[:, None]
    onboarding = -0.5 * np.exp(-np.maximum(since, 0) / 5.0)
    h = (mu[:, None] + x + onboarding).astype(np.float32)
    h[since < 0] = np.nan
    leave_day = np.where(leaves, clock.week_start(np.minimum(leave_week, weeks - 1)) + rng.integers(0, 5, n), NO_DAY)
    leave_day = np.where(leave_day > clock.end, NO_DAY, leave_day)
    return Health(h, mu, leave_day)
