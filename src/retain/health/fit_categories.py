"""Points per category of a text measure (contract, payment method, billing period), learned from churn rates.

- Each category's churn rate is shrunk towards the overall rate by :data:`~retain.health.fit_bins.SHRINK`
  pseudo-observations, so a category seen a handful of times cannot claim an extreme rate.
- Categories held by fewer than ``min_share`` of the rows (at least 10 rows), and those beyond the
  :data:`MAX_CATEGORIES` largest, are pooled into one "other" group, which also scores values never seen in
  training. Without pooled rows, "other" scores like the overall rate.
- Points: 0 for the group that churns most, 100 for the one that churns least, linear in the churn rate between
  (the same scale as the numeric measures' bands); missing values (at least ``min_share``) get points of their own.

The result is a readable ``value -> points`` table (:class:`~retain.health.spec.CategoriesRule`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from retain.health.fit_bins import SHRINK
from retain.health.spec import CategoriesRule

MAX_CATEGORIES = 12
MAX_DISTINCT = 50  # more distinct values than this in the rows: an identifier or free text, not a category


@dataclass(frozen=True)
class Categorised:
    """A text measure's learned scoring: points per category, for other values and for a missing one."""

    points: dict[str, float]
    other: float
    rates: dict[str, float]
    counts: dict[str, int]
    missing: float | None = None

    def score(self, values) -> np.ndarray:
        """Points of ``values`` (NaN scores ``missing``, or stays NaN: not applicable)."""
        text = pd.Series(values, dtype="string")
        scored = text.map(self.points).astype("float64").to_numpy(dtype="float64", na_value=np.nan)
        out = np.where(np.isnan(scored), self.other, scored)
        return np.where(text.isna().to_numpy(), np.nan if self.missing is None else self.missing, out)

    @property
    def spread(self) -> float:
        return float(max(self.points.values()) - min(self.points.values()))

    def rule(self) -> CategoriesRule:
        """The scoring as a value -> points table, worst first (rounded to 0.1 point)."""
        ordered = sorted(self.points.items(), key=lambda kv: (kv[1], kv[0]))
        return CategoriesRule(points={k: round(v, 1) for k, v in ordered}, other=round(self.other, 1))


def category_points(values, y: np.ndarray, *, min_share: float = 0.03) -> Categorised | None:
    """Points per category of ``values`` (text, None = missing) learned from ``y`` (1 = churned); ``None`` when
    fewer than two groups remain or they all churn alike."""
    text = pd.Series(values, dtype="string").reset_index(drop=True)
    y = np.asarray(y, dtype="float64")
    present = ~text.isna().to_numpy()
    if present.sum() < 20:
        return None
    seen = text[present]
    counts = seen.value_counts()
    if len(counts) > MAX_DISTINCT:
        return None
    floor = max(10, int(min_share * present.sum()))
    kept = [str(v) for v, n in counts.items() if n >= floor][:MAX_CATEGORIES]
    group = seen.where(seen.isin(kept), other=OTHER).to_numpy(dtype=object)
    base = float(y[present].mean())
    frame = pd.DataFrame({"g": group, "y": y[present]}).groupby("g")["y"].agg(["sum", "size"])
    rates = (frame["sum"] + SHRINK * base) / (frame["size"] + SHRINK)
    if len(rates) < 2:
        return None
    worst, best = float(rates.max()), float(rates.min())
    if worst - best < 1e-9:
        return None

    def scale(rate: float) -> float:
        return float(np.clip(100.0 * (worst - rate) / (worst - best), 0.0, 100.0))

    points = {str(g): scale(float(r)) for g, r in rates.items() if g != OTHER}
    if len(points) < 1:
        return None
    other = scale(float(rates[OTHER])) if OTHER in rates.index else scale(base)
    y_missing = y[~present]
    missing = None
    if len(y_missing) >= max(10, min_share * len(y)):
        missing = round(scale((y_missing.sum() + SHRINK * base) / (len(y_missing) + SHRINK)), 1)
    return Categorised(points, other, {str(g): float(r) for g, r in rates.items()},
                       {str(g): int(n) for g, n in frame["size"].items()}, missing)


OTHER = "\x00other"  # the pooled group's internal name (never a real value)
