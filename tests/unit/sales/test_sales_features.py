"""Point-in-time deal features: only what was known at the end of the snapshot day (hand-checked)."""

from __future__ import annotations

import datetime as dt

import pytest
from sales_tiny import DAY

from retain.sales.features import deal_features


def features(wh, day=DAY):
    frame = wh.execute(deal_features(wh, [day]))
    return frame.set_index("opportunity_id")


def test_only_deals_open_at_the_end_of_the_day(sales_wh):
    f = features(sales_wh)
    assert set(f.index) == {"d1", "d2"}  # d3, d4, d5 closed by then; d2 closes later, so it is open
    assert set(features(sales_wh, dt.date(2026, 4, 9)).index) == {"d1", "d3", "d5", "d4"}


def test_a_deal_won_later_shows_its_stage_probability_and_amount_as_they_stood(sales_wh):
    d2 = features(sales_wh).loc["d2"]
    assert d2["stage"] == "prospecting"  # proposal on 06-01 and the win on 06-10 are after the day
    assert d2["crm_probability"] == pytest.approx(0.1)  # not the export's final 1.0
    assert d2["amount"] == pytest.approx(5000.0)  # not the later 6,000
    assert d2["activities"] == 0 and d2["stage_entries"] == 1


def test_activities_after_the_day_are_not_counted(sales_wh):
    d1 = features(sales_wh).loc["d1"]
    assert d1["activities"] == 2 and d1["follow_ups"] == 1 and d1["buyer_replies"] == 1
    assert d1["contacts_engaged"] == 2 and d1["decision_maker"] == 1
    assert d1["days_since_activity"] == pytest.approx(20.5)  # 04-25 12:00 to the end of 05-15
    assert d1["days_in_stage"] == pytest.approx(25.5)  # proposal since 04-20 12:00
    assert d1["amount_changes"] == 1 and d1["amount_change_pct"] == pytest.approx(0.25)
    assert features(sales_wh, dt.date(2026, 5, 31)).loc["d1", "activities"] == 3


def test_stage_order_and_typical_time_are_learned_from_the_history_known_then(sales_wh):
    f = features(sales_wh)
    assert f.loc["d1", "stage_position"] > f.loc["d2", "stage_position"]  # proposal after prospecting
    # spans ended by the day: d1 prospecting 19 days, d5 prospecting 14 days and proposal 25 days
    assert f.loc["d2", "typical_days_in_stage"] == pytest.approx(16.5)
    assert f.loc["d1", "typical_days_in_stage"] == pytest.approx(25.0)
