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


# -- generated features and outcomes over many dates at once (retain.models.generated / outcomes) ----------------

def _generated(wh: Warehouse, grid) -> pd.DataFrame:
    from retain.models import generated
    from retain.models.outcomes import population

    found = generated.discover(wh, grid.anchor)
    ctx = generated.context(wh, grid, population(wh, grid), found)
    frame, _ = generated.compute(ctx, generated.families(ctx, found))
    frame["as_of"] = frame["as_of"].dt.date
    return frame.sort_values(["as_of", "account_id"]).reset_index(drop=True)


def test_generated_features_ignore_rows_after_each_date(wh):
    """One query computes every date; rows dated after a date (but before the build's as_of) never change it."""
    from retain.models.grid import ObservationGrid, regular_dates

    anchor = AS_OF + dt.timedelta(days=60)
    grid = ObservationGrid(regular_dates(dt.date(2022, 6, 1), anchor, step_days=30, horizon_days=30), anchor, 30)
    assert AS_OF in grid.dates
    _base(wh)
    before = _generated(wh, grid)
    _future(wh, AS_OF)
    after = _generated(wh, grid)
    common = [c for c in before.columns if c in after.columns]
    past_b, past_a = before[before["as_of"] <= AS_OF][common], after[after["as_of"] <= AS_OF][common]
    pd.testing.assert_frame_equal(past_b.reset_index(drop=True), past_a.reset_index(drop=True))
    a_now = past_b[(past_b["as_of"] == AS_OF) & (past_b["account_id"] == "A")].iloc[0]
    assert a_now["events_30d"] == 100 and a_now["nps_last"] == 8  # not trivially empty
    later = after[(after["as_of"] > AS_OF) & (after["account_id"] == "A")].iloc[0]
    assert later["nps_last"] == 0 and later["products_held"] == 2  # later dates do see the new rows


def test_generated_outcomes_ignore_rows_after_the_window(wh):
    from retain.models.grid import ObservationGrid
    from retain.models.outcomes import outcome_table

    grid = ObservationGrid((AS_OF - dt.timedelta(days=90), AS_OF), AS_OF + dt.timedelta(days=200), None)
    _base(wh)
    before = wh.execute(outcome_table(wh, grid, horizon_days=90)).sort_values(["as_of", "account_id"])
    _future(wh, AS_OF)  # B ends 6 days after AS_OF: only the later window sees it
    after = wh.execute(outcome_table(wh, grid, horizon_days=90)).sort_values(["as_of", "account_id"])
    early_b = before[before["as_of"].dt.date < AS_OF].reset_index(drop=True)
    early_a = after[after["as_of"].dt.date < AS_OF].reset_index(drop=True)
    pd.testing.assert_frame_equal(early_b, early_a)
    late = after[after["as_of"].dt.date == AS_OF].set_index("account_id")["churned"]
    assert late.to_dict() == {"A": 0.0, "B": 1.0}


# -- contacts, deals and ticket resolution: point in time -----------------------------------------------------------

def _people(wh: Warehouse) -> None:
    """A's champion left 31 days before AS_OF, its primary user stays; an add-on deal is open; two tickets were
    resolved in 2 and 4 days."""
    ts = lambda day: pd.Timestamp(day, tz="UTC")  # noqa: E731
    _insert(wh, "contacts", [
        {"contact_id": "c1", "account_id": "A", "created_at": ts("2022-01-01"), "role": "champion",
         "left_at": ts("2023-05-01")},
        {"contact_id": "c2", "account_id": "A", "created_at": ts("2022-01-01"), "role": "user", "is_primary": True},
        {"contact_id": "c3", "account_id": "B", "created_at": ts("2022-03-01"), "role": "decision_maker"},
    ])
    _insert(wh, "opportunities", [
        {"opportunity_id": "o1", "account_id": "A", "created_at": ts("2023-04-01"), "opportunity_type": "add_on",
         "stage": "proposal"},
        {"opportunity_id": "o2", "account_id": "B", "created_at": ts("2023-01-01"), "opportunity_type": "add_on",
         "stage": "closed_lost", "closed_at": ts("2023-02-01"), "is_won": False},
    ])
    _insert(wh, "support_tickets", [
        {"ticket_id": "t1", "account_id": "A", "opened_at": ts("2023-05-01"), "resolved_at": ts("2023-05-03")},
        {"ticket_id": "t2", "account_id": "A", "opened_at": ts("2023-05-10"), "resolved_at": ts("2023-05-14")},
        {"ticket_id": "t3", "account_id": "A", "opened_at": ts("2023-05-30")},
    ])


def _people_later(wh: Warehouse, after: dt.date) -> None:
    """After ``after``: the primary user and B's decision maker leave, a contact joins, the deal closes, a new
    deal opens, the ticket opened before ``after`` is resolved."""
    ts = lambda days: pd.Timestamp(after + dt.timedelta(days=days), tz="UTC")  # noqa: E731
    wh.con.raw_sql(f"UPDATE contacts SET left_at = TIMESTAMPTZ '{ts(5)}' WHERE contact_id IN ('c2', 'c3')")
    wh.con.raw_sql(f"UPDATE opportunities SET closed_at = TIMESTAMPTZ '{ts(10)}', stage = 'closed_won', "
                   "is_won = TRUE WHERE opportunity_id = 'o1'")
    _insert(wh, "contacts", [{"contact_id": "c4", "account_id": "A", "created_at": ts(1), "role": "champion"}])
    _insert(wh, "opportunities", [{"opportunity_id": "o3", "account_id": "B", "created_at": ts(2),
                                   "opportunity_type": "add_on", "stage": "discovery"}])
    wh.con.raw_sql(f"UPDATE support_tickets SET resolved_at = TIMESTAMPTZ '{ts(20)}' WHERE ticket_id = 't3'")


def test_contacts_deals_and_resolution_point_in_time(wh):
    """Later contact changes (leavers, joiners), deal closes and ticket resolutions never reach earlier dates;
    the values on AS_OF are hand-checked and a later date does see the changes."""
    from retain.models.grid import ObservationGrid, regular_dates

    anchor = AS_OF + dt.timedelta(days=60)
    grid = ObservationGrid(regular_dates(dt.date(2022, 6, 1), anchor, step_days=30, horizon_days=30), anchor, 30)
    _base(wh)
    _people(wh)
    before = _generated(wh, grid)
    _people_later(wh, AS_OF)
    after = _generated(wh, grid)
    past_b, past_a = before[before["as_of"] <= AS_OF], after[after["as_of"] <= AS_OF]
    pd.testing.assert_frame_equal(past_b.reset_index(drop=True), past_a[past_b.columns].reset_index(drop=True))
    now = past_b[past_b["as_of"] == AS_OF].set_index("account_id")
    a, b = now.loc["A"], now.loc["B"]
    assert (a["contacts"], a["has_primary_contact"], a["contacts_left_180d"], a["champions_left_180d"]) == (1, 1, 1, 1)
    assert (b["contacts"], b["has_primary_contact"], b["champions_left_180d"]) == (1, 0, 0)
    assert (a["open_addon_opps"], b["open_addon_opps"]) == (1, 0)  # o2 closed before AS_OF
    assert a["resolution_days_90d"] == pytest.approx(3.0) and pd.isna(b["resolution_days_90d"])
    assert a["open_tickets"] == 1  # t3, resolved only later
    later = after[after["as_of"] == AS_OF + dt.timedelta(days=30)].set_index("account_id")
    a, b = later.loc["A"], later.loc["B"]
    assert (a["contacts"], a["has_primary_contact"], a["contacts_left_180d"]) == (1, 0, 2)  # c4 in, c2 out
    assert (b["contacts"], b["champions_left_180d"], b["open_addon_opps"]) == (0, 1, 1)
    assert a["open_addon_opps"] == 0
    assert a["resolution_days_90d"] == pytest.approx((2 + 4 + 22) / 3)  # t3: opened 05-30, resolved 06-21
