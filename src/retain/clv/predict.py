"""Per-customer predictions of a fitted buy-till-you-die model: purchases, P(alive), spend, discounted CLV.

Pure functions over a fitted model and an RFM summary (pymc-marketing's ``customer_lifetime_value`` shape).
Time: the summary's unit is ``unit_days`` days (7 for weeks); horizons are in months of 365.25/12 days;
``discount_rate`` is annual and applied monthly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from retain.clv.gamma_gamma import GammaGammaFitter
from retain.errors import ModelError

DAYS_PER_MONTH = 365.25 / 12


def monthly_rate(annual_rate: float) -> float:
    """The monthly discount rate equivalent to ``annual_rate``."""
    if annual_rate <= -1:
        raise ModelError(f"discount rate {annual_rate} is not > -100%", hint="use e.g. 0.10 for 10% a year")
    return (1 + annual_rate) ** (1 / 12) - 1


def _columns(summary: pd.DataFrame, *names: str) -> list[np.ndarray]:
    missing = [n for n in names if n not in summary.columns]
    if missing:
        raise ModelError(f"the summary has no column '{missing[0]}'", hint="use the output of retain.clv.rfm_summary")
    return [summary[n].to_numpy(dtype=float) for n in names]


def expected_spend(summary: pd.DataFrame, spend_model: GammaGammaFitter | None) -> np.ndarray:
    """Expected value of a future purchase: Gamma-Gamma when fitted, else the customer's mean repeat spend."""
    x, m = _columns(summary, "frequency", "monetary_value")
    if spend_model is not None:
        return np.asarray(spend_model.conditional_expected_average_profit(x, m), dtype=float)
    population = float(np.mean(m[x > 0])) if np.any(x > 0) else 0.0
    return np.where(x > 0, m, population)


def discounted_clv(model, summary: pd.DataFrame, spend: np.ndarray, *, horizon_months: int = 36,
                   discount_rate: float = 0.10, margin: float = 1.0, unit_days: float = 7.0) -> np.ndarray:
    """Σ over months of margin × spend × expected purchases that month, discounted monthly (lifetimes' method)."""
    x, t_x, big_t = _columns(summary, "frequency", "recency", "T")
    step = DAYS_PER_MONTH / unit_days
    monthly = monthly_rate(discount_rate)
    months = np.arange(0, int(horizon_months) + 1, dtype=float)
    cumulative = np.stack([model.conditional_expected_number_of_purchases_up_to_time(step * m, x, t_x, big_t)
                           for m in months], axis=-1) if len(x) else np.zeros((0, len(months)))
    per_month = np.diff(cumulative, axis=-1)
    factors = (1 + monthly) ** -months[1:]
    return margin * spend * (per_month @ factors)


def customer_predictions(model, summary: pd.DataFrame, *, spend_model: GammaGammaFitter | None = None,
                         horizon_months: int = 36, discount_rate: float = 0.10, margin: float = 1.0,
                         unit_days: float = 7.0) -> pd.DataFrame:
    """One row per customer of ``summary``: expected_purchases (in the horizon), p_alive, expected_spend, clv."""
    x, t_x, big_t = _columns(summary, "frequency", "recency", "T")
    spend = expected_spend(summary, spend_model)
    horizon = horizon_months * DAYS_PER_MONTH / unit_days
    out = summary.drop(columns=[c for c in summary.columns if c not in summary.columns[:1]]).copy()
    out["expected_purchases"] = model.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, big_t)
    out["p_alive"] = model.conditional_probability_alive(x, t_x, big_t)
    out["expected_spend"] = spend
    out["clv"] = discounted_clv(model, summary, spend, horizon_months=horizon_months, discount_rate=discount_rate,
                                margin=margin, unit_days=unit_days)
    return out
