"""Health score → probabilities: isotonic regressions fitted on backfilled history.

``HealthCalibration().fit(history)`` takes past scores with what followed them (``churned`` within 90 days,
``renewed`` when a contract was due, ``expanded`` within 180 days) so that a score of 92 reads as
"97 % likely to renew".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from retain.errors import ModelError

# outcome label → (output column, probability rises with the score?)
OUTCOMES: dict[str, tuple[str, bool]] = {
    "churned": ("p_churn_90d", False),
    "renewed": ("p_renewal", True),
    "expanded": ("p_expansion_180d", True),
}


def binned_isotonic(raw, y, min_bin: int = 50, *, increasing: bool = True) -> IsotonicRegression:
    """Isotonic regression on bins of at least ``min_bin`` rows (mean score → observed rate), interpolated
    linearly in between: no calibration point rests on a handful of rows, so a few lucky ones cannot push a
    probability to exactly 0 or 1."""
    raw = np.asarray(raw, dtype=float)
    y = np.asarray(y, dtype=float)
    order = np.argsort(raw, kind="stable")
    bins = np.array_split(order, max(1, len(raw) // min_bin))
    x = np.array([raw[b].mean() for b in bins])
    rate = np.array([y[b].mean() for b in bins])
    weight = np.array([len(b) for b in bins], dtype=float)
    iso = IsotonicRegression(increasing=increasing, out_of_bounds="clip", y_min=0.0, y_max=1.0)
    return iso.fit(x, rate, sample_weight=weight)


class HealthCalibration:
    """One monotone map per outcome from a 0–100 score to the observed rate of that outcome."""

    def __init__(self, min_rows: int = 30) -> None:
        self.min_rows = min_rows

    def fit(self, history: pd.DataFrame, score: str = "score") -> HealthCalibration:
        """``history``: one row per account and past date with ``score`` and any of the outcome labels."""
        if score not in history.columns:
            raise ModelError(f"history has no '{score}' column", hint="pass the scores of past dates")
        self.maps_: dict[str, IsotonicRegression] = {}
        self.rows_: dict[str, int] = {}
        for label, (_, rising) in OUTCOMES.items():
            if label not in history.columns:
                continue
            rows = history[history[label].notna() & history[score].notna()]
            if len(rows) < self.min_rows:
                continue
            self.maps_[label] = binned_isotonic(rows[score], rows[label], increasing=rising)
            self.rows_[label] = len(rows)
        if not self.maps_:
            raise ModelError("too little scored history to calibrate",
                             hint=f"need at least {self.min_rows} past scores with a known outcome")
        return self

    def transform(self, scores: Sequence[float] | np.ndarray | pd.Series) -> pd.DataFrame:
        """Probabilities for each score (one column per fitted outcome)."""
        if not hasattr(self, "maps_"):
            raise ModelError("the calibration is not fitted", hint="call fit() with scored history")
        values = np.asarray(scores, dtype=float)
        out = {"score": values}
        for label, iso in self.maps_.items():
            out[OUTCOMES[label][0]] = iso.predict(np.nan_to_num(values, nan=50.0))
        return pd.DataFrame(out)

    def table(self, points: Sequence[float] = tuple(range(0, 101, 10))) -> pd.DataFrame:
        """The readable calibration table: score → probability of each outcome (and rows behind each map)."""
        return self.transform(np.asarray(points, dtype=float))
