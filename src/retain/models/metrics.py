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


def top_decile_lift(y: np.ndarray, risk: np.ndarray) -> float:
    """Outcome rate among the 10 % riskiest ÷ the overall rate (ties broken by order, stably)."""
    y = np.asarray(y, dtype=float)
    if len(y) == 0 or y.mean() == 0:
        return float("nan")
    order = np.argsort(-np.asarray(risk, dtype=float), kind="stable")
    k = max(1, int(round(len(y) * 0.1)))
    return float(y[order[:k]].mean() / y.mean())


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Deciles of predicted probability: mean predicted vs observed rate, with counts."""
    frame = pd.DataFrame({"p": np.asarray(p, dtype=float), "y": np.asarray(y, dtype=float)})
    ranks = frame["p"].rank(method="first")
    frame["decile"] = np.ceil(ranks * bins / len(frame)).astype(int).clip(1, bins)
    out = frame.groupby("decile").agg(predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size"))
    out["gap"] = (out["predicted"] - out["observed"]).abs()
    return out.reset_index()
