"""Deal warnings on the tiny company, checked by hand."""

from __future__ import annotations

from sales_tiny import DAY

from retain.sales.features import deal_features
from retain.sales.warnings import DealWarning, WarningRules, describe, with_warnings


def warned(wh, rules=WarningRules()):
    frame = wh.execute(with_warnings(deal_features(wh, [DAY]), rules))
    return {r.opportunity_id: set(filter(None, r.warnings.split(","))) for r in frame.itertuples()}, frame


def test_warnings_fire_by_their_rules(sales_wh):
    got, frame = warned(sales_wh)
    # d1: last activity 20.5 days ago, close date 05-01 passed, a decision maker replied, two contacts
    assert got["d1"] == {DealWarning.NO_ACTIVITY.value, DealWarning.CLOSE_DATE_PASSED.value}
    # d2: 15 days old, no activity at all (too young for no reply / no decision maker)
    assert got["d2"] == {DealWarning.NO_ACTIVITY.value}
    assert dict(zip(frame.opportunity_id, frame.warning_count, strict=True)) == {"d1": 2, "d2": 1}


def test_thresholds_move_the_warnings(sales_wh):
    rules = WarningRules(no_activity_days=30, no_reply_days=10, no_decision_maker_days=10, stalled_factor=0.5)
    got, _ = warned(sales_wh, rules)
    assert got["d1"] == {"close_date_passed", "stalled"}  # 25.5 days in proposal > 0.5 x 25
    assert got["d2"] == {"no_buyer_reply", "no_decision_maker", "stalled"}  # 15.5 days > 0.5 x 16.5


def test_single_contact_and_words():
    assert describe("no_activity,single_contact") == "no activity lately; a single contact engaged"
    assert describe("") == ""
