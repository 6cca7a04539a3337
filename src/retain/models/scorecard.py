"""The hand-weighted scorecard the backtest compares against, behind one small interface.

``scorecard_source()`` gives ``retain.health`` (``score_accounts`` / ``component_scores``) when it is installed;
until then a built-in stand-in with the usual components (usage, trend, support, surveys, billing, relationship,
breadth) scored 0–100 by linear ranges and hand weights. Either way the backtest sees per account and date a
``score`` (0–100, higher = healthier) and the component scores behind it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retain.warehouse import Warehouse

# component → (feature, value scoring 0, value scoring 100)
BASELINE_COMPONENTS: dict[str, tuple[str, float, float]] = {
    "usage": ("utilisation", 0.1, 0.8),
    "usage_trend": ("usage_trend", 0.5, 1.1),
    "support": ("urgent_tickets_90d", 3.0, 0.0),
    "surveys": ("last_nps", 0.0, 10.0),
    "billing": ("max_days_overdue", 60.0, 0.0),
    "relationship": ("days_since_activity", 90.0, 14.0),
    "breadth": ("products_held", 0.0, 4.0),
}
BASELINE_WEIGHTS: dict[str, float] = {
    "usage": 30, "usage_trend": 15, "support": 15, "surveys": 20, "billing": 10, "relationship": 5, "breadth": 5,
}


def baseline_components(features: pd.DataFrame) -> pd.DataFrame:
    """Component scores 0–100 (NaN = not applicable) from a features frame (same index)."""
    out = {}
    for name, (col, zero, full) in BASELINE_COMPONENTS.items():
        x = features[col].astype(float)
        out[name] = ((x - zero) / (full - zero) * 100.0).clip(0.0, 100.0)
    return pd.DataFrame(out, index=features.index)


def weighted_total(components: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Weighted mean of the applicable components (missing ones re-weight, never count as 0)."""
    w = pd.Series(weights, dtype=float).reindex(components.columns).fillna(0.0)
    present = components.notna().to_numpy()
    values = np.nan_to_num(components.to_numpy(dtype=float))
    num = (values * w.to_numpy()).sum(axis=1)
    den = (present * w.to_numpy()).sum(axis=1)
    return pd.Series(np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan), index=components.index)


@dataclass(frozen=True)
class CardScores:
    """Scorecard output aligned on a features frame: ``total`` (0–100) and one column per component."""

    total: pd.Series
    components: pd.DataFrame
    hand_weights: dict[str, float]


@dataclass(frozen=True)
class ScorecardSource:
    """Where scorecard totals and component scores come from: ``name`` says which one is in use."""

    name: str
    score: Callable[[Warehouse, dt.date, pd.DataFrame], CardScores]


def _baseline(_wh: Warehouse, _day: dt.date, features: pd.DataFrame) -> CardScores:
    comps = baseline_components(features)
    return CardScores(weighted_total(comps, BASELINE_WEIGHTS), comps, dict(BASELINE_WEIGHTS))


def _health(wh: Warehouse, day: dt.date, features: pd.DataFrame) -> CardScores:
    from retain.health import score

    result = score(wh, day)
    keys = features[["account_id"]]
    totals = keys.merge(result.scores[["account_id", "total"]], on="account_id", how="left")
    long = result.components
    wide = long.pivot_table(index="account_id", columns="component", values="score", aggfunc="mean")
    comps = keys.merge(wide.reset_index(), on="account_id", how="left").drop(columns="account_id")
    comps.index = features.index
    weight_col = "nominal_weight_pct" if "nominal_weight_pct" in long.columns else "weight_pct"
    hand = long.groupby("component")[weight_col].mean().to_dict()
    return CardScores(pd.Series(totals["total"].to_numpy(dtype=float), index=features.index), comps, hand)


def scorecard_source(prefer_health: bool = True) -> ScorecardSource:
    """``retain.health``'s scorecard (the shipped default, critical caps included), or with ``prefer_health=False``
    the built-in stand-in."""
    if prefer_health:
        return ScorecardSource("retain.health default scorecard", _health)
    return ScorecardSource("built-in stand-in scorecard", _baseline)
