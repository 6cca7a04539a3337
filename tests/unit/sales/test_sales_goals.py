"""Goals: actual, pace and projection on the tiny company, by hand."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sales_tiny import DAY

from retain.errors import ConfigError
from retain.sales.goal_spec import Goal, GoalMetric, load_goal_spec
from retain.sales.goals import all_goals, progress

Q2 = dict(period_start_on=dt.date(2026, 4, 1), period_end_on=dt.date(2026, 6, 30))


def test_arr_goal_progress_pace_and_projection(sales_wh):
    goals = [Goal(goal_id="nb", metric=GoalMetric.NEW_BUSINESS_ARR, target=3000, **Q2),
             Goal(goal_id="r1", metric=GoalMetric.TOTAL_ARR, target=2000, member_id="r1", **Q2),
             Goal(goal_id="east", metric=GoalMetric.ADD_ON_ARR, target=1000, team="East", **Q2)]
    p = progress(sales_wh, DAY, goals).set_index("goal_id")
    # new business won in Q2 by 05-15: d3 (1,200); d2 is won on 06-10, after the day
    elapsed = 45 / 91  # 04-01..05-15 of 04-01..06-30
    assert p.loc["nb", "actual"] == pytest.approx(1200.0)
    assert p.loc["nb", "pace"] == pytest.approx(3000 * elapsed)
    assert p.loc["nb", "projected"] == pytest.approx(1200 / elapsed)
    spread = 1.645 * math.sqrt(1200**2 / 45 * 46)
    assert p.loc["nb", "projected_high"] == pytest.approx(1200 / elapsed + spread)
    assert p.loc["nb", "projected_low"] == pytest.approx(max(1200.0, 1200 / elapsed - spread))
    assert p.loc["r1", "actual"] == pytest.approx(1200.0)  # r1's deals only
    assert p.loc["east", "actual"] == pytest.approx(600.0)  # d4, Raj's add-on, in team East
    assert p.loc["east", "attainment"] == pytest.approx(0.6)


def test_units_and_add_on_share_of_a_product(sales_wh):
    goals = [Goal(goal_id="u", metric=GoalMetric.UNITS, product_id="new", target=10, **Q2),
             Goal(goal_id="s", metric=GoalMetric.ADD_ON_SHARE, product_id="new", target=0.7, **Q2)]
    p = progress(sales_wh, DAY, goals).set_index("goal_id")
    assert p.loc["u", "actual"] == pytest.approx(4.0)  # d3: quantity 3, d4: 1 (no quantity, no list price)
    assert p.loc["s", "actual"] == pytest.approx(0.25)  # 1 of 4 units sold as an add-on
    assert p.loc["s", "pace"] == pytest.approx(0.7)


def test_goals_after_the_day_are_left_out(sales_wh):
    later = Goal(goal_id="q3", metric=GoalMetric.CALLS, target=5, period_start_on=dt.date(2026, 7, 1),
                 period_end_on=dt.date(2026, 9, 30))
    assert progress(sales_wh, DAY, [later]).empty


def test_goal_file_errors_name_the_key(tmp_path):
    bad = tmp_path / "goals.yaml"
    bad.write_text("version: 1\ngoals:\n  - goal_id: g\n    metric: units\n    period_start_on: 2026-01-01\n"
                   "    period_end_on: 2026-12-31\n    target: 10\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_goal_spec(bad)
    assert "goals.0" in err.value.message and "product_id" in err.value.message


def test_demo_goals_apply_only_when_the_product_is_sold(sales_wh):
    goals, notes = all_goals(sales_wh)
    assert not [g for g in goals if g.product_id == "p_copilot"] and notes == []


def test_units_from_the_yearly_list_price_when_the_export_has_no_quantity(sales_wh):
    from sales_tiny import put, ts

    put(sales_wh, "products", [{"product_id": "seat", "name": "Seat", "list_mrr": 10.0}])
    put(sales_wh, "opportunities", [{"opportunity_id": "d9", "created_at": ts("2026-04-02"),
                                     "opportunity_type": "add_on", "stage": "closed_won", "owner_id": "r1",
                                     "amount": 360.0, "product_id": "seat", "closed_at": ts("2026-04-20"),
                                     "is_won": True}])
    goal = Goal(goal_id="u", metric=GoalMetric.UNITS, product_id="seat", target=12, **Q2)
    assert progress(sales_wh, DAY, [goal]).loc[0, "actual"] == pytest.approx(3.0)  # 360 / (10 x 12)


def test_retain_validate_recognises_a_goals_file(tmp_path):
    from retain.configs import detect_kind, validate_config
    from retain.sales.goal_spec import DEMO_GOALS

    assert detect_kind(DEMO_GOALS) == "sales_goals" and validate_config(DEMO_GOALS) == []
    bad = tmp_path / "goals.yaml"
    bad.write_text("version: 1\ngoals:\n  - goal_id: g\n    metric: add_on_share\n    product_id: p\n"
                   "    period_start_on: 2026-01-01\n    period_end_on: 2026-12-31\n    target: 70\n", encoding="utf-8")
    (issue,) = validate_config(bad)
    assert issue.key == "goals.0" and "fraction" in issue.message
