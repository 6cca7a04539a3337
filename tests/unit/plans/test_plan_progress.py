"""Success plans in the application database: start values at creation, progress and status from pace at each
refresh (one engine query per metric, whatever the number of plans), linked CTAs, edits, one active plan."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.unit.plans.plans_company import DAY, plan_company

from retain.action.plans import (
    ObjectiveStatus,
    account_plan,
    create_plan,
    objective_status,
    plan_summary,
    quarter_end,
    refresh_progress,
    update_objective,
)
from retain.errors import ArgumentError, NotFoundError
from retain.state.actions import Cta


@pytest.fixture(scope="module")
def wh():
    return plan_company()


def _by_metric(plan):
    return {o.metric: o for o in plan.objectives}


def test_a_plan_starts_from_the_values_as_of_its_day(db, wh):
    plan = create_plan(db, wh, "p1", DAY, by="tester")  # enterprise: the segment's template
    assert plan.template == "enterprise" and plan.created_by == "tester"
    o = _by_metric(plan)
    assert o["license_utilization"].start_value == pytest.approx(0.4)
    assert o["license_utilization"].target_value == 0.8
    assert o["license_utilization"].due_on == dt.date(2024, 9, 30)  # the end of the next quarter
    assert o["health_total"].start_value == 50.0 and o["health_total"].due_on == DAY + dt.timedelta(days=120)
    assert o["arr"].target_value == pytest.approx(18000 * 1.1)  # increase_pct: 10 above the start
    assert o["in_service"].due_on == o["arr"].due_on == dt.date(2024, 12, 31)  # the contract's end
    assert {x.status for x in plan.objectives} == {ObjectiveStatus.ON_TRACK.value}


def test_refresh_measures_as_of_the_day_and_sets_status_from_pace(db, wh):
    create_plan(db, wh, "p1", DAY)
    later = DAY + dt.timedelta(days=25)
    report = refresh_progress(db, wh, later)
    assert (report.plans, report.objectives) == (1, 4)
    o = _by_metric(account_plan(db, "p1").plan)
    # licence: 0.40 -> 0.143 after a 40-seat upgrade, 27 % of the time gone: more than 25 points behind
    assert o["license_utilization"].current_value == pytest.approx((5 * 4 + 19 * 8) / 30 / 40)
    assert o["license_utilization"].status == ObjectiveStatus.OFF_TRACK
    assert o["health_total"].current_value == 90.0 and o["health_total"].status == ObjectiveStatus.ACHIEVED
    assert o["arr"].current_value == 12 * 2200.0 and o["arr"].status == ObjectiveStatus.ACHIEVED
    assert o["in_service"].status == ObjectiveStatus.ON_TRACK  # held, not yet at the renewal date
    assert all(x.measured_on == later for x in o.values())
    summary = plan_summary(db, "p1")
    assert summary.status is ObjectiveStatus.OFF_TRACK
    assert summary.by_status == {"achieved": 2, "on_track": 1, "off_track": 1}
    assert "off track" in summary.line and str(summary) == summary.line


def test_a_plan_is_never_measured_before_it_was_created(db, wh):
    create_plan(db, wh, "p1", DAY)
    report = refresh_progress(db, wh, DAY - dt.timedelta(days=1))
    assert report.plans == 0
    assert _by_metric(account_plan(db, "p1").plan)["license_utilization"].measured_on == DAY


def test_one_engine_query_per_metric_whatever_the_number_of_plans(db, wh, monkeypatch):
    create_plan(db, wh, "p2", DAY)  # smb: the standard template (active_users, health_total, in_service)
    calls = []
    original = type(wh).execute
    monkeypatch.setattr(type(wh), "execute", lambda self, expr, **kw: calls.append(1) or original(self, expr, **kw))
    refresh_progress(db, wh, DAY)
    one = len(calls)
    create_plan(db, wh, "p3", dt.date(2024, 4, 1))  # also smb; churned since
    calls.clear()
    refresh_progress(db, wh, DAY)
    assert len(calls) == one <= 3 + 1  # three metrics (+1: the stored health dates)
    o = _by_metric(account_plan(db, "p3").plan)
    assert o["in_service"].current_value == 0.0 and o["in_service"].status == ObjectiveStatus.OFF_TRACK


def test_live_ctas_of_the_account_are_linked(db, wh):
    cta = Cta(account_id="p1", type="risk", reason="Health grade dropped", priority="high", due_on=DAY, status="open",
              open_key="p1|risk|Health grade dropped", rule="health_grade_drop", rule_version=1, auto_close="never",
              opened_on=DAY, last_fired_on=DAY)
    db.add(cta)
    db.commit()
    create_plan(db, wh, "p1", DAY)
    assert [c.id for c in account_plan(db, "p1").ctas] == [cta.id]
    later = Cta(account_id="p1", type="risk", reason="Usage falling", priority="high", due_on=DAY, status="open",
                open_key="p1|risk|Usage falling", rule="usage_falling", rule_version=1, auto_close="never",
                opened_on=DAY, last_fired_on=DAY)
    db.add(later)
    db.commit()
    assert refresh_progress(db, wh, DAY).linked == 1
    assert refresh_progress(db, wh, DAY).linked == 0
    assert [c.id for c in account_plan(db, "p1").ctas] == [cta.id, later.id]


def test_editing_a_target_recomputes_the_status(db, wh):
    plan = create_plan(db, wh, "p1", DAY)
    refresh_progress(db, wh, DAY + dt.timedelta(days=25))
    licence = _by_metric(plan)["license_utilization"]
    assert licence.status == ObjectiveStatus.OFF_TRACK
    edited = update_objective(db, plan.id, licence.id, target=0.1, by="tester")  # below the start: keep above it
    assert edited.target_value == 0.1 and edited.status == ObjectiveStatus.ON_TRACK
    with pytest.raises(ArgumentError, match="not after"):
        update_objective(db, plan.id, licence.id, due_on=DAY - dt.timedelta(days=1), by="tester")
    with pytest.raises(NotFoundError):
        update_objective(db, plan.id, 999_999, target=1.0, by="tester")


def test_one_active_plan_per_account_and_clear_mistakes(db, wh):
    create_plan(db, wh, "p2", DAY)
    with pytest.raises(ArgumentError, match="already has an active success plan"):
        create_plan(db, wh, "p2", DAY)
    with pytest.raises(ArgumentError, match="use one of enterprise, mid_market, standard"):
        create_plan(db, wh, "p1", DAY, "gold")
    with pytest.raises(NotFoundError, match="no account 'p4' known as of"):
        create_plan(db, wh, "p4", DAY)  # a customer only after the day
    with pytest.raises(ArgumentError, match="no subscription in service as of 2024-06-30"):
        create_plan(db, wh, "p3", DAY)  # churned on 2024-05-01
    assert plan_summary(db, "p1") is None and account_plan(db, "p1") is None


@pytest.mark.parametrize(("start", "current", "target", "day_n", "expected"), [
    (0.4, 0.8, 0.8, 10, ObjectiveStatus.ACHIEVED),
    (0.4, 0.6, 0.8, 50, ObjectiveStatus.ON_TRACK),  # half the way, half the time
    (0.4, 0.52, 0.8, 50, ObjectiveStatus.AT_RISK),  # 30 % of the way, half the time
    (0.4, 0.4, 0.8, 50, ObjectiveStatus.OFF_TRACK),
    (0.4, 0.7, 0.8, 100, ObjectiveStatus.OFF_TRACK),  # the date passed, not reached
    (1.0, 1.0, 1.0, 50, ObjectiveStatus.ON_TRACK),  # keep it: held before the date
    (1.0, 1.0, 1.0, 100, ObjectiveStatus.ACHIEVED),  # held on the date
    (1.0, 0.0, 1.0, 50, ObjectiveStatus.OFF_TRACK),  # lost
    (0.4, None, 0.8, 50, ObjectiveStatus.NO_DATA),
])
def test_status_from_pace(start, current, target, day_n, expected):
    start_on = dt.date(2024, 1, 1)
    due_on = start_on + dt.timedelta(days=100)
    assert objective_status(start, current, target, start_on, due_on, start_on + dt.timedelta(days=day_n)) is expected


def test_quarter_ends():
    assert quarter_end(dt.date(2024, 6, 30)) == dt.date(2024, 6, 30)
    assert quarter_end(dt.date(2024, 6, 30), 1) == dt.date(2024, 9, 30)
    assert quarter_end(dt.date(2024, 11, 2), 1) == dt.date(2025, 3, 31)
    assert quarter_end(dt.date(2024, 12, 31)) == dt.date(2024, 12, 31)


def test_the_main_job_section_refreshes_every_plan(db, wh, tmp_path):
    from retain.jobs.plans import plans_section

    create_plan(db, wh, "p1", DAY)
    section = plans_section(wh, db, DAY + dt.timedelta(days=25))
    assert (section.plans, section.objectives, section.empty) == (1, 4, False)
    assert section.by_status == {"off_track": 1, "achieved": 2, "on_track": 1}
    empty = plans_section(wh, f"sqlite:///{tmp_path / 'other.sqlite'}", DAY)  # a URL: opened and migrated
    assert empty.empty and empty.by_status == {}


def test_a_task_of_another_function_can_be_linked_to_an_objective(db, wh):
    from retain.action.plans import link
    from retain.state.actions import CtaTask
    from retain.state.plans import LinkKind

    cta = Cta(account_id="p2", type="lifecycle", reason="Low adoption", priority="low", due_on=DAY, status="done",
              rule="low_adoption", rule_version=1, auto_close="never", opened_on=DAY, last_fired_on=DAY)
    cta.tasks.append(CtaTask(seq=1, title="Send the adoption guide", role="marketing", due_on=DAY, status="open"))
    db.add(cta)
    db.commit()
    plan = create_plan(db, wh, "p1", DAY)
    users = _by_metric(plan)["license_utilization"]
    link(db, plan.id, LinkKind.TASK, cta.tasks[0].id, objective_id=users.id, by="tester")
    view = account_plan(db, "p1")
    assert [t.title for t in view.tasks] == ["Send the adoption guide"] and view.ctas == []  # a closed CTA: not linked
    assert view.plan.links[0].objective_id == users.id
    with pytest.raises(NotFoundError, match="no task 999999"):
        link(db, plan.id, LinkKind.TASK, 999_999)
