"""Calibrated probabilities keep the raw score's order, cost no Brier against isotonic, and ties count fairly.

Each comparison is out of sample (fit on one set of rows, measured on held-out rows) and a plain logistic
regression on the same rows is measured beside it (printed with ``pytest -s``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from synthetic import FAST_CHURN

from retain.models import metrics
from retain.models.calibration import HealthCalibration, Link, LogisticCalibration, binned_isotonic
from retain.models.features import FEATURES
from retain.models.propensity import ChurnModel

BRIER_TOLERANCE = 0.002  # calibrated Brier may exceed isotonic's by at most this on held-out rows


def _assert_order_kept(raw: np.ndarray, p: np.ndarray, *, increasing: bool = True) -> None:
    """Distinct raw scores ↔ distinct probabilities, in the same (or reversed) order; equal raw → equal p."""
    sign = 1.0 if increasing else -1.0
    order = np.argsort(sign * raw, kind="stable")
    d_raw, d_p = np.diff(sign * raw[order]), np.diff(p[order])
    assert (d_p[d_raw > 0] > 0).all(), "a higher raw score got a lower or equal probability"
    assert (d_p[d_raw == 0] == 0).all()
    uniq, first = np.unique(raw, return_index=True)
    rho = spearmanr(uniq, p[first]).statistic
    assert rho == pytest.approx(1.0 if increasing else -1.0)


def _world(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, a miscalibrated and tie-heavy raw score (a coarse, over-confident model), and outcomes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    true_logit = -2.5 + 1.2 * x[:, 0] - 0.8 * x[:, 1] + 0.3 * x[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-true_logit))).astype(int)
    model_logit = np.round(2.0 * (-2.0 + 1.1 * x[:, 0] - 0.7 * x[:, 1]), 1)  # over-confident, rounded: ties
    return x, 1 / (1 + np.exp(-model_logit)), y


def test_logistic_calibration_keeps_order_and_brier_on_synthetic_rows(capsys):
    x, raw, y = _world(12_000, seed=3)
    fit, held = slice(0, 4_000), slice(4_000, None)
    cal = LogisticCalibration(Link.LOGIT).fit(raw[fit], y[fit])
    p = cal.predict(raw[held])
    p_iso = binned_isotonic(raw[fit], y[fit]).predict(raw[held])
    lr = LogisticRegression(max_iter=1000).fit(x[fit], y[fit])
    p_lr = lr.predict_proba(x[held])[:, 1]
    y_h, raw_h = y[held], raw[held]

    _assert_order_kept(raw_h, p)
    top = np.argsort(-raw_h, kind="stable")[: len(raw_h) // 10]
    assert len(np.unique(p[top])) == len(np.unique(raw_h[top]))  # no ties beyond the raw score's own
    assert len(np.unique(p_iso[top])) < len(np.unique(raw_h[top]))  # what isotonic did
    assert metrics.auc(y_h, p) == pytest.approx(metrics.auc(y_h, raw_h))  # ranking untouched
    assert metrics.brier(y_h, p) <= metrics.brier(y_h, p_iso) + BRIER_TOLERANCE
    assert abs(p.mean() - y_h.mean()) < 0.02
    with capsys.disabled():
        for name, q in (("logistic calibration", p), ("isotonic", p_iso), ("plain logistic regression", p_lr)):
            print(f"\n  {name:26s} AUC {metrics.auc(y_h, q):.3f}  Brier {metrics.brier(y_h, q):.4f}  "
                  f"largest decile gap {metrics.reliability(y_h, q)['gap'].max():.3f}")


def test_churn_model_probabilities_keep_the_booster_order(frames, capsys):
    model = ChurnModel(FAST_CHURN).fit(frames["train"], frames["validation"])
    test = frames["test"]
    y = test["churned"].astype(int).to_numpy()
    raw = model.raw_score(test)
    p = model.predict_proba(test)
    _assert_order_kept(raw, p)
    val = frames["validation"]
    p_iso = binned_isotonic(model.raw_score(val), val["churned"].astype(int)).predict(raw)
    assert metrics.brier(y, p) <= metrics.brier(y, p_iso) + BRIER_TOLERANCE
    # The plain baseline on the same rows: logistic regression on the standardised features, fitted on train.
    train = frames["train"]
    med = train[list(FEATURES)].astype(float).median().fillna(0.0)  # a feature with no data at all reads 0

    def matrix(frame: pd.DataFrame) -> np.ndarray:
        return frame[list(FEATURES)].astype(float).fillna(med).to_numpy()

    scaler = StandardScaler().fit(matrix(train))
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(matrix(train)), train["churned"].astype(int))
    p_lr = lr.predict_proba(scaler.transform(matrix(test)))[:, 1]
    groups = test["account_id"].to_numpy()
    with capsys.disabled():
        for name, q in (("churn model (logistic cal.)", p), ("churn model (isotonic)", p_iso),
                        ("plain logistic regression", p_lr)):
            a = metrics.bootstrap(metrics.auc, y, q, groups=groups, reps=100)
            b = metrics.bootstrap(metrics.brier, y, q, groups=groups, reps=100)
            print(f"\n  {name:28s} AUC {a[0]:.3f} [{a[1]:.3f}, {a[2]:.3f}]  Brier {b[0]:.4f} [{b[1]:.4f}, {b[2]:.4f}]")


def test_health_calibration_gives_every_score_its_own_probability():
    rng = np.random.default_rng(5)
    score = np.round(rng.uniform(0, 100, 3000), 1)
    churned = (rng.random(3000) < 0.5 / (1 + np.exp((score - 40) / 12))).astype(int)
    cal = HealthCalibration().fit(pd.DataFrame({"score": score, "churned": churned}))
    p = cal.transform(score)["p_churn_90d"].to_numpy()
    _assert_order_kept(score, p, increasing=False)
    assert len(np.unique(p)) == len(np.unique(score))


def test_a_score_that_does_not_rank_still_keeps_its_order():
    raw = np.linspace(0.1, 0.9, 200)
    y = np.tile([1, 0, 0, 1], 50)  # no relation to the score
    cal = LogisticCalibration().fit(raw, y)
    p = cal.predict(raw)
    assert (np.diff(p) > 0).all() and p.max() - p.min() < 0.05
    again = LogisticCalibration.from_dict(cal.to_dict())
    np.testing.assert_array_equal(again.predict(raw), p)


def test_top_decile_lift_counts_ties_fairly_whatever_the_row_order():
    # 20 rows, top decile = 2 rows: the 0.9 row (a churner) and one of four tied at 0.5 (one churner among them).
    risk = np.array([0.9] + [0.5] * 4 + [0.1] * 15)
    y = np.array([1, 1, 0, 0, 0] + [0] * 15)
    expected = (1 + 1 / 4) / 2 / (2 / 20)  # 6.25; by row order it would be 10 (churner first) or 5 (last)
    assert metrics.top_decile_lift(y, risk) == pytest.approx(expected)
    rng = np.random.default_rng(0)
    for _ in range(5):
        perm = rng.permutation(len(y))
        assert metrics.top_decile_lift(y[perm], risk[perm]) == pytest.approx(expected)
    assert metrics.top_decile_lift(y, -np.arange(20.0)) == pytest.approx((2 / 2) / (2 / 20))  # no ties: as before


def test_reliability_puts_tied_probabilities_in_one_decile():
    p = np.array([0.1] * 5 + [0.3] * 10 + [0.6] * 5)
    y = np.array([0] * 5 + [1, 0] * 5 + [1] * 5)
    tables = [metrics.reliability(y[perm], p[perm], bins=4)
              for perm in (np.arange(20), np.arange(20)[::-1], np.random.default_rng(1).permutation(20))]
    for table in tables:
        pd.testing.assert_frame_equal(table, tables[0])
    assert tables[0]["n"].tolist() == [5, 10, 5]  # the ten tied 0.3 rows are not split across deciles
    assert tables[0]["observed"].tolist() == [0.0, 0.5, 1.0]
