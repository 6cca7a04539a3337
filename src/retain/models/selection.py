"""Model choice by validation, with the simple baseline always in the race.

Every candidate (:mod:`retain.models.candidates`) is fitted on each fold of one :class:`~retain.models.validation.Plan`
and scores the same out-of-sample rows. Figures (ROC-AUC, top-decile lift with ties counted fairly, Brier of the
candidate's own out-of-sample probability) come with 95 % percentile intervals from one account bootstrap shared by
all candidates (the same replicates, so differences are paired).

The choice: the candidate with the best AUC, unless a simpler one (order: logistic regression, scorecard,
LightGBM) is not clearly worse: the simplest candidate whose paired AUC difference to the best has a 95 % interval
reaching 0 is chosen. The *fitted scorecard* (the recipe of ``retain health fit`` refitted on each fold's training
rows) is validated and shown beside them but never chosen (:attr:`~retain.models.candidates.Kind.choosable`).
(Two separate intervals "overlap" far more often than a paired difference is uncertain; the
paired interval is the honest form of that test on shared rows.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from retain.errors import ModelError
from retain.models import metrics
from retain.models.candidates import HEALTH_COLUMN, Candidate, Kind, make
from retain.models.frame import ModelFrame
from retain.models.validation import MAX_TEST_DATES, Plan, Verdict, per_date, plan_folds, requirements

MAX_TRAIN_ROWS = 200_000  # rows a single fit trains on (a seeded uniform sample above this)
LARGE_ROWS = 250_000  # above this many labelled rows, consecutive test dates share fits ...
LARGE_FITS = 4  # ... at most this many
MIN_GAIN = 0.005  # a more complex model must beat a simpler one by at least this AUC (and clearly)
REPS = 200


@dataclass(frozen=True)
class Selection:
    """What validation found: the comparison table, each test date, the choice and why."""

    verdict: Verdict
    plan: Plan
    table: pd.DataFrame  # model, auc [_low, _high], lift [_low, _high], brier [_low, _high], chosen
    per_date: pd.DataFrame  # test_date, rows, positives, trained_until, train_rows, auc <model>...
    chosen: Kind
    why: str
    oof: pd.DataFrame  # account_id, as_of, y, and each candidate's out-of-sample probability
    notes: tuple[str, ...] = ()

    @property
    def chosen_auc(self) -> float:
        return float(self.table.set_index("model").loc[self.chosen.value, "auc"])


def available(mf: ModelFrame, kinds: tuple[Kind, ...] | None = None) -> tuple[tuple[Kind, ...], list[str]]:
    """The candidates this frame supports, and a note for each left out."""
    kinds = tuple(kinds or tuple(Kind))
    notes = []
    if Kind.SCORECARD in kinds:
        col = mf.frame[HEALTH_COLUMN] if HEALTH_COLUMN in mf.frame.columns else None
        if col is None or col.notna().sum() == 0:
            kinds = tuple(k for k in kinds if k is not Kind.SCORECARD)
            notes.append("scorecard left out: no health totals for these observations")
    if not mf.features and not mf.categorical:
        kinds = tuple(k for k in kinds if k is Kind.SCORECARD)
        notes.append("no features: only the scorecard can run")
    if not any(k.choosable for k in kinds):
        kinds = ()
        notes.append("no model that can be chosen runs on this frame")
    return kinds, notes


def sample_rows(rows: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """At most ``cap`` of ``rows`` (a seeded uniform sample, in their original order)."""
    if len(rows) <= cap:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, cap, replace=False))


def fit_candidate(kind: Kind, mf: ModelFrame, frame: pd.DataFrame, *, seed: int = 0) -> Candidate:
    y = frame[mf.label].astype(int).to_numpy()
    return make(kind, mf.features, mf.categorical, seed=seed).fit(frame, y)


def out_of_fold(mf: ModelFrame, plan: Plan, kinds: tuple[Kind, ...], *, seed: int = 0,
                max_train_rows: int = MAX_TRAIN_ROWS) -> pd.DataFrame:
    """Each candidate's out-of-sample probability on the plan's test rows (one row per test row)."""
    frame = mf.labelled().frame
    test_rows = plan.test_rows
    out = frame.iloc[test_rows][["account_id", "as_of"]].reset_index(drop=True)
    out["y"] = frame[mf.label].astype(int).to_numpy()[test_rows]
    where = pd.Series(np.arange(len(test_rows)), index=test_rows)
    for kind in kinds:
        scores = np.full(len(test_rows), np.nan)
        for i, fold in enumerate(plan.folds):
            train = frame.iloc[sample_rows(fold.train, max_train_rows, seed + i)]
            model = fit_candidate(kind, mf, train, seed=seed)
            scores[where.loc[fold.test].to_numpy()] = model.raw_score(frame.iloc[fold.test])
        out[kind.value] = scores
    return out


def compare(oof: pd.DataFrame, kinds: tuple[Kind, ...], *, reps: int = REPS, seed: int = 0) -> tuple[
        pd.DataFrame, dict[Kind, pd.DataFrame]]:
    """The comparison table and every candidate's bootstrap replicates (same account draws for all)."""
    boot = metrics.AccountBootstrap(oof["account_id"].astype(str).to_numpy(), reps, seed)
    y = oof["y"].to_numpy()
    draws, rows = {}, []
    for kind in kinds:
        p = oof[kind.value].to_numpy()
        draws[kind] = metrics.metric_draws(metrics.RankedScores(y, p, p), boot)
        row = {"model": kind.value}
        for m in metrics.BOOT_METRICS:
            row[m] = float(draws[kind].loc[-1, m])
            row[f"{m}_low"], row[f"{m}_high"] = metrics.interval(draws[kind].loc[0:, m])
        rows.append(row)
    return pd.DataFrame(rows), draws


def choose(table: pd.DataFrame, draws: dict[Kind, pd.DataFrame]) -> tuple[Kind, str]:
    """The simplest candidate not clearly worse than the best by AUC, and why in one sentence (only choosable
    candidates compete)."""
    draws = {k: d for k, d in draws.items() if k.choosable}
    auc = table.set_index("model")["auc"]
    best = max(draws, key=lambda k: (auc[k.value], -k.simplicity))
    for kind in sorted(draws, key=lambda k: k.simplicity):
        if kind is best:
            break
        diff = draws[best].loc[0:, "auc"] - draws[kind].loc[0:, "auc"]
        low, high = metrics.interval(diff)
        gain = auc[best.value] - auc[kind.value]
        if low <= 0 or gain < MIN_GAIN:
            why = "95 % interval reaches 0" if low <= 0 else f"below the {MIN_GAIN} worth its complexity"
            return kind, (f"{kind} is the simplest whose AUC is not clearly below the best ({best}): difference "
                          f"{gain:+.3f}, 95 % interval [{low:+.3f}, {high:+.3f}], {why}")
    others = [k for k in draws if k.simplicity < best.simplicity]
    if not others:
        return best, f"{best} has the best validated AUC and is the simplest"
    gaps = ", ".join(f"{k}: {auc[best.value] - auc[k.value]:+.3f} "
                     f"[{metrics.interval(draws[best].loc[0:, 'auc'] - draws[k].loc[0:, 'auc'])[0]:+.3f} ..]"
                     for k in sorted(others, key=lambda k: k.simplicity))
    return best, f"{best} has the best validated AUC, clearly above every simpler model ({gaps})"


def _per_date(mf: ModelFrame, plan: Plan, oof: pd.DataFrame, kinds: tuple[Kind, ...]) -> pd.DataFrame:
    table = per_date(mf, plan)
    if table.empty:
        return table
    aucs = {k.value: {day: metrics.auc(g["y"].to_numpy(), g[k.value].to_numpy())
                      for day, g in oof.groupby("as_of")} for k in kinds}
    for k in kinds:
        table[f"auc {k.value}"] = table["test_date"].map(aucs[k.value])
    return table


def select(mf: ModelFrame, *, kinds: tuple[Kind, ...] | None = None, seed: int = 0, reps: int = REPS,
           max_train_rows: int = MAX_TRAIN_ROWS, max_folds: int | None = None) -> Selection:
    """Validate every available candidate on the same out-of-sample rows and choose one.

    Raises :class:`ModelError` with the requirement's message when the frame cannot be validated."""
    verdict = requirements(mf)
    if not verdict.ok:
        raise ModelError(verdict.message, hint="see `retain doctor` for what each model needs")
    kinds, notes = available(mf, kinds)
    if not kinds:
        raise ModelError("no model can run on this frame: " + "; ".join(notes), hint="check the features built")
    if max_folds is None:
        rows = int(mf.frame[mf.label].notna().sum())
        max_folds = LARGE_FITS if rows > LARGE_ROWS else MAX_TEST_DATES
    plan = plan_folds(mf, seed=seed, max_folds=max_folds)
    oof = out_of_fold(mf, plan, kinds, seed=seed, max_train_rows=max_train_rows)
    table, draws = compare(oof, kinds, reps=reps, seed=seed)
    chosen, why = choose(table, draws)
    table["chosen"] = table["model"] == chosen.value
    return Selection(verdict, plan, table, _per_date(mf, plan, oof, kinds), chosen, why, oof, tuple(notes))
