"""Shared pieces of the bank and app profiles: a hidden weekly health, recent-event windows and a daily grid.

The SaaS company keeps its own :mod:`retain.demo.health` (its random draws fix its files byte for byte).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from retain.demo._base import NO_DAY, Clock

BURN_IN = 80


@dataclass(frozen=True)
class Shocks:
    """Rare weekly events that move health for good: (probability per week, mean, sd) for bad and good news."""

    bad: tuple[float, float, float] = (0.004, -1.2, 0.4)
    good: tuple[float, float, float] = (0.003, 0.8, 0.3)


def weekly_health(rng: np.random.Generator, clock: Clock, mu: np.ndarray, first_week: np.ndarray, *,
                  phi: float = 0.97, noise: float = 0.16, shocks: Shocks = Shocks(),
                  onboarding: float = -0.4) -> np.ndarray:
    """(customers, weeks) float32: ``mu + AR(1)(phi, noise + shocks) + onboarding dip``; NaN before ``first_week``.

    ``first_week`` may be negative (a customer since before the data starts: no dip, health already settled).
    """
    n, weeks = len(mu), clock.n_weeks
    innov = rng.normal(0, noise, (n, weeks + BURN_IN))
    for p, mean, sd in (shocks.bad, shocks.good):
        innov += (rng.random((n, weeks + BURN_IN)) < p) * rng.normal(mean, sd, (n, weeks + BURN_IN))
    x = lfilter([1.0], [1.0, -phi], innov, axis=1)[:, BURN_IN:]
    since = np.arange(weeks)[None, :] - first_week[:, None]
    h = (mu[:, None] + x + onboarding * np.exp(-np.maximum(since, 0) / 5.0)).astype(np.float32)
    h[since < 0] = np.nan
    return h


def recent_matrix(n: int, clock: Clock, account: np.ndarray, day: np.ndarray, weeks: int) -> np.ndarray:
    """(customers, weeks) true during the ``weeks`` weeks after the week of each (account, day) event."""
    delta = np.zeros((n, clock.n_weeks + weeks + 2), dtype=np.int32)
    w = clock.week(day) + 1  # effective from the next week on
    np.add.at(delta, (account, w), 1)
    np.add.at(delta, (account, w + weeks), -1)
    return np.cumsum(delta, axis=1)[:, : clock.n_weeks] > 0


def recurring_days(rng: np.random.Generator, first: np.ndarray, period: int, end: int, jitter: int = 0):
    """(customer, day) for ``first + k*period`` (k >= 0) up to ``end``, with a random delay of up to ``jitter``."""
    count = np.maximum(0, (end - first) // period + 1)
    count = np.where(first > end, 0, count)
    account = np.repeat(np.arange(len(first)), count)
    k = np.arange(len(account)) - np.repeat(np.cumsum(count) - count, count)
    day = first[account] + k * period + (rng.integers(0, jitter + 1, len(account)) if jitter else 0)
    keep = day <= end
    return account[keep], day[keep]


@dataclass
class DayGrid:
    """Every (customer, day) inside a set of [start, end) intervals, as flat arrays (no loops over rows)."""

    account: np.ndarray
    day: np.ndarray
    interval: np.ndarray  # index of the interval each row comes from

    @classmethod
    def of(cls, account: np.ndarray, start: np.ndarray, end: np.ndarray) -> DayGrid:
        count = np.maximum(end - start, 0)
        interval = np.repeat(np.arange(len(start)), count)
        offset = np.arange(len(interval)) - np.repeat(np.cumsum(count) - count, count)
        return cls(account[interval], start[interval] + offset, interval)


def open_end(end: np.ndarray, clock: Clock) -> np.ndarray:
    """``end`` with "still running" (NO_DAY) and anything later read as the day after the data ends."""
    return np.where(end == NO_DAY, clock.end + 1, np.minimum(end, clock.end + 1))


EPOCH = np.datetime64("1970-01-01")


def truth_dates(days: np.ndarray) -> np.ndarray:
    """Day numbers as datetimes for the hidden truth (``NO_DAY`` becomes NaT)."""
    return np.where(days == NO_DAY, np.datetime64("NaT"), EPOCH + days.astype("timedelta64[D]")).astype(
        "datetime64[s]")


def weekly_truth(clock: Clock, account_id: np.ndarray, weekly: np.ndarray) -> pd.DataFrame:
    """The hidden weekly health, one row per account and week it was alive."""
    a, w = np.nonzero(~np.isnan(weekly))
    week_start = EPOCH + clock.week_start(np.arange(clock.n_weeks)).astype("timedelta64[D]")
    return pd.DataFrame({"account_id": account_id[a], "week_start": week_start[w], "health": weekly[a, w]})
