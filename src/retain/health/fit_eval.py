"""Out-of-sample validation of a fitted scorecard beside a plain regularised logistic regression on the same rows.

- Several observation dates: *rolling origin*. Each of the last dates (up to 3) is a test date; the scorecard and the
  baseline are fitted on every row dated at least one horizon earlier (so no training label looks past the test
  date) and measured on the test date's rows.
- One date (or too little history before the later dates): grouped 5-fold by account (an account's rows are never
  both trained on and tested on).

AUCs are pooled over the test rows; intervals are 95 % bootstrap intervals resampling accounts (200 draws), with
the difference scorecard - logistic on the same draws.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from retain.errors import ModelError

Recipe = Callable[[pd.DataFrame], Callable[[pd.DataFrame], np.ndarray]]
MAX_TEST_DATES = 3
MIN_TRAIN_CHURNED = 5
BOOTSTRAP = 200
NAN2 = (float("nan"), float("nan"))


@dataclass(frozen=True)
class Validation:
    design: str
    rows: int
    positives: int
    auc: float
    auc_ci: tuple[float, float]
    auc_logistic: float
    auc_logistic_ci: tuple[float, float]
    difference_ci: tuple[float, float]

    @property
    def gap(self) -> float:
        """Logistic AUC minus scorecard AUC (positive: the scorecard ranks worse)."""
        return self.auc_logistic - self.auc


def _transform(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Raw values, log1p for skewed non-negative columns (counts, amounts)."""
    cols = []
    for k in keys:
        x = frame[k].to_numpy(dtype="float64", na_value=np.nan)
        ok = x[~np.isnan(x)]
        if len(ok) and ok.min() >= 0 and pd.Series(ok).skew() > 2:
            x = np.log1p(x)
        cols.append(x)
    return np.column_stack(cols) if cols else np.zeros((len(frame), 0))


def _dummies(frame: pd.DataFrame, levels: dict[str, list[str]]) -> np.ndarray:
    """One 0/1 column per (text column, level seen in training); missing and unseen values are all zeros."""
    cols = [(frame[k].astype("string") == level).fillna(False).to_numpy(dtype="float64")
            for k, values in levels.items() for level in values]
    return np.column_stack(cols) if cols else np.zeros((len(frame), 0))


def logistic_baseline(train: pd.DataFrame, keys: list[str],
                      text_keys: list[str] = ()) -> Callable[[pd.DataFrame], np.ndarray]:
    """A plain L2 logistic regression on standardised measure values (median-imputed, with missing flags) and
    one-hot text measures (levels with at least 10 training rows)."""
    model = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler(),
                          LogisticRegression(C=1.0, max_iter=2000))
    levels = {}
    for k in text_keys:
        counts = train[k].astype("string").value_counts()
        levels[k] = [str(v) for v, n in counts.items() if n >= 10][:30]

    def x(frame: pd.DataFrame) -> np.ndarray:
        return np.column_stack([_transform(frame, keys), _dummies(frame, levels)])

    model.fit(x(train), train["churned"].to_numpy(dtype=int))
    return lambda test: model.predict_proba(x(test))[:, 1]


def _auc(y: np.ndarray, risk: np.ndarray) -> float:
    """ROC AUC from ranks (ties count half), missing risks at the mean risk."""
    y = np.asarray(y)
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    risk = np.where(np.isnan(risk), np.nanmean(risk), risk)
    ranks = rankdata(risk)
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _splits(rows: pd.DataFrame, horizon_days: int) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    dates = sorted(set(rows["as_of"]))
    as_of = rows["as_of"].to_numpy()
    splits = []
    for test_day in dates[-MAX_TEST_DATES:] if len(dates) > 1 else []:
        cutoff = test_day - dt.timedelta(days=horizon_days)
        train = np.flatnonzero(as_of <= cutoff)
        if rows["churned"].to_numpy()[train].sum() >= MIN_TRAIN_CHURNED:
            splits.append((train, np.flatnonzero(as_of == test_day)))
    if splits:
        return (f"rolling origin: {len(splits)} test date(s), each trained on the dates at least "
                f"{horizon_days} days earlier"), splits
    groups = rows["account_id"].to_numpy()
    k = int(min(5, len(set(groups))))
    folds = list(GroupKFold(n_splits=k).split(rows, groups=groups))
    return f"grouped {k}-fold by account", folds


def validate_recipe(rows: pd.DataFrame, recipe: Recipe, horizon_days: int, baseline_keys: list[str],
                    seed: int = 0, text_keys: list[str] = ()) -> Validation:
    """Out-of-sample AUC of the scorecard (``recipe``) and of the logistic baseline on the same rows."""
    design, splits = _splits(rows, horizon_days)
    tests, card_risk, lr_risk = [], [], []
    for train_idx, test_idx in splits:
        train, test = rows.iloc[train_idx], rows.iloc[test_idx]
        if train["churned"].nunique() < 2:
            continue
        try:
            total = recipe(train)(test)
        except ModelError:  # a fold whose training rows support no scorecard: uninformative, not an error
            total = np.full(len(test), np.nan)
        tests.append(test_idx)
        card_risk.append(-total)
        lr_risk.append(logistic_baseline(train, baseline_keys, text_keys)(test))
    if not tests:
        return Validation(design, 0, 0, float("nan"), NAN2, float("nan"), NAN2, NAN2)
    idx = np.concatenate(tests)
    y = rows["churned"].to_numpy(dtype=int)[idx]
    card, lr = np.concatenate(card_risk), np.concatenate(lr_risk)
    accounts = rows["account_id"].to_numpy()[idx]
    ci_card, ci_lr, ci_diff = _bootstrap(y, card, lr, accounts, seed)
    return Validation(design, len(idx), int(y.sum()), _auc(y, card), ci_card, _auc(y, lr), ci_lr, ci_diff)


def _bootstrap(y: np.ndarray, a: np.ndarray, b: np.ndarray, accounts: np.ndarray, seed: int):
    """95 % intervals of AUC(a), AUC(b) and AUC(a) - AUC(b), resampling accounts with replacement."""
    rng = np.random.default_rng(seed)
    codes, uniq = pd.factorize(accounts)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(uniq)))
    ends = np.append(starts[1:], len(codes))
    stats = []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, len(uniq), len(uniq))
        idx = np.concatenate([order[starts[g]:ends[g]] for g in pick])
        s_a, s_b = _auc(y[idx], a[idx]), _auc(y[idx], b[idx])
        stats.append((s_a, s_b, s_a - s_b))
    arr = np.asarray(stats)

    def ci(col: int) -> tuple[float, float]:
        vals = arr[:, col][~np.isnan(arr[:, col])]
        return (float(np.quantile(vals, 0.025)), float(np.quantile(vals, 0.975))) if len(vals) else NAN2

    return ci(0), ci(1), ci(2)
