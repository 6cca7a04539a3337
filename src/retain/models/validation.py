"""Out-of-sample validation that fits the data at hand, and the requirements stated before any fitting.

Rules:

* **Several observation dates: rolling origin.** Test dates are the later half of the labelled dates that have
  earlier training data (at most :data:`MAX_TEST_DATES`, the latest). A test date ``t`` is scored by a model trained
  on *every* labelled row whose ``as_of <= t - horizon``: a gap of one horizon, so no training label window
  (``as_of .. as_of + horizon``) reaches the test date. Consecutive test dates may share one fit (at most
  ``max_folds`` fits); the fit of a block is trained on rows up to the block's *first* date minus the horizon, so the
  gap only grows.
* **One observation date (a snapshot), or a history too short for a gap of one horizon: grouped k-fold by
  account** (stratified by outcome, seeded), so an account is never both trained on and scored.
* **Requirements** (:func:`requirements`): at least :data:`MIN_POSITIVE_ACCOUNTS` accounts with the outcome and as
  many without, among rows whose outcome is known. ``retain doctor`` reads the same verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from retain.models.frame import ModelFrame

MIN_POSITIVE_ACCOUNTS = 20
MIN_NEGATIVE_ACCOUNTS = 20
MIN_TRAIN_POSITIVES = 10  # a rolling-origin fit needs at least this many positive rows before its gap
MAX_TEST_DATES = 12
K_FOLDS = 5


class Scheme(StrEnum):
    """How out-of-sample predictions are made."""

    ROLLING_ORIGIN = "rolling origin"
    GROUPED_KFOLD = "grouped k-fold by account"


@dataclass(frozen=True)
class Fold:
    """One fit: row positions (in the labelled frame) to train on and to score."""

    train: np.ndarray
    test: np.ndarray
    test_dates: tuple[dt.date, ...] = ()
    train_until: dt.date | None = None  # latest as_of trained on (rolling origin)


@dataclass(frozen=True)
class Plan:
    scheme: Scheme
    folds: tuple[Fold, ...]
    note: str

    @property
    def test_rows(self) -> np.ndarray:
        return np.sort(np.concatenate([f.test for f in self.folds]))


@dataclass(frozen=True)
class Verdict:
    """Whether a frame can be validated and modelled, and the one-line reason when not."""

    ok: bool
    message: str
    rows: int
    accounts: int
    positives: int
    positive_accounts: int
    negative_accounts: int
    dates: int
    scheme: Scheme | None = None


def _days(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]")


def requirements(mf: ModelFrame, *, min_positive_accounts: int = MIN_POSITIVE_ACCOUNTS,
                 min_negative_accounts: int = MIN_NEGATIVE_ACCOUNTS) -> Verdict:
    """What the frame has against what validation needs, as a verdict with a message a person can act on."""
    frame = mf.frame
    known = frame[frame[mf.label].notna()]
    y = known[mf.label].astype(float).to_numpy()
    pos_acc = int(known.loc[y > 0.5, "account_id"].nunique())
    neg_acc = int(known.loc[y <= 0.5, "account_id"].nunique())
    counts = dict(rows=len(known), accounts=int(known["account_id"].nunique()), positives=int(y.sum()),
                  positive_accounts=pos_acc, negative_accounts=neg_acc, dates=int(known["as_of"].nunique()))
    what = f"'{mf.label}' within {mf.horizon_days} days (outcome source: {mf.source})"
    if known.empty:
        return Verdict(False, f"no observation has a known outcome {what} yet: needs as-of dates at least "
                       f"{mf.horizon_days} days before the last day of data; load more history or use a shorter "
                       "--horizon", **counts)
    if pos_acc < min_positive_accounts:
        return Verdict(False, f"needs >= {min_positive_accounts} accounts with the outcome {what}, has {pos_acc} "
                       f"(in {len(known):,} rows with a known outcome): load more history, use a longer --horizon, or "
                       "load churn events / a labels file", **counts)
    if neg_acc < min_negative_accounts:
        return Verdict(False, f"needs >= {min_negative_accounts} accounts without the outcome {what}, has {neg_acc}:"
                       " the outcome is too common to rank; use a shorter --horizon", **counts)
    plan = plan_folds(mf)
    return Verdict(True, f"{len(known):,} rows, {counts['accounts']:,} accounts, {pos_acc:,} with the outcome, "
                   f"{counts['dates']} dates: {plan.note}", scheme=plan.scheme, **counts)


def _rolling(days: np.ndarray, y: np.ndarray, horizon: int, max_folds: int) -> tuple[Fold, ...]:
    gap = np.timedelta64(horizon, "D")
    dates = np.unique(days)
    eligible = []
    for d in dates:
        train = days <= d - gap
        positives = y[train].sum()
        if positives >= MIN_TRAIN_POSITIVES and (train.sum() - positives) >= MIN_TRAIN_POSITIVES:
            eligible.append(d)
    if not eligible:
        return ()
    n_test = min(MAX_TEST_DATES, int(np.ceil(len(eligible) / 2)))
    tests = np.array(eligible[-n_test:])
    blocks = np.array_split(tests, min(max_folds, len(tests)))
    folds = []
    for block in blocks:
        until = block[0] - gap
        test = np.flatnonzero(np.isin(days, block))
        folds.append(Fold(np.flatnonzero(days <= until), test, tuple(_as_date(d) for d in block), _as_date(until)))
    return tuple(folds)


def _as_date(d: np.datetime64) -> dt.date:
    return pd.Timestamp(d).date()


def _grouped(accounts: np.ndarray, y: np.ndarray, seed: int) -> tuple[Fold, ...]:
    acc_pos = pd.Series(y).groupby(accounts).max()
    k = int(max(2, min(K_FOLDS, (acc_pos > 0.5).sum(), (acc_pos <= 0.5).sum())))
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return tuple(Fold(train, test) for train, test in splitter.split(np.zeros(len(y)), y.astype(int), accounts))


def plan_folds(mf: ModelFrame, *, max_folds: int = MAX_TEST_DATES, seed: int = 0) -> Plan:
    """The folds for the labelled rows of ``mf`` (positions in ``mf.labelled().frame``)."""
    frame = mf.labelled().frame
    days = _days(frame["as_of"])
    y = frame[mf.label].astype(float).to_numpy()
    accounts = frame["account_id"].astype(str).to_numpy()
    n_dates = len(np.unique(days))
    if n_dates > 1:
        folds = _rolling(days, y, mf.horizon_days, max_folds)
        if folds:
            tests = [d for f in folds for d in f.test_dates]
            return Plan(Scheme.ROLLING_ORIGIN, folds,
                        f"rolling origin over {len(tests)} test dates ({tests[0]} .. {tests[-1]}), each trained on "
                        f"every row at least {mf.horizon_days} days earlier ({len(folds)} fits)")
        note = (f"{n_dates} observation dates but none has {MIN_TRAIN_POSITIVES}+ outcomes at least "
                f"{mf.horizon_days} days before it: grouped {K_FOLDS}-fold by account (time order not kept)")
    else:
        note = f"one observation date (a snapshot): grouped {K_FOLDS}-fold by account"
    return Plan(Scheme.GROUPED_KFOLD, _grouped(accounts, y, seed), note)


def per_date(mf: ModelFrame, plan: Plan) -> pd.DataFrame:
    """Every test date with its rows, positives and the rows/latest date its fit was trained on."""
    frame = mf.labelled().frame
    rows = []
    for fold in plan.folds:
        part = frame.iloc[fold.test]
        for day, grp in part.groupby("as_of", sort=True):
            rows.append({"test_date": day, "rows": len(grp), "positives": int(grp[mf.label].astype(float).sum()),
                         "trained_until": fold.train_until, "train_rows": len(fold.train)})
    out = pd.DataFrame(rows)
    if plan.scheme is Scheme.GROUPED_KFOLD and not out.empty:
        out = out.groupby("test_date", as_index=False).agg(rows=("rows", "sum"), positives=("positives", "sum"),
                                                           train_rows=("train_rows", "mean"))
        out.insert(3, "trained_until", None)
    return out
