"""Adoption tiers: utilisation, feature breadth and depth cut into low/medium/high by thresholds learned from
retention outcomes, not set by hand.

An adoption index (0–100) is the mean percentile, against the fitting population, of licence utilisation,
feature breadth and depth (events per active user). A shallow decision tree (three leaves) fitted on the index
against 90-day retention (constrained monotone) chooses the two cut points that best separate retention.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from retain.errors import ModelError
from retain.results.model import AdoptionTier

ADOPTION_FEATURES = ("utilisation", "feature_breadth_30d", "events_per_user_30d")
TIERS = tuple(t.value for t in AdoptionTier)  # ordered low to high


class AdoptionTiers:
    """``fit(frame)`` on past features + ``churned``; ``assign(frame)`` gives each row's tier."""

    def __init__(self, min_leaf_share: float = 0.1, seed: int = 0) -> None:
        self.min_leaf_share = min_leaf_share
        self.seed = seed

    def index(self, frame: pd.DataFrame) -> np.ndarray:
        """Adoption index 0–100: mean percentile of the adoption features against the fitting population."""
        parts = []
        for col in ADOPTION_FEATURES:
            ref = self.reference_[col]
            x = frame[col].fillna(0.0).to_numpy(dtype=float)
            mid = (np.searchsorted(ref, x, side="left") + np.searchsorted(ref, x, side="right")) / 2.0
            parts.append(mid / max(len(ref), 1) * 100.0)
        return np.mean(parts, axis=0)

    def fit(self, frame: pd.DataFrame) -> AdoptionTiers:
        rows = frame[frame["churned"].notna()]
        if len(rows) < 30:
            raise ModelError("too few labelled accounts to learn adoption tiers", hint="use more history")
        self.reference_ = {c: np.sort(rows[c].fillna(0.0).to_numpy(dtype=float)) for c in ADOPTION_FEATURES}
        idx = self.index(rows).reshape(-1, 1)
        retained = 1 - rows["churned"].astype(int).to_numpy()
        tree = DecisionTreeClassifier(
            max_leaf_nodes=3, min_samples_leaf=max(1, int(len(rows) * self.min_leaf_share)), random_state=self.seed,
            monotonic_cst=[1],  # more adoption never means a lower retention
        ).fit(idx, retained)
        cuts = sorted(t for t, f in zip(tree.tree_.threshold, tree.tree_.feature, strict=True) if f >= 0)
        if len(cuts) < 2:  # the outcome does not separate three tiers: fall back to terciles of the index
            cuts = list(np.percentile(idx, [100 / 3, 200 / 3]))
        self.cuts_ = tuple(float(c) for c in cuts[:2])
        return self

    def assign(self, frame: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "cuts_"):
            raise ModelError("adoption tiers are not fitted", hint="call fit() on past features with outcomes")
        pos = np.searchsorted(np.asarray(self.cuts_), self.index(frame), side="right")
        return np.asarray(TIERS, dtype=object)[pos]

    def table(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per tier: index range, accounts, 90-day retention rate and the median of each adoption feature."""
        rows = frame[frame["churned"].notna()].copy()
        rows["tier"] = self.assign(rows)
        rows["retained"] = 1 - rows["churned"].astype(float)
        out = rows.groupby("tier").agg(
            accounts=("retained", "size"), retention_90d=("retained", "mean"),
            **{f"median_{c}": (c, "median") for c in ADOPTION_FEATURES},
        ).reindex(list(TIERS))
        lo = (0.0, *self.cuts_)
        hi = (*self.cuts_, 100.0)
        out.insert(0, "index_range", [f"{a:.0f}-{b:.0f}" for a, b in zip(lo, hi, strict=True)])
        return out.reset_index()

    def save(self, path: str | Path) -> Path:
        if not hasattr(self, "cuts_"):
            raise ModelError("adoption tiers are not fitted", hint="call fit() first")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        ref = {c: v.tolist() for c, v in self.reference_.items()}
        path.write_text(json.dumps({"features": list(ADOPTION_FEATURES), "cuts": list(self.cuts_), "reference": ref}))
        return path

    @classmethod
    def load(cls, path: str | Path) -> AdoptionTiers:
        payload = json.loads(Path(path).read_text())
        if payload.get("features") != list(ADOPTION_FEATURES):
            from retain.models.propensity import ModelMismatchError

            raise ModelMismatchError(f"{path} was fitted on other adoption features", hint="run `retain train`")
        tiers = cls()
        tiers.cuts_ = tuple(payload["cuts"])
        tiers.reference_ = {c: np.asarray(v, dtype=float) for c, v in payload["reference"].items()}
        return tiers
