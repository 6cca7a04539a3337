"""Backtest: score past dates point-in-time and compare with what happened next.

:class:`BacktestResult` (what ``retain backtest`` prints) is the validation of :mod:`retain.models.selection`:
every test date with its rows and positives, the comparison of the logistic regression, the scorecard and LightGBM
on the same out-of-sample rows with account-bootstrap intervals, and the model chosen and why.

The earlier scorecard backtest (:func:`run_backtest`, :class:`ScorecardBacktest`) remains for the suggested
scorecard weights:

Three contenders on the same held-back dates: the hand-weighted scorecard, the same components re-weighted by
a logistic regression fitted on earlier dates (the weights are suggested to the user with the AUC they would
gain), and the churn propensity model. For each: ROC-AUC, top-decile lift, Brier score and a reliability table.
Scorecard totals become probabilities through a strictly decreasing logistic map fitted on the validation dates
(before the test dates, a label horizon apart), so a higher total always reads as a lower churn probability; the
learned weights are fitted on the same validation dates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from retain.errors import ModelError
from retain.models import metrics
from retain.models.calibration import HealthCalibration, score_calibration
from retain.models.dataset import TimeSplit
from retain.models.propensity import ChurnModel
from retain.models.scorecard import ScorecardSource, weighted_total
from retain.warehouse import Warehouse

TARGET = "churned"


@dataclass(frozen=True)
class BacktestResult:
    """The validation of the churn model candidates on past dates."""

    summary: pd.DataFrame  # model, auc, auc_low, auc_high, lift, ..., brier, ..., chosen
    per_date: pd.DataFrame  # test_date, rows, positives, trained_until, train_rows, auc <model>...
    chosen: str
    why: str
    scheme: str
    note: str
    horizon_days: int
    source: str
    scorecard: str
    test_dates: tuple
    notes: tuple[str, ...] = ()


def backtest_result(mf, selection, scorecard: str, notes: tuple[str, ...] = ()) -> BacktestResult:
    """Package a :class:`~retain.models.selection.Selection` of frame ``mf`` for the faces."""
    dates = tuple(selection.per_date["test_date"]) if not selection.per_date.empty else ()
    return BacktestResult(selection.table, selection.per_date, selection.chosen.value, selection.why,
                          selection.plan.scheme.value, selection.plan.note, mf.horizon_days, str(mf.source),
                          scorecard, dates, selection.notes + tuple(notes))


@dataclass(frozen=True)
class ScorecardBacktest:
    summary: pd.DataFrame  # scorer, auc, top_decile_lift, brier, max_decile_gap, rows, churn_rate
    reliability: pd.DataFrame  # scorer, decile, predicted, observed, n, gap
    weights: pd.DataFrame  # component, hand_weight_pct, learned_weight_pct
    auc_gain: float
    scorecard: str
    test_dates: tuple
    calibration: pd.DataFrame | None = None  # health score → P(churn 90 d), P(renewal), P(expansion 180 d)


def learn_weights(components: pd.DataFrame, y: np.ndarray, seed: int = 0) -> pd.Series:
    """Component weights (% summing to 100) from a logistic regression of churn on the component scores.

    A component whose higher score means *more* churn gets weight 0 (a scorecard cannot use it the right way).
    """
    x = components.fillna(50.0).to_numpy(dtype=float) / 100.0
    lr = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(x, y)
    raw = np.clip(-lr.coef_[0], 0.0, None)
    if raw.sum() == 0:
        raw = np.ones_like(raw)
    return pd.Series(raw / raw.sum() * 100.0, index=components.columns)


def _evaluate(name: str, y: np.ndarray, risk: np.ndarray, p: np.ndarray) -> tuple[dict, pd.DataFrame]:
    rel = metrics.reliability(y, p)
    rel.insert(0, "scorer", name)
    row = {
        "scorer": name, "auc": metrics.auc(y, risk), "top_decile_lift": metrics.top_decile_lift(y, risk),
        "brier": metrics.brier(y, p), "max_decile_gap": float(rel["gap"].max()), "rows": len(y),
        "churn_rate": float(np.mean(y)),
    }
    return row, rel


def _scored_total(total: pd.Series, y_fit: np.ndarray, fit_mask: np.ndarray) -> np.ndarray:
    """Churn probability from a 0–100 total via a decreasing logistic map fitted on the earlier rows only."""
    filled = total.fillna(50.0).to_numpy()
    return score_calibration(filled[fit_mask], y_fit, increasing=False).predict(filled)


def run_backtest(
    wh: Warehouse, frame: pd.DataFrame, split: TimeSplit, source: ScorecardSource, model: ChurnModel | None,
) -> ScorecardBacktest:
    """``frame``: features + labels at every date of ``split`` (``dataset.build_frame``)."""
    fit_dates = set(split.validation)  # the scorecard needs no training: its maps are fitted on validation only
    frame = frame[frame[TARGET].notna() & frame["as_of"].isin(fit_dates | set(split.test))].reset_index(drop=True)
    test_dates = set(split.test)
    fit_mask = frame["as_of"].isin(fit_dates).to_numpy()
    test_mask = frame["as_of"].isin(test_dates).to_numpy()
    if not test_mask.any() or not fit_mask.any():
        raise ModelError("no labelled rows in the fit or the test period", hint="use more history")
    cards = [source.score(wh, day, part) for day, part in frame.groupby("as_of", sort=True)]
    comps = pd.concat([c.components for c in cards]).reindex(frame.index)
    hand_total = pd.concat([c.total for c in cards]).reindex(frame.index)
    hand_weights = pd.concat([pd.Series(c.hand_weights, dtype=float) for c in cards]).groupby(level=0).mean()
    y = frame[TARGET].astype(int).to_numpy()
    rows, rels = [], []

    p_hand = _scored_total(hand_total, y[fit_mask], fit_mask)
    row, rel = _evaluate("scorecard (hand weights)", y[test_mask], -hand_total.fillna(50).to_numpy()[test_mask],
                         p_hand[test_mask])
    rows.append(row)
    rels.append(rel)

    learned = learn_weights(comps[fit_mask], y[fit_mask])
    learned_total = weighted_total(comps, learned.to_dict())
    p_learned = _scored_total(learned_total, y[fit_mask], fit_mask)
    row, rel = _evaluate("scorecard (learned weights)", y[test_mask],
                         -learned_total.fillna(50).to_numpy()[test_mask], p_learned[test_mask])
    rows.append(row)
    rels.append(rel)

    if model is not None:
        p_model = model.predict_proba(frame[test_mask].reset_index(drop=True))
        row, rel = _evaluate("propensity model (LightGBM)", y[test_mask], p_model, p_model)
        rows.append(row)
        rels.append(rel)

    summary = pd.DataFrame(rows)
    hand = hand_weights.reindex(comps.columns).fillna(0.0)
    weights = pd.DataFrame({
        "component": comps.columns,
        "hand_weight_pct": (hand / hand.sum() * 100.0).to_numpy(),
        "learned_weight_pct": learned.to_numpy(),
    })
    history = pd.DataFrame({"score": hand_total.to_numpy()})
    for label in ("churned", "renewed", "expanded"):
        if label in frame.columns:
            history[label] = frame[label].astype(float).to_numpy()
    try:
        calibration = HealthCalibration().fit(history).table()
    except ModelError:
        calibration = None
    return ScorecardBacktest(
        calibration=calibration,
        summary=summary, reliability=pd.concat(rels, ignore_index=True), weights=weights,
        auc_gain=float(summary.loc[1, "auc"] - summary.loc[0, "auc"]), scorecard=source.name,
        test_dates=tuple(sorted(test_dates)),
    )
