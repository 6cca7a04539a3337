from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retain.errors import ModelError
from retain.models import metrics
from retain.models.calibration import HealthCalibration


def test_metrics_by_hand():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    risk = np.arange(10, 0, -1).astype(float)  # the first row is the riskiest
    assert metrics.auc(y, risk) == pytest.approx(15 / 16)  # 8 + 7 of 16 positive-negative pairs ordered
    assert metrics.top_decile_lift(y, risk) == pytest.approx(1.0 / 0.2)
    assert metrics.brier(y, np.full(10, 0.2)) == pytest.approx((2 * 0.64 + 8 * 0.04) / 10)
    assert np.isnan(metrics.auc(np.zeros(4), np.arange(4)))


def test_reliability_deciles():
    p = np.linspace(0, 1, 100)
    y = (np.arange(100) % 10 == 0).astype(int)
    rel = metrics.reliability(y, p)
    assert rel["decile"].tolist() == list(range(1, 11)) and rel["n"].sum() == 100
    assert rel.loc[0, "predicted"] == pytest.approx(p[:10].mean())
    assert (rel["gap"] == (rel["predicted"] - rel["observed"]).abs()).all()


def test_health_calibration_is_monotone_and_reads_as_probabilities():
    rng = np.random.default_rng(0)
    score = rng.uniform(0, 100, 4000)
    churned = (rng.random(4000) < 0.4 * (1 - score / 100)).astype(int)
    renewed = (rng.random(4000) < 0.5 + 0.5 * score / 100).astype(float)
    hist = pd.DataFrame({"score": score, "churned": churned, "renewed": renewed, "expanded": np.nan})
    cal = HealthCalibration().fit(hist)
    table = cal.table()
    assert list(table.columns) == ["score", "p_churn_90d", "p_renewal"]  # no expansion history: no column
    assert table["p_churn_90d"].is_monotonic_decreasing and table["p_renewal"].is_monotonic_increasing
    assert table.loc[table.score == 90, "p_renewal"].item() == pytest.approx(0.95, abs=0.05)
    assert table.loc[table.score == 10, "p_churn_90d"].item() == pytest.approx(0.36, abs=0.06)


def test_health_calibration_needs_history():
    with pytest.raises(ModelError, match="too little"):
        HealthCalibration().fit(pd.DataFrame({"score": [50.0], "churned": [1]}))


def test_auc_is_sklearn_s_value_with_ties_and_nan_for_one_outcome():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    for n in (7, 400, 20_000):
        y = rng.random(n) < 0.3
        y[:2] = (True, False)
        risk = np.round(rng.random(n) * 4 + y, 1)  # many ties
        assert metrics.auc(y, risk) == pytest.approx(roc_auc_score(y, risk), abs=1e-12)
    assert metrics.auc([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]) == 1.0
    assert np.isnan(metrics.auc([1, 1, 1], [0.1, 0.2, 0.3]))
