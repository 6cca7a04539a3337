"""Measure values on the tiny hand-made tables, checked by hand; point in time; not-applicable data."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from health_data import AS_OF, d, fill_tiny, load, ts

from retain.health import measure_values
from retain.health.measures import MEASURES, measure_key
from retain.warehouse import Warehouse


@pytest.fixture(scope="module")
def values() -> pd.DataFrame:
    return measure_values(fill_tiny(Warehouse.open(":memory:")), AS_OF).set_index("account_id")


def test_population_is_accounts_with_running_subscriptions(values):
    assert list(values.index) == ["A", "B", "C"]  # X churned on 2024-03-01


@pytest.mark.parametrize(("account", "measure", "expected"), [
    ("A", "active_users", 9.0),            # max over features per day: the 'all' row, 9 users, every day
    ("A", "license_utilization", 0.9),     # 9 / largest seat count 10
    ("B", "license_utilization", 0.0),     # no usage in the last 30 days
    ("A", "usage_trend", 1.0),
    ("B", "usage_trend", 0.0),             # used 31-90 days ago only
    ("A", "feature_breadth", 1.0),         # reports + alerts of the 2 features seen
    ("B", "feature_breadth", 0.0),         # only 'all' rows
    ("B", "open_high_priority_tickets", 2.0),
    ("A", "open_high_priority_tickets", 0.0),  # resolved
    ("B", "tickets", 4.0),                 # t1, t2, t3, t5 in 90 days
    ("B", "tickets_per_user", 0.2),        # 4 / 20 licences
    ("B", "escalations", 1.0),
    ("A", "last_nps", 9.0),                # the later of 6 and 9
    ("B", "last_nps", 3.0),                # the 10 on 2024-07-02 is in the future
    ("A", "avg_survey", 7.5),
    ("A", "days_since_meeting", 20.0),     # QBR on 2024-06-10
    ("B", "days_since_meeting", 151.0),    # executive meeting on 2024-01-31
    ("C", "days_since_meeting", 546.0),    # never: days since created 2023-01-01
    ("A", "meetings", 2.0),
    ("B", "champion_left", 1.0),
    ("A", "champion_left", 0.0),
    ("B", "overdue_amount", 600.0),
    ("A", "overdue_amount", 100.0),        # paid after the as-of day, so unpaid as of it
    ("B", "days_overdue", 60.0),
    ("A", "products_held", 2.0),
    ("A", "days_to_renewal", 184.0),
    ("B", "days_to_renewal", 60.0),
    ("A", "arr", 1800.0),
    ("C", "licences", 100.0),
])
def test_hand_checked_values(values, account, measure, expected):
    assert values.loc[account, measure] == pytest.approx(expected)


def test_missing_data_is_null_not_zero(values):
    assert values["last_csat"].isna().all()             # no CSAT answers at all
    assert pd.isna(values.loc["C", "last_nps"])         # no NPS for C
    assert pd.isna(values.loc["C", "usage_trend"])      # no baseline usage
    assert pd.isna(values.loc["C", "days_to_renewal"])  # no contract end


def test_empty_source_table_makes_the_measure_not_applicable(wh):
    load(wh, "accounts", [{"account_id": "A", "name": "A", "created_at": ts("2024-01-01")}])
    load(wh, "subscriptions", [{"subscription_id": "s", "account_id": "A", "product_id": "p",
                                "started_on": d("2024-01-01"), "mrr": 10.0, "quantity": 2}])
    v = measure_values(wh, AS_OF).set_index("account_id")
    assert pd.isna(v.loc["A", "open_high_priority_tickets"])  # no tickets table data: N/A, not 0
    assert pd.isna(v.loc["A", "active_users"])
    assert v.loc["A", "products_held"] == 1


def test_rows_after_as_of_change_nothing(tiny):
    before = measure_values(tiny, AS_OF)
    later = AS_OF + dt.timedelta(days=3)
    load(tiny, "usage", [{"account_id": "C", "usage_on": later, "feature": "all", "active_users": 50}])
    load(tiny, "support_tickets", [{"ticket_id": "z", "account_id": "A", "opened_at": ts("2024-07-02"),
                                    "priority": "urgent", "escalated": True}])
    load(tiny, "survey_responses", [{"response_id": "z", "account_id": "C", "responded_at": ts("2024-07-01"),
                                     "survey_type": "nps", "score": 0}])
    load(tiny, "invoices", [{"invoice_id": "z", "account_id": "C", "issued_on": later, "due_on": later,
                             "amount": 5.0}])
    load(tiny, "activities", [{"activity_id": "z", "account_id": "B", "occurred_at": ts("2024-07-01"),
                               "activity_type": "qbr"}])
    load(tiny, "contacts", [{"contact_id": "z", "account_id": "A", "created_at": ts("2024-07-01"),
                             "role": "champion", "left_at": ts("2024-07-02")}])
    load(tiny, "subscriptions", [{"subscription_id": "z", "account_id": "C", "product_id": "p9",
                                  "started_on": later, "mrr": 1.0, "quantity": 1000}])
    pd.testing.assert_frame_equal(before, measure_values(tiny, AS_OF))


def test_measure_keys_name_non_default_parameters():
    assert measure_key("tickets", {"window_days": 90}) == "tickets"
    assert measure_key("tickets", {"window_days": 30}) == "tickets__window_days=30"
    assert measure_key("meetings", {"values": ["qbr"]}) == "meetings__values=qbr"
    assert all(m.description for m in MEASURES.values())
