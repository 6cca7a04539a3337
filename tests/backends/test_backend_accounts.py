"""Per-account analytics on every engine: health measures and scores, model features and labels, the RFM summary
behind CLV, and the point-in-time call tables conversation metrics are computed from."""

from __future__ import annotations

import datetime as dt

import pytest
from backend_data import SMALL

from retain.clv.rfm import rfm_from_warehouse
from retain.conversations.analysis import load_calls
from retain.conversations.metrics import call_metrics
from retain.health.history import score
from retain.health.measures import measure_values
from retain.models.features import account_features, feature_frame
from retain.models.labels import outcome_labels

DATA = ["small", "demo"]

ANALYTICS = {  # name -> (wh, DataSet) -> DataFrame
    "health_measures": lambda wh, d: measure_values(wh, d.as_of),
    "health_scores": lambda wh, d: score(wh, d.as_of).scores,
    "model_features": lambda wh, d: wh.execute(account_features(wh, d.as_of)),
    "model_features_by_block": lambda wh, d: feature_frame(wh, d.as_of),
    "model_labels": lambda wh, d: wh.execute(outcome_labels(wh, d.label_on)),
    "rfm_summary": lambda wh, d: wh.execute(rfm_from_warehouse(wh, d.as_of)),
    "rfm_summary_weekly_holdout": lambda wh, d: wh.execute(
        rfm_from_warehouse(wh, d.as_of, freq="W", calibration_end=d.as_of - dt.timedelta(days=91))),
}


@pytest.mark.parametrize("dataset", DATA)
@pytest.mark.parametrize("name", list(ANALYTICS))
def test_account_analytic_is_identical(same_as_duckdb, name, dataset):
    got = same_as_duckdb(name, dataset, ANALYTICS[name])
    assert len(got), f"{name} on {dataset}: no rows"


def test_call_metrics_from_the_engine_are_identical(same_as_duckdb):
    """Conversations and utterances as known at a day come from the engine; the metrics over them are pandas."""

    def metrics(wh, d):
        conversations, utterances = load_calls(wh, d.as_of)
        assert len(utterances), "the demo slice has calls"
        return call_metrics(utterances, conversations).reset_index()

    same_as_duckdb("call_metrics", "demo", metrics)


HAND_CHECKED_MEASURES = [  # from tests/unit/health/test_health_measures.py (the same three accounts)
    ("A", "active_users", 9.0), ("A", "license_utilization", 0.9), ("B", "usage_trend", 0.0),
    ("B", "open_high_priority_tickets", 2.0), ("B", "tickets", 4.0), ("B", "last_nps", 3.0),
    ("A", "days_since_meeting", 20.0), ("C", "days_since_meeting", 546.0), ("A", "overdue_amount", 100.0),
    ("B", "days_overdue", 60.0), ("A", "days_to_renewal", 184.0), ("A", "arr", 1800.0),
]


def test_hand_checked_measures(backend):
    values = measure_values(backend["small"], SMALL.as_of).set_index("account_id")
    for account, measure, expected in HAND_CHECKED_MEASURES:
        assert values.loc[account, measure] == pytest.approx(expected), f"{measure} of {account}"
    assert "X" not in values.index  # X ended on 2024-03-01


def test_hand_checked_labels(backend):
    """Customers on 2024-03-31: f's last day is 2024-03-31 (churned within 90 days); a, c, d and A, B, C stay."""
    labels = backend["small"].execute(outcome_labels(backend["small"], SMALL.label_on)).set_index("account_id")
    assert sorted(labels.index) == ["A", "B", "C", "a", "c", "d", "f"]
    assert labels["churned"].to_dict() == {a: int(a == "f") for a in labels.index}
    assert labels.loc["a", "expanded"] == 1  # 100 -> 150 on 2024-05-01


def test_hand_checked_rfm_summary(backend):
    """'a' buys on 2024-01-10, 02-10 and 05-10 (two purchases that day: one period of 50): two repeats."""
    rfm = backend["small"].execute(rfm_from_warehouse(backend["small"], SMALL.as_of)).set_index("account_id")
    assert tuple(rfm.loc["a", ["frequency", "recency", "T", "monetary_value"]]) == pytest.approx((2, 121, 172, 50))
    assert tuple(rfm.loc["d", ["frequency", "recency", "T", "monetary_value"]]) == pytest.approx((0, 0, 121, 0))
