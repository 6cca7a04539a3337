"""Leakage: features never see rows after as_of; labels see nothing after as_of + horizon; splits never mix time."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from retain.errors import ModelError
from retain.models.dataset import TimeSplit, time_split
from retain.models.features import account_features
from retain.models.labels import churn_labels, expansion_labels
from retain.schema import table as table_spec
from retain.warehouse import Warehouse

AS_OF = dt.date(2023, 6, 1)


def _insert(wh: Warehouse, name: str, rows: list[dict]) -> None:
    spec = table_spec(name)
    frame = pd.DataFrame(rows)
    for col in spec.stored_names:
        if col not in frame.columns:
            frame[col] = None
    wh.con.insert(name, frame[spec.stored_names].astype(
        {c: "object" for c in spec.stored_names if frame[c].isna().all()}
    ))


def _base(wh: Warehouse) -> None:
    _insert(wh, "accounts", [{"account_id": a, "name": a, "segment": "smb",
                              "created_at": pd.Timestamp("2022-01-01", tz="UTC")} for a in ("A", "B")])
    _insert(wh, "subscriptions", [
        {"subscription_id": "sA", "account_id": "A", "product_id": "core", "started_on": dt.date(2022, 1, 1),
         "mrr": 100.0, "quantity": 10, "term_end_on": dt.date(2023, 12, 31)},
        {"subscription_id": "sB", "account_id": "B", "product_id": "core", "started_on": dt.date(2022, 3, 1),
         "mrr": 50.0, "quantity": 5, "term_end_on": dt.date(2023, 7, 1)},
    ])
    _insert(wh, "usage", [{"account_id": "A", "usage_on": AS_OF - dt.timedelta(days=d), "feature": "reports",
                           "active_users": 4, "events": 10.0} for d in range(0, 60, 3)])
    _insert(wh, "survey_responses", [{"response_id": "r1", "account_id": "A", "survey_type": "nps", "score": 8,
                                      "responded_at": pd.Timestamp("2023-05-01", tz="UTC")}])


def _future(wh: Warehouse, after: dt.date) -> None:
    """Rows dated after ``after``: usage, tickets, surveys, invoices, activities, a new product, a churn."""
    day = after + dt.timedelta(days=1)
    ts = pd.Timestamp(day, tz="UTC")
    _insert(wh, "usage", [{"account_id": "A", "usage_on": day, "feature": "reports", "active_users": 99,
                           "events": 999.0}])
    _insert(wh, "support_tickets", [{"ticket_id": "t9", "account_id": "A", "opened_at": ts, "priority": "urgent"}])
    _insert(wh, "survey_responses", [{"response_id": "r9", "account_id": "A", "survey_type": "nps", "score": 0,
                                      "responded_at": ts}])
    _insert(wh, "invoices", [{"invoice_id": "i9", "account_id": "A", "issued_on": day, "due_on": day,
                              "amount": 10.0}])
    _insert(wh, "activities", [{"activity_id": "x9", "account_id": "A", "occurred_at": ts,
                                "activity_type": "executive_meeting"}])
    _insert(wh, "subscriptions", [{"subscription_id": "sA2", "account_id": "A", "product_id": "api",
                                   "started_on": day, "mrr": 500.0, "quantity": 50}])
    # B's subscription ends after as_of: its end date must stay hidden from features at as_of.
    wh.con.raw_sql(f"UPDATE subscriptions SET ended_on = DATE '{day + dt.timedelta(days=5)}' "
                   "WHERE subscription_id = 'sB'")


def test_rows_after_as_of_change_no_feature(wh):
    _base(wh)
    before = wh.execute(account_features(wh, AS_OF)).sort_values("account_id").reset_index(drop=True)
    _future(wh, AS_OF)
    after = wh.execute(account_features(wh, AS_OF)).sort_values("account_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    assert before.loc[0, "users_30d"] > 0  # the features are not trivially empty
    assert before.loc[0, "last_nps"] == 8


def test_features_do_see_rows_up_to_as_of(wh):
    _base(wh)
    before = wh.execute(account_features(wh, AS_OF + dt.timedelta(days=1)))
    _future(wh, AS_OF)
    after = wh.execute(account_features(wh, AS_OF + dt.timedelta(days=1)))
    a_before = before.set_index("account_id").loc["A"]
    a_after = after.set_index("account_id").loc["A"]
    assert a_after["last_nps"] == 0 and a_before["last_nps"] == 8
    assert a_after["products_held"] == 2


def test_labels_use_rows_up_to_horizon_only(wh):
    _base(wh)
    horizon = 90
    before = wh.execute(churn_labels(wh, AS_OF, horizon)).sort_values("account_id").reset_index(drop=True)
    # Rows after as_of + horizon: a new product and an end date far in the future change no label.
    _future(wh, AS_OF + dt.timedelta(days=horizon))
    after = wh.execute(churn_labels(wh, AS_OF, horizon)).sort_values("account_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    exp_before = wh.execute(expansion_labels(wh, AS_OF, 30)).sort_values("account_id").reset_index(drop=True)
    assert exp_before["expanded"].tolist() == [0, 0]


def test_labels_see_outcomes_within_horizon(wh):
    _base(wh)
    _future(wh, AS_OF)  # B ends 6 days after as_of; A buys a second product the next day
    churn = wh.execute(churn_labels(wh, AS_OF, 90)).set_index("account_id")["churned"]
    assert churn.to_dict() == {"A": 0, "B": 1}
    exp = wh.execute(expansion_labels(wh, AS_OF, 180)).set_index("account_id")
    assert exp.loc["A", "expanded"] == 1 and exp.loc["A", "new_product"] == 1
    assert exp.loc["B", "expanded"] == 0


@pytest.mark.parametrize("horizon", [90, 180])
def test_time_split_never_mixes_time(horizon):
    split = time_split(dt.date(2022, 1, 1), dt.date(2025, 1, 1), horizon_days=horizon)
    gap = dt.timedelta(days=horizon)
    assert max(split.train) + gap <= min(split.validation)
    assert max(split.validation) + gap <= min(split.test)
    assert max(split.test) + gap <= dt.date(2025, 1, 1)  # every test label is complete
    assert min(split.test) >= dt.date(2024, 1, 2)  # the held-back final year


def test_overlapping_split_is_refused():
    bad = TimeSplit((dt.date(2023, 1, 1),), (dt.date(2023, 2, 1),), (), 90)
    with pytest.raises(ModelError):
        bad.check()
