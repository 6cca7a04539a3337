"""Each plan metric on a hand-checkable company, as of a day: rows dated after it never count."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.unit.plans.plans_company import DAY, plan_company

from retain.action.plan_metrics import INLINE_ACCOUNTS, PlanMetric, metric_values


@pytest.fixture(scope="module")
def wh():
    return plan_company()


EXPECTED = {  # as of DAY, worked by hand from plans_company's docstring
    PlanMetric.LICENSE_UTILIZATION: {"p1": 4 * 30 / 30 / 10, "p2": 5 * 15 / 30 / 20},
    PlanMetric.ACTIVE_USERS: {"p1": 4.0, "p2": 2.5},  # a day's users: the largest feature count, not the sum
    PlanMetric.EVENTS_PER_MONTH: {"p1": 100.0 * 30, "p2": (7 + 3) * 15.0},  # the 'all' row, not all + reports
    PlanMetric.HEALTH_TOTAL: {"p1": 50.0, "p2": 80.0},
    PlanMetric.NPS: {"p1": 0.0},  # one promoter, one detractor; the later 10 is not known yet
    PlanMetric.ARR: {"p1": 12 * 1500.0, "p2": 12 * 200.0},  # p3 churned, p4 not a customer yet
    PlanMetric.PRODUCTS_HELD: {"p1": 2.0, "p2": 1.0},
    PlanMetric.IN_SERVICE: {"p1": 1.0, "p2": 1.0, "p3": 0.0},
}


@pytest.mark.parametrize("metric", list(PlanMetric))
def test_each_metric_as_of_the_day(wh, metric):
    assert metric_values(wh, metric, DAY) == pytest.approx(EXPECTED[metric])


def test_every_metric_of_the_vocabulary_is_checked():
    assert set(EXPECTED) == set(PlanMetric)


def test_later_rows_count_once_they_are_known(wh):
    later = DAY + dt.timedelta(days=25)  # 06-26..07-25: 5 days of 4 users, 19 of 8; the 40-seat upgrade
    assert metric_values(wh, PlanMetric.ACTIVE_USERS, later)["p1"] == pytest.approx((5 * 4 + 19 * 8) / 30)
    assert metric_values(wh, PlanMetric.LICENSE_UTILIZATION, later)["p1"] == pytest.approx((5 * 4 + 19 * 8) / 30 / 40)
    assert metric_values(wh, PlanMetric.HEALTH_TOTAL, later)["p1"] == 90.0
    assert metric_values(wh, PlanMetric.ARR, later)["p1"] == 12 * 2200.0
    assert metric_values(wh, PlanMetric.NPS, later)["p1"] == pytest.approx(100 * (2 / 3 - 1 / 3))
    assert metric_values(wh, PlanMetric.IN_SERVICE, later)["p4"] == 1.0


def test_a_list_of_accounts_restricts_the_rows_short_or_long(wh):
    assert metric_values(wh, PlanMetric.ARR, DAY, ["p2"]) == {"p2": 2400.0}
    many = ["p2"] + [f"nobody{i}" for i in range(INLINE_ACCOUNTS + 5)]  # the semi-join path
    assert metric_values(wh, PlanMetric.ARR, DAY, many) == {"p2": 2400.0}
