"""The models in the race, simplest first: a regularised logistic regression, the scorecard's health total, a
scorecard fitted on each fold, LightGBM.

Each candidate is fitted on the training rows of a fold and returns an uncalibrated probability of the outcome
per row (``raw_score``) and, for reasons, per-feature contributions in log-odds (``contributions``):

* :class:`LogisticCandidate` follows *Fighting Churn With Data* (Gold, 2020): numeric features with missing values
  filled by the training median plus a 0/1 "missing" indicator, categoricals one-hot (the most frequent levels),
  every column standardised, an L2-regularised logistic regression (``C`` fixed at a sane value: with standardised
  columns it barely matters above a few hundred rows, and an inner search would multiply the cost at 100k
  accounts). A contribution is coefficient x standardised value, summed over a feature's columns.
* :class:`ScorecardCandidate` is the health total (0–100, higher = healthier) read as a score: a decreasing
  logistic map fitted on the training rows turns it into a probability. It has no per-feature contributions.
* :class:`FittedScorecardCandidate` is the recipe of ``retain health fit`` (:mod:`retain.health.fit_bins`) fitted on
  the fold's training rows only: per numeric feature monotone points per quantile band (0 for the band that churns
  most, 100 for the one that churns least), per categorical points per value, non-negative weights from a ridge
  logistic regression on the points, the weighted total 0-100 (not-applicable features re-weight the others) read
  through a decreasing logistic map. So the backtest shows how a fitted, explainable scorecard ranks against the
  model on the same rows; its contributions are ``-weight x (points - training mean) / 100`` in log-odds.
* :class:`LightGBMCandidate` is gradient boosting (seeded, deterministic, 2 threads); contributions are LightGBM's
  own SHAP values (``pred_contrib``).

A candidate's fitted state is plain numbers (``to_dict`` / ``from_dict``), so the chosen one is saved as JSON.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import ClassVar

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see propensity.py

import lightgbm as lgb  # noqa: E402
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from retain.errors import ModelError
from retain.models.calibration import Link, LogisticCalibration

HEALTH_COLUMN = "health_total"  # a frame column holding the scorecard's total at each as_of, when present
MAX_LEVELS = 20  # one-hot columns per categorical (the most frequent levels; the rest share "other")
OTHER = "(other)"


class Kind(StrEnum):
    """The candidates, in order of simplicity (the order ties are broken in)."""

    LOGISTIC = "logistic regression"
    SCORECARD = "scorecard"
    FITTED_SCORECARD = "fitted scorecard"
    LIGHTGBM = "LightGBM"

    @property
    def simplicity(self) -> int:
        return list(Kind).index(self)

    @property
    def choosable(self) -> bool:
        """Whether validation may choose it as the prediction model. The fitted scorecard is in the race to show
        how the health score's recipe ranks on the same rows (issue 13), not to become the churn model."""
        return self is not Kind.FITTED_SCORECARD


def _levels(values: pd.Series) -> list[str]:
    counts = values.astype(str).value_counts(sort=True)
    return sorted(counts.index[:MAX_LEVELS].tolist())


def _category(values: pd.Series, levels: list[str]) -> np.ndarray:
    text = values.astype(str).to_numpy()
    return np.where(np.isin(text, levels), text, OTHER)


class Design:
    """Training-row statistics that turn a frame into the logistic regression's standardised matrix."""

    def __init__(self, features: tuple[str, ...], categorical: tuple[str, ...] = ()) -> None:
        self.features, self.categorical = tuple(features), tuple(categorical)

    def fit(self, frame: pd.DataFrame) -> Design:
        x = frame[list(self.features)].astype("float64")
        self.medians_ = x.median().fillna(0.0).to_dict()
        self.flagged_ = [c for c in self.features if x[c].isna().any()]
        self.levels_ = {c: _levels(frame[c]) for c in self.categorical}
        raw = self._raw(frame)
        self.mean_ = raw.mean(axis=0)
        std = raw.std(axis=0)
        self.std_ = np.where(std > 0, std, 1.0)
        return self

    @property
    def columns(self) -> list[tuple[str, str]]:
        """(design column, the feature it belongs to)."""
        cols = [(c, c) for c in self.features] + [(f"{c} missing", c) for c in self.flagged_]
        for c in self.categorical:
            cols += [(f"{c}={lv}", c) for lv in self.levels_[c]]
        return cols

    def _raw(self, frame: pd.DataFrame) -> np.ndarray:
        x = frame[list(self.features)].astype("float64")
        parts = [x.fillna(self.medians_).to_numpy(dtype=np.float32)]
        if self.flagged_:
            parts.append(x[self.flagged_].isna().to_numpy(dtype=np.float32))
        for c in self.categorical:
            cats = _category(frame[c], self.levels_[c])
            parts.append((cats[:, None] == np.array(self.levels_[c])[None, :]).astype(np.float32))
        return np.hstack(parts) if len(parts) > 1 else parts[0]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return ((self._raw(frame) - self.mean_) / self.std_).astype(np.float32)

    def to_dict(self) -> dict:
        return {"features": list(self.features), "categorical": list(self.categorical), "medians": self.medians_,
                "flagged": self.flagged_, "levels": self.levels_, "mean": self.mean_.tolist(),
                "std": self.std_.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> Design:
        d = cls(tuple(data["features"]), tuple(data["categorical"]))
        d.medians_, d.flagged_, d.levels_ = data["medians"], data["flagged"], data["levels"]
        d.mean_, d.std_ = np.asarray(data["mean"], dtype=float), np.asarray(data["std"], dtype=float)
        return d


class Candidate:
    """A model in the race; subclasses set ``kind``."""

    kind: ClassVar[Kind]

    def __init__(self, features: tuple[str, ...], categorical: tuple[str, ...] = (), *, seed: int = 0) -> None:
        self.features, self.categorical, self.seed = tuple(features), tuple(categorical), seed

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> Candidate:
        raise NotImplementedError

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame | None:
        """Per-feature log-odds contributions (one column per feature), or None when the model has none."""
        return None

    def to_dict(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: dict) -> Candidate:
        raise NotImplementedError


def _check_both(y: np.ndarray, kind: Kind) -> None:
    if len(np.unique(y)) < 2:
        raise ModelError(f"the {kind} training rows hold only one outcome", hint="use more history")


class LogisticCandidate(Candidate):
    kind = Kind.LOGISTIC

    def __init__(self, features, categorical=(), *, seed: int = 0, c: float = 0.5) -> None:
        super().__init__(features, categorical, seed=seed)
        self.c = c

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> LogisticCandidate:
        _check_both(y, self.kind)
        self.design_ = Design(self.features, self.categorical).fit(frame)
        # Newton on the exact Hessian: many rows, ~100 columns; converged to the optimum in ~10 steps, so the fit
        # does not depend on the row order or the last bits of a feature (L-BFGS stopped early moved by 1e-2)
        lr = LogisticRegression(C=self.c, solver="newton-cholesky", max_iter=100, tol=1e-8)
        lr.fit(self.design_.transform(frame), np.asarray(y, dtype=int))
        self.coef_, self.intercept_ = lr.coef_[0].astype(float), float(lr.intercept_[0])
        return self

    def _logit(self, frame: pd.DataFrame) -> np.ndarray:
        return self.design_.transform(frame).astype(float) @ self.coef_ + self.intercept_

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self._logit(frame)))

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        parts = self.design_.transform(frame).astype(float) * self.coef_
        owners = [owner for _, owner in self.design_.columns]
        by_col = pd.DataFrame(parts, columns=range(len(owners)), index=frame.index)
        summed = by_col.T.groupby(np.array(owners)).sum().T
        return summed.reindex(columns=list(self.features + self.categorical), fill_value=0.0)

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "c": self.c, "design": self.design_.to_dict(), "coef": self.coef_.tolist(),
                "intercept": self.intercept_}

    @classmethod
    def from_dict(cls, data: dict) -> LogisticCandidate:
        design = Design.from_dict(data["design"])
        model = cls(design.features, design.categorical, c=data["c"])
        model.design_, model.coef_ = design, np.asarray(data["coef"], dtype=float)
        model.intercept_ = float(data["intercept"])
        return model


class ScorecardCandidate(Candidate):
    """The health total as a score (``HEALTH_COLUMN``): lower health, higher risk."""

    kind = Kind.SCORECARD

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> ScorecardCandidate:
        _check_both(y, self.kind)
        total = np.nan_to_num(frame[HEALTH_COLUMN].to_numpy(dtype=float), nan=50.0)
        self.map_ = LogisticCalibration(Link.LINEAR, increasing=False).fit(total, y)
        return self

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        return self.map_.predict(np.nan_to_num(frame[HEALTH_COLUMN].to_numpy(dtype=float), nan=50.0))

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "map": self.map_.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> ScorecardCandidate:
        model = cls(())
        model.map_ = LogisticCalibration.from_dict(data["map"])
        return model


class FittedScorecardCandidate(Candidate):
    """A scorecard learned from the training rows by ``retain health fit``'s recipe (module docs)."""

    kind = Kind.FITTED_SCORECARD

    def _points(self, frame: pd.DataFrame) -> np.ndarray:
        cols = [self.scorers_[f].score(frame[f].to_numpy(dtype="float64", na_value=np.nan)
                                       if f in self.features else frame[f].astype("string").to_numpy())
                for f in self.kept_]
        return np.column_stack(cols) if cols else np.full((len(frame), 0), np.nan)

    def _total(self, points: np.ndarray) -> np.ndarray:
        """The weighted mean of the points (0-100), a feature without points scoring its training average: the
        same imputation the weights were fitted with, so the total ranks as the fitted regression does."""
        w = np.asarray(self.weights_, dtype="float64")
        filled = np.where(np.isnan(points), np.asarray(self.means_, dtype="float64")[None, :], points)
        return filled @ w / w.sum()

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> FittedScorecardCandidate:
        from retain.health.fit_bins import monotone_bins, nonnegative_logistic
        from retain.health.fit_categories import category_points

        _check_both(y, self.kind)
        y = np.asarray(y, dtype="float64")
        scorers = {f: monotone_bins(frame[f].to_numpy(dtype="float64", na_value=np.nan), y) for f in self.features}
        scorers |= {c: category_points(frame[c].astype("string").to_numpy(), y) for c in self.categorical}
        self.scorers_ = {k: v for k, v in scorers.items() if v is not None}
        self.kept_ = list(self.scorers_)
        if not self.kept_:
            raise ModelError("no feature separates the outcomes in these training rows", hint="use more history")
        points = self._points(frame)
        # a few hundred matrix-vector products: a second BLAS thread only adds its hand-over (2x slower)
        with threadpool_limits(limits=1, user_api="blas"):
            w, _ = nonnegative_logistic(points, y)
        keep = w > 1e-6
        if not keep.any():
            raise ModelError("the fitted scorecard gave every feature a zero weight", hint="use more history")
        self.kept_ = [k for k, on in zip(self.kept_, keep, strict=True) if on]
        self.scorers_ = {k: self.scorers_[k] for k in self.kept_}
        self.weights_ = [float(v) for v in w[keep]]
        points = points[:, keep]
        with np.errstate(all="ignore"):
            self.means_ = [float(m) for m in np.nan_to_num(np.nanmean(points, axis=0), nan=50.0)]
        self.map_ = LogisticCalibration(Link.LINEAR, increasing=False).fit(self._total(points), y)
        return self

    def total(self, frame: pd.DataFrame) -> np.ndarray:
        """The scorecard's total 0-100 (higher = healthier) of each row."""
        return self._total(self._points(frame))

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        return self.map_.predict(self.total(frame))

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        points = self._points(frame)
        filled = np.where(np.isnan(points), np.asarray(self.means_)[None, :], points)
        parts = -(filled - np.asarray(self.means_)[None, :]) / 100.0 * np.asarray(self.weights_)[None, :]
        out = pd.DataFrame(parts, columns=self.kept_, index=frame.index)
        return out.reindex(columns=list(self.features + self.categorical), fill_value=0.0)

    def to_dict(self) -> dict:
        from retain.health.fit_categories import Categorised

        scorers = {}
        for k, sc in self.scorers_.items():
            if isinstance(sc, Categorised):
                scorers[k] = {"points": sc.points, "other": sc.other, "missing": sc.missing}
            else:
                scorers[k] = {"edges": list(sc.edges), "points": list(sc.points), "direction": sc.direction.value,
                              "missing": sc.missing}
        return {"kind": self.kind.value, "features": list(self.features), "categorical": list(self.categorical),
                "kept": self.kept_, "weights": self.weights_, "means": self.means_, "scorers": scorers,
                "map": self.map_.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> FittedScorecardCandidate:
        from retain.health.fit_bins import Binned
        from retain.health.fit_categories import Categorised
        from retain.health.spec import Direction

        model = cls(tuple(data["features"]), tuple(data["categorical"]))
        model.kept_, model.weights_, model.means_ = list(data["kept"]), list(data["weights"]), list(data["means"])
        model.scorers_ = {}
        for k, sc in data["scorers"].items():
            if "edges" in sc:
                model.scorers_[k] = Binned(tuple(sc["edges"]), tuple(sc["points"]), Direction(sc["direction"]), (),
                                           (), sc["missing"])
            else:
                model.scorers_[k] = Categorised(dict(sc["points"]), sc["other"], {}, {}, sc["missing"])
        model.map_ = LogisticCalibration.from_dict(data["map"])
        return model


LGB_PARAMS = {"objective": "binary", "num_leaves": 15, "learning_rate": 0.05, "min_data_in_leaf": 40,
              "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8, "lambda_l2": 1.0,
              "num_threads": 1, "deterministic": True, "force_row_wise": True, "verbose": -1}
# one thread: LightGBM's threads meet at a barrier several times per round, and with passive waiting (which keeps
# a shared machine usable) each meeting costs a wake-up; on the demo's churn frame a 2-thread fit took 1.4 s, a
# 1-thread fit 0.9 s. Fits stay one after another: running them side by side in threads crashed a `retain run` once
# (SIGSEGV in the sales section), cause not found


class LightGBMCandidate(Candidate):
    kind = Kind.LIGHTGBM

    def __init__(self, features, categorical=(), *, seed: int = 0, rounds: int = 200) -> None:
        super().__init__(features, categorical, seed=seed)
        self.rounds = rounds

    def _matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        x = frame[list(self.features)].astype("float32")
        for c in self.categorical:
            x[c] = pd.Categorical(_category(frame[c], self.levels_[c]), categories=[*self.levels_[c], OTHER])
        return x

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> LightGBMCandidate:
        _check_both(y, self.kind)
        self.levels_ = {c: _levels(frame[c]) for c in self.categorical}
        params = {**LGB_PARAMS, "seed": self.seed, "min_data_in_leaf": int(min(40, max(5, len(frame) // 50)))}
        data = lgb.Dataset(self._matrix(frame), label=np.asarray(y, dtype=int),
                           categorical_feature=list(self.categorical) or "auto", free_raw_data=True)
        self.booster_ = lgb.train(params, data, num_boost_round=self.rounds)
        return self

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        return self.booster_.predict(self._matrix(frame), num_threads=LGB_PARAMS["num_threads"])

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        contrib = self.booster_.predict(self._matrix(frame), pred_contrib=True,
                                        num_threads=LGB_PARAMS["num_threads"])
        return pd.DataFrame(contrib[:, :-1], columns=list(self.features + self.categorical), index=frame.index)

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "features": list(self.features), "categorical": list(self.categorical),
                "levels": self.levels_, "rounds": self.rounds, "booster": self.booster_.model_to_string()}

    @classmethod
    def from_dict(cls, data: dict) -> LightGBMCandidate:
        model = cls(tuple(data["features"]), tuple(data["categorical"]), rounds=data["rounds"])
        model.levels_ = data["levels"]
        model.booster_ = lgb.Booster(model_str=data["booster"])
        return model


CLASSES: dict[Kind, type[Candidate]] = {Kind.LOGISTIC: LogisticCandidate, Kind.SCORECARD: ScorecardCandidate,
                                        Kind.FITTED_SCORECARD: FittedScorecardCandidate,
                                        Kind.LIGHTGBM: LightGBMCandidate}


def make(kind: Kind, features: tuple[str, ...], categorical: tuple[str, ...] = (), *, seed: int = 0) -> Candidate:
    return CLASSES[kind](features, categorical, seed=seed)


def from_dict(data: dict) -> Candidate:
    return CLASSES[Kind(data["kind"])].from_dict(data)
