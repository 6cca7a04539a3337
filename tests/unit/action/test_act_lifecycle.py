"""The CTA lifecycle on SQLite and PostgreSQL: dedupe, snooze, auto-close, cooldown, escalation, routing, tasks,
idempotence and the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from tests.unit.action.act_company import DAY, company, health, one_rule, put, rules_file, ts

from retain.action import act, load_rules
from retain.action.lifecycle import complete, dismiss, list_ctas, snooze, task_done
from retain.errors import ArgumentError, NotFoundError
from retain.state.actions import Cta, CtaStatus, CtaTask
from retain.state.models import AuditEvent

WEEK = dt.timedelta(days=7)
CRITICAL = "{kind: critical_factor}"


def ctas(db) -> list[Cta]:
    db.expire_all()
    return list(db.scalars(select(Cta).order_by(Cta.id)))


def audit_actions(db) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def wh():
    wh = company()
    health(wh, DAY, {"a1": (35, "red", "champion_left"), "a2": (80, "green")})
    return wh


def test_a_cta_is_created_once_and_a_second_run_changes_nothing(db, wh, tmp_path):
    config = one_rule(tmp_path, CRITICAL)
    first = act(wh, db, DAY, config)
    assert first.total("created") == 1 and first.by_owner()["owner_id"].tolist() == ["r1"]
    (cta,) = ctas(db)
    assert (cta.account_id, cta.type, cta.reason, cta.status, cta.rule, cta.rule_version) == (
        "a1", "risk", "Something to do", "open", "r", 1)
    assert cta.due_on == DAY + dt.timedelta(days=5) and cta.evidence["critical_factor"] == "champion_left"
    assert cta.priority == "medium" and cta.value == 12_000  # ARR 12,000: medium from 10,000
    second = act(wh, db, DAY, config)
    assert second.changed == 0 and len(ctas(db)) == 1
    assert audit_actions(db) == ["cta.created"]


def test_the_same_account_type_and_reason_updates_the_open_cta(db, wh, tmp_path):
    config = one_rule(tmp_path, CRITICAL)
    act(wh, db, DAY, config)
    health(wh, DAY + WEEK, {"a1": (20, "red", "payment_failed")})
    report = act(wh, db, DAY + WEEK, config)
    assert report.total("created") == 0 and report.total("updated") == 1
    (cta,) = ctas(db)
    assert "payment_failed" in cta.detail and cta.last_fired_on == DAY + WEEK
    assert cta.evidence["critical_factor"] == "champion_left"  # frozen at firing
    assert audit_actions(db) == ["cta.created", "cta.updated"]


def test_the_database_refuses_a_second_live_cta_with_the_same_key(db, wh, tmp_path):
    act(wh, db, DAY, one_rule(tmp_path, CRITICAL))
    (cta,) = ctas(db)
    db.add(Cta(account_id="a1", type=cta.type, reason=cta.reason, priority="low", due_on=DAY, status="open",
               open_key=cta.open_key, rule="r", rule_version=1, auto_close="never", opened_on=DAY,
               last_fired_on=DAY))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_a_snoozed_cta_does_not_refire_until_its_day(db, wh, tmp_path):
    config = one_rule(tmp_path, CRITICAL)
    act(wh, db, DAY, config)
    (cta,) = ctas(db)
    snooze(db, cta.id, DAY + dt.timedelta(days=20), "customer on holiday", "cleo", day=DAY)
    report = act(wh, db, DAY + WEEK, config)
    assert report.changed == 0 and report.snoozed_kept == 1
    assert ctas(db)[0].status == CtaStatus.SNOOZED
    report = act(wh, db, DAY + dt.timedelta(days=21), config)
    assert report.total("reopened") == 1 and report.total("created") == 0
    (cta,) = ctas(db)
    assert cta.status == CtaStatus.OPEN and cta.snoozed_until is None
    with pytest.raises(ArgumentError, match="not after"):
        snooze(db, cta.id, DAY, "too late", "cleo", day=DAY + WEEK)


def test_a_cta_whose_signal_clears_auto_closes_and_can_fire_again(db, wh, tmp_path):
    config = one_rule(tmp_path, CRITICAL)
    act(wh, db, DAY, config)
    health(wh, DAY + WEEK, {"a1": (70, "green")})
    report = act(wh, db, DAY + WEEK, config)
    assert report.total("auto_closed") == 1
    (cta,) = ctas(db)
    assert (cta.status, cta.closed_on, cta.open_key) == ("auto_closed", DAY + WEEK, None)
    assert "signal cleared" in cta.status_reason
    health(wh, DAY + 2 * WEEK, {"a1": (30, "red", "champion_left")})
    assert act(wh, db, DAY + 2 * WEEK, config).total("created") == 1
    assert [c.status for c in ctas(db)] == ["auto_closed", "open"]
    assert audit_actions(db) == ["cta.created", "cta.auto_closed", "cta.created"]


def test_a_rule_set_to_never_auto_close_keeps_its_cta(db, wh, tmp_path):
    config = one_rule(tmp_path, CRITICAL, extra="auto_close: never\n")
    act(wh, db, DAY, config)
    health(wh, DAY + WEEK, {"a1": (70, "green")})
    assert act(wh, db, DAY + WEEK, config).total("auto_closed") == 0


def test_a_rule_that_could_not_run_closes_nothing(db, wh, tmp_path):
    config = one_rule(tmp_path, CRITICAL)
    act(wh, db, DAY, config)
    report = act(wh, db, DAY + dt.timedelta(days=60), config)  # no health within 35 days: the rule is skipped
    assert "r" in report.skipped_rules and report.total("auto_closed") == 0
    assert ctas(db)[0].status == "open"


def test_done_or_dismissed_does_not_refire_within_the_cooldown(db, wh, tmp_path):
    config = one_rule(tmp_path, CRITICAL, cooldown_days=14)
    act(wh, db, DAY, config)
    complete(db, ctas(db)[0].id, "cleo", day=DAY)
    report = act(wh, db, DAY + WEEK, config)
    assert report.total("created") == 0 and report.cooling_down == 1
    health(wh, DAY + 3 * WEEK, {"a1": (30, "red", "champion_left")})
    assert act(wh, db, DAY + 3 * WEEK, config).total("created") == 1
    with pytest.raises(ArgumentError, match="needs a reason"):
        dismiss(db, ctas(db)[1].id, " ", "cleo")
    dismiss(db, ctas(db)[1].id, "renewal already signed", "cleo", day=DAY + 3 * WEEK)
    assert [(c.status, c.status_reason) for c in ctas(db)] == [("done", None),
                                                                ("dismissed", "renewal already signed")]
    with pytest.raises(ArgumentError, match="only an open or snoozed"):
        complete(db, ctas(db)[1].id, "cleo")
    with pytest.raises(NotFoundError):
        complete(db, 999, "cleo")


def test_an_overdue_cta_escalates_to_the_owners_manager_once(db, wh, tmp_path):
    config = one_rule(tmp_path, CRITICAL, escalate_after_days=7)  # due 5 days after firing
    act(wh, db, DAY, config)
    assert act(wh, db, DAY + dt.timedelta(days=11), config).total("escalated") == 0  # overdue by 6 days
    report = act(wh, db, DAY + dt.timedelta(days=12), config)
    assert report.total("escalated") == 1
    (cta,) = ctas(db)
    assert (cta.owner_id, cta.escalated_to, cta.escalated_on) == ("r1", "m1", DAY + dt.timedelta(days=12))
    assert act(wh, db, DAY + dt.timedelta(days=13), config).total("escalated") == 0
    assert [c.id for c in list_ctas(db, owner="m1")] == [cta.id]  # the manager sees what was escalated to her


def test_owners_by_role_with_fallback_and_round_robin_for_unowned_accounts(db, tmp_path):
    wh = company()
    health(wh, DAY, {a: (30, "red", "champion_left") for a in ("a1", "a2", "a3", "a4", "a5")})
    act(wh, db, DAY, one_rule(tmp_path, CRITICAL, owner="csm"))
    owners = {c.account_id: (c.owner_id, c.routed_by) for c in ctas(db)}
    assert owners == {
        "a1": ("c1", "csm"), "a3": ("c2", "csm"),
        "a2": ("r1", "fallback:account_owner"),  # no CSM: the account owner
        "a4": ("c1", "round_robin"),  # its owner left the team: CSMs in turn (c1, c2), by account
        "a5": ("c2", "round_robin"),
    }
    # a second rule on an unowned account goes to whoever already holds one; new unowned accounts resume the turn
    put(wh, "accounts", [{"account_id": a, "name": a, "segment": "smb", "created_at": ts("2023-01-02")}
                         for a in ("a6", "a7")])
    put(wh, "subscriptions", [{"subscription_id": f"s_{a}", "account_id": a, "product_id": "core", "mrr": 10.0,
                               "started_on": dt.date(2023, 1, 2)} for a in ("a6", "a7")])
    health(wh, DAY + WEEK, {a: (30, "red", "champion_left") for a in ("a4", "a6", "a7")})
    config = load_rules(rules_file(tmp_path, """\
        - {name: other, type: risk, reason: Another reason, trigger: {kind: critical_factor}, owner: csm}
        """))
    act(wh, db, DAY + WEEK, config)
    later = {c.account_id: c.owner_id for c in ctas(db) if c.rule == "other"}
    assert later == {"a4": "c1", "a6": "c1", "a7": "c2"}  # c2 had the last turn: c1, then c2


def test_the_manager_role_routes_to_the_account_owners_manager(db, wh, tmp_path):
    act(wh, db, DAY, one_rule(tmp_path, CRITICAL, owner="manager"))
    assert [(c.owner_id, c.routed_by) for c in ctas(db)] == [("m1", "manager")]


def test_a_playbook_creates_ordered_tasks_by_role_and_they_can_be_checked_off(db, wh, tmp_path):
    (tmp_path / "plays.yaml").write_text("""\
version: 1
playbooks:
  save:
    title: Save the account
    tasks:
      - {title: Call the champion, role: csm, due_days: 1}
      - {title: Renewal call, role: rep, due_days: 3}
      - {title: Sponsor outreach, role: executive_sponsor, due_days: 7}
      - {title: Check the tickets, role: support}
""", encoding="utf-8")
    config = one_rule(tmp_path, CRITICAL, extra="playbook: save\n", playbooks_file="plays.yaml")
    act(wh, db, DAY, config)
    (cta,) = ctas(db)
    got = [(t.seq, t.title, t.role, t.assignee_id, t.due_on) for t in cta.tasks]
    assert got == [(1, "Call the champion", "csm", "c1", DAY + dt.timedelta(days=1)),
                   (2, "Renewal call", "rep", "r1", DAY + dt.timedelta(days=3)),
                   (3, "Sponsor outreach", "executive_sponsor", "m1", DAY + dt.timedelta(days=7)),
                   (4, "Check the tickets", "support", None, DAY)]
    task = task_done(db, cta.tasks[0].id, "cleo")
    assert (task.status, task.done_by) == ("done", "cleo") and task.done_at is not None
    with pytest.raises(ArgumentError, match="already done"):
        task_done(db, cta.tasks[0].id, "cleo")
    with pytest.raises(NotFoundError):
        task_done(db, 12345, "cleo")
    assert db.scalar(select(func.count()).select_from(CtaTask)) == 4
    assert audit_actions(db)[-1] == "task.done"
