"""Seeded simulators of the models, for parameter-recovery tests, benchmarks and demos. All vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def beta_geo_summary(n: int, r: float, alpha: float, a: float, b: float, T, seed=0) -> pd.DataFrame:
    """(frequency, recency, T) of ``n`` BG/NBD customers observed for ``T`` (scalar or array) time units."""
    rng = _rng(seed)
    big_t = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    dies_after = rng.geometric(p)  # repeat purchase after which the customer drops out
    arrivals = rng.poisson(lam * big_t)
    x = np.minimum(arrivals, dies_after)
    t_x = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    return pd.DataFrame({"frequency": x.astype(float), "recency": t_x, "T": big_t})


def pareto_nbd_summary(n: int, r: float, alpha: float, s: float, beta: float, T, seed=0) -> pd.DataFrame:
    """(frequency, recency, T) of ``n`` Pareto/NBD customers observed for ``T`` time units."""
    rng = _rng(seed)
    big_t = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1 / alpha, n)
    mu = rng.gamma(s, 1 / beta, n)
    alive_for = np.minimum(rng.exponential(1 / mu), big_t)
    x = rng.poisson(lam * alive_for)
    t_x = np.where(x > 0, alive_for * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    return pd.DataFrame({"frequency": x.astype(float), "recency": t_x, "T": big_t})


def gamma_gamma_spend(frequency, p: float, q: float, gamma: float, seed=0) -> np.ndarray:
    """Mean spend of ``frequency`` transactions per customer under Gamma-Gamma (nan where frequency is 0)."""
    rng = _rng(seed)
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1 / gamma, x.size)
    total = rng.gamma(np.maximum(p * x, 1e-12), 1 / nu)
    return np.where(x > 0, total / np.maximum(x, 1), np.nan)


def sbg_lifetimes(n: int, alpha: float, beta: float, seed=0) -> np.ndarray:
    """Number of periods each of ``n`` customers stays (1 = leaves at the first renewal)."""
    rng = _rng(seed)
    return rng.geometric(rng.beta(alpha, beta, n))


def sbg_survivors(n: int, alpha: float, beta: float, periods: int, seed=0) -> np.ndarray:
    """Survivor counts n_0..n_periods of a simulated cohort of ``n``."""
    life = sbg_lifetimes(n, alpha, beta, seed)
    return np.array([(life > t).sum() for t in range(periods + 1)], dtype=float)


def transactions(n_customers: int, *, r: float = 0.25, alpha: float = 4.0, a: float = 0.8, b: float = 2.4,
                 p: float = 6.0, q: float = 3.8, gamma: float = 15.0, start: str = "2024-01-01",
                 acquisition_days: int = 365, observation_days: int = 730, seed=0) -> pd.DataFrame:
    """A transaction log (customer_id, occurred_at, amount) of BG/NBD buyers with Gamma-Gamma spend.

    Rates are per week. Customers' first purchases are spread over ``acquisition_days``; the log runs for
    ``observation_days`` from ``start``. Repeat purchase times are uniform before the last one, as the model implies.
    """
    rng = _rng(seed)
    first = rng.uniform(0, acquisition_days, n_customers)
    window_weeks = (observation_days - first) / 7
    summary = beta_geo_summary(n_customers, r, alpha, a, b, window_weeks, rng)
    x = summary["frequency"].to_numpy().astype(np.int64)
    t_x = summary["recency"].to_numpy() * 7
    counts = x + 1
    customer = np.repeat(np.arange(n_customers, dtype=np.int64), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    position = np.arange(customer.size) - starts  # 0 = first purchase, x = last
    last = position == np.repeat(x, counts)
    offset = np.where(position == 0, 0.0, np.where(last, np.repeat(t_x, counts),
                                                    rng.uniform(0, 1, customer.size) * np.repeat(t_x, counts)))
    nu = rng.gamma(q, 1 / gamma, n_customers)
    amount = np.round(rng.gamma(p, 1 / np.repeat(nu, counts)), 2)
    seconds = np.round((np.repeat(first, counts) + offset) * 86400).astype("int64")
    occurred = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(seconds, unit="s")
    return pd.DataFrame({"customer_id": customer, "occurred_at": occurred, "amount": amount})
