"""How well a risk score ranks and how true its probabilities are: AUC, top-decile lift, Brier, reliability."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def auc(y: np.ndarray, risk: np.ndarray) -> float:
    y = np.asarray(y, dtype=int)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, risk))


def top_decile_lift(y: np.ndarray, risk: np.ndarray, share: float = 0.1) -> float:
    """Outcome rate among the ``share`` riskiest ÷ the overall rate, ties counted fairly: rows tied with the
    cut-off score enter in proportion (the expected rate over every order of the tied rows), so row order never
    changes the result."""
    y = np.asarray(y, dtype=float)
    risk = np.asarray(risk, dtype=float)
    if len(y) == 0 or y.mean() == 0:
        return float("nan")
    k = max(1, int(round(len(y) * share)))
    cut = np.sort(risk)[::-1][k - 1]
    above = risk > cut
    tied = risk == cut
    hits = y[above].sum() + (k - above.sum()) * y[tied].mean()
    return float(hits / k / y.mean())


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Deciles of predicted probability: mean predicted vs observed rate, with counts. Tied probabilities share
    a decile (by their average rank), so row order never moves a row between deciles; a large tie can leave a
    decile empty (it is then absent)."""
    frame = pd.DataFrame({"p": np.asarray(p, dtype=float), "y": np.asarray(y, dtype=float)})
    ranks = frame["p"].rank(method="average")
    frame["decile"] = np.ceil(ranks * bins / len(frame)).astype(int).clip(1, bins)
    out = frame.groupby("decile").agg(predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size"))
    out["gap"] = (out["predicted"] - out["observed"]).abs()
    return out.reset_index()


def bootstrap(stat, *arrays: np.ndarray, groups: np.ndarray | None = None, reps: int = 300,
              seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """``stat(*arrays)`` with a percentile bootstrap interval, resampling whole ``groups`` (accounts: an account
    seen at several dates is one draw) or rows. Returns (estimate, low, high)."""
    arrays = tuple(np.asarray(a) for a in arrays)
    keys = np.arange(len(arrays[0])) if groups is None else np.asarray(groups)
    uniq, inverse = np.unique(keys, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(uniq)))
    sizes = np.bincount(inverse, minlength=len(uniq))
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(reps):
        picked = rng.integers(0, len(uniq), len(uniq))
        # the rows of each picked group: its run in ``order`` (starts..starts+size)
        offsets = np.repeat(starts[picked] - np.cumsum(sizes[picked]) + sizes[picked], sizes[picked])
        rows = order[np.arange(sizes[picked].sum()) + offsets]
        draws.append(stat(*(a[rows] for a in arrays)))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.nanpercentile(draws, [tail, 100.0 - tail])
    return float(stat(*arrays)), float(low), float(high)
