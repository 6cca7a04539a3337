from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from synthetic import FAST_CHURN

from retain.errors import ModelError
from retain.models.propensity import ChurnModel, ModelMismatchError, ModelSpec, UpsellModel


@pytest.fixture(scope="module")
def churn(frames):
    return ChurnModel(FAST_CHURN).fit(frames["train"], frames["validation"])


def test_churn_model_ranks_and_calibrates(churn, frames):
    test = frames["test"]
    p = churn.predict_proba(test)
    assert ((p >= 0) & (p <= 1)).all()
    assert roc_auc_score(test["churned"].astype(int), p) > 0.8
    assert abs(p.mean() - test["churned"].mean()) < 0.05


def test_fit_is_deterministic(churn, frames):
    again = ChurnModel(FAST_CHURN).fit(frames["train"], frames["validation"])
    np.testing.assert_array_equal(again.raw_score(frames["test"]), churn.raw_score(frames["test"]))


def test_reasons_come_from_contributions(churn, frames):
    rows = frames["test"].head(20)
    contrib = churn.contributions(rows)
    # contributions + bias add up to the raw log-odds
    raw = churn.booster_.predict(churn._matrix(rows), raw_score=True)
    bias = churn.booster_.predict(churn._matrix(rows), pred_contrib=True)[:, -1]
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy() + bias, raw, rtol=1e-6)
    reasons = [json.loads(r) for r in churn.reasons(rows)]
    for i, rs in enumerate(reasons):
        risks = [r for r in rs if r["direction"] == "raises"]
        protective = [r for r in rs if r["direction"] == "lowers"]
        assert len(risks) <= 3 and len(protective) <= 2 and rs == risks + protective
        for r in rs:
            assert set(r) == {"feature", "phrase", "contribution", "direction"}
            assert (r["contribution"] > 0) == (r["direction"] == "raises") and r["contribution"] != 0
            assert r["contribution"] == pytest.approx(contrib.iloc[i][r["feature"]], abs=1e-4)
            assert r["phrase"] and "(0." not in r["phrase"]
        assert [r["contribution"] for r in risks] == sorted((r["contribution"] for r in risks), reverse=True)
        assert [r["contribution"] for r in protective] == sorted(r["contribution"] for r in protective)


def test_save_load_roundtrip_and_mismatch(churn, frames, tmp_path):
    path = churn.save(tmp_path / "churn.json")
    loaded = ChurnModel.load(path, FAST_CHURN)
    np.testing.assert_allclose(loaded.predict_proba(frames["test"]), churn.predict_proba(frames["test"]))
    other = ModelSpec(target="churned", horizon_days=90, num_leaves=7)
    with pytest.raises(ModelMismatchError, match="trained on spec"):
        ChurnModel.load(path, other)
    with pytest.raises(ModelMismatchError):
        ChurnModel.load(path)  # the default spec differs from the one trained on
    with pytest.raises(ModelMismatchError):
        UpsellModel.load(path, FAST_CHURN)


def test_missing_columns_and_unfitted_are_typed_errors(frames):
    with pytest.raises(ModelError, match="not fitted"):
        ChurnModel().predict_proba(frames["test"])
    with pytest.raises(ModelError, match="missing feature columns: arr"):
        ChurnModel().fit(frames["train"].drop(columns="arr"), frames["validation"])


def test_upsell_labels_are_missing_past_the_data_and_model_fits(company, frames):
    _, end = company
    frame = frames["all"]
    late = frame["as_of"] > end - dt.timedelta(days=180)
    assert frame.loc[late, "expanded"].isna().all() and frame.loc[~late, "expanded"].notna().all()
    spec = ModelSpec(target="expanded", horizon_days=180, n_estimators=40)
    known = frame[~late]
    cut = sorted(known["as_of"].unique())[-2]
    model = UpsellModel(spec).fit(known[known["as_of"] < cut], known[known["as_of"] >= cut])
    p = model.predict_proba(frames["test"])
    assert p.shape == (len(frames["test"]),) and ((p >= 0) & (p <= 1)).all()
