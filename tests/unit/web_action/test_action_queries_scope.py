"""Who sees which CTA, task and note, decided in SQL, on SQLite and PostgreSQL; changes checked against the scope."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from tests.unit.web_action.today_seed import CTAS, DAY, add_ctas, warehouse

from retain.errors import ArgumentError, NotFoundError
from retain.state import action_queries as aq
from retain.state.actions import CtaTask
from retain.state.models import AuditEvent, Role
from retain.state.publish import publish
from retain.state.queries import Scope

RITA, RAJ, OLGA, MIA = Scope(Role.MEMBER, "r1"), Scope(Role.MEMBER, "r2"), Scope(Role.MEMBER, "r3"), \
    Scope(Role.MANAGER, "m1")
LIVE = {k for k, v in CTAS.items() if v[4] == "open"}


@pytest.fixture(scope="module")
def wh():
    return warehouse()


@pytest.fixture
def ids(db, wh):
    publish(wh, db, DAY)
    return add_ctas(db)


def keys(ids: dict[str, int], ctas) -> set[str]:
    by_id = {v: k for k, v in ids.items()}
    return {by_id[c.id] for c in ctas}


@pytest.mark.parametrize(("scope", "expected"), [
    (RITA, {"rita_high", "rita_overdue"}),
    (RAJ, {"raj_escalated"}),  # a4 is Raj's account and his CTA
    (OLGA, {"olga_low", "unowned"}),  # the unowned CTA is on Olga's account a6
    (MIA, {"rita_high", "rita_overdue", "raj_escalated"}),  # her team tree, escalations to her included
    (Scope.admin(), LIVE),
    (Scope(Role.MEMBER, None), set()),
])
def test_each_role_lists_exactly_the_ctas_in_its_scope(db, ids, scope, expected):
    page = aq.list_ctas(db, scope, aq.CtaQuery())
    assert keys(ids, page.items) == expected and page.total == len(expected)
    for key in CTAS:  # the same answer one by one: out of scope is a 404, as if missing
        if key in expected:
            assert aq.get_cta(db, scope, ids[key]).id == ids[key]
        elif key != "rita_done" or scope.role is Role.MEMBER and scope.member_id != "r1":
            with pytest.raises(NotFoundError):
                aq.get_cta(db, scope, ids[key])


def test_filters_order_and_pages(db, ids):
    admin = Scope.admin()
    ordered = aq.list_ctas(db, admin, aq.CtaQuery()).items
    assert [c.priority for c in ordered] == ["critical", "high", "medium", "medium", "low"]
    assert [c.due_on for c in ordered[2:4]] == sorted(c.due_on for c in ordered[2:4])  # same priority: by due day
    assert keys(ids, aq.list_ctas(db, admin, aq.CtaQuery(status="done")).items) == {"rita_done"}
    assert keys(ids, aq.list_ctas(db, admin, aq.CtaQuery(owner="m1")).items) == {"raj_escalated"}  # escalated to
    assert keys(ids, aq.list_ctas(db, admin, aq.CtaQuery(type="opportunity")).items) == {"olga_low"}
    assert keys(ids, aq.list_ctas(db, admin, aq.CtaQuery(account="a1")).items) == {"rita_high"}
    assert keys(ids, aq.list_ctas(db, admin, aq.CtaQuery(due_before=DAY)).items) == {"rita_overdue",
                                                                                     "raj_escalated"}
    assert keys(ids, aq.list_ctas(db, admin, aq.CtaQuery(escalated=True)).items) == {"raj_escalated"}
    second = aq.list_ctas(db, admin, aq.CtaQuery(per_page=2, page=2))
    assert [c.id for c in second.items] == [c.id for c in ordered[2:4]] and second.pages == 3
    assert keys(ids, aq.list_ctas(db, RITA, aq.CtaQuery(owner="r3")).items) == set()  # a filter never widens


def test_today_is_the_persons_own_ctas_and_tasks_and_counts(db, ids):
    view = aq.today(db, "r1", aq.TodayFilter())
    assert view.day == DAY and [c.id for c in view.ctas] == [ids["rita_high"], ids["rita_overdue"]]
    assert view.counts == {"open": 2, "snoozed": 0, "overdue": 1, "escalated": 0}
    assert [t.title for t in view.tasks] == ["Review usage with Raj"]  # on Raj's CTA, assigned to Rita
    assert view.names == {"a1": "Acme Corp", "a2": "Globex", "a4": "北京云端科技有限公司"}
    overdue = aq.today(db, "r1", aq.TodayFilter(due="overdue"))
    assert [c.id for c in overdue.ctas] == [ids["rita_overdue"]] and overdue.overdue(overdue.ctas[0])
    mia = aq.today(db, "m1", aq.TodayFilter())
    assert [c.id for c in mia.ctas] == [ids["raj_escalated"]] and mia.counts["escalated"] == 1
    assert aq.needs_attention(db, "r1") == 2 and aq.needs_attention(db, None) == 0


def test_changes_are_scoped_audited_and_follow_the_lifecycle(db, ids):
    with pytest.raises(NotFoundError):  # Olga cannot touch Rita's CTA: it does not exist for her
        aq.update_cta(db, OLGA, ids["rita_high"], aq.CtaUpdate(status="done"), "olga")
    until = DAY + dt.timedelta(days=7)
    cta = aq.update_cta(db, RITA, ids["rita_high"], aq.CtaUpdate(status="snoozed", until=until, reason="holiday"),
                        "rita")
    assert (cta.status, cta.snoozed_until, cta.status_reason) == ("snoozed", until, "holiday")
    assert aq.today(db, "r1", aq.TodayFilter()).counts == {"open": 1, "snoozed": 1, "overdue": 1, "escalated": 0}
    with pytest.raises(ValidationError, match="a dismissal needs a reason"):
        aq.CtaUpdate(status="dismissed")
    with pytest.raises(ValidationError, match="string_pattern_mismatch"):  # blank is no reason
        aq.CtaUpdate(status="dismissed", reason="   ")
    with pytest.raises(ArgumentError, match="only an open or snoozed CTA"):  # done before: no second close
        aq.update_cta(db, RITA, ids["rita_done"], aq.CtaUpdate(status="dismissed", reason="dup"), "rita")
    assert aq.update_cta(db, RITA, ids["rita_overdue"], aq.CtaUpdate(status="done"), "rita").closed_on == DAY
    task = db.scalar(select(CtaTask).where(CtaTask.title == "Review usage with Raj"))
    with pytest.raises(NotFoundError):
        aq.task_done(db, OLGA, task.id, "olga")
    assert aq.task_done(db, RITA, task.id, "rita").done_by == "rita"  # assigned to her, on Raj's CTA
    actions = list(db.scalars(select(AuditEvent.action).where(AuditEvent.actor == "rita").order_by(AuditEvent.id)))
    assert actions == ["cta.snoozed", "cta.done", "task.done"]  # the refused changes left no trace


def test_only_managers_and_admins_reassign_within_their_tree(db, ids):
    with pytest.raises(ArgumentError, match="only a manager or an admin"):
        aq.update_cta(db, RITA, ids["rita_high"], aq.CtaUpdate(owner_id="r2"), "rita")
    with pytest.raises(NotFoundError, match="no such member in your team"):
        aq.update_cta(db, MIA, ids["rita_high"], aq.CtaUpdate(owner_id="r3"), "mia")  # Olga is not in Mia's tree
    cta = aq.update_cta(db, MIA, ids["rita_high"], aq.CtaUpdate(owner_id="r2"), "mia")
    assert (cta.owner_id, cta.routed_by) == ("r2", "reassigned")
    assert aq.update_cta(db, Scope.admin(), ids["rita_high"], aq.CtaUpdate(owner_id="r3"), "admin").owner_id == "r3"
    with pytest.raises(NotFoundError):
        aq.update_cta(db, Scope.admin(), ids["rita_high"], aq.CtaUpdate(owner_id="nobody"), "admin")
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "cta.reassigned", AuditEvent.actor == "mia"))
    assert event.detail == {"from": "r1", "to": "r2"}


def test_team_actions_count_per_owner_in_the_tree(db, ids):
    rows = {r["owner_id"]: r for r in aq.team_actions(db, MIA)}
    assert set(rows) == {"r1", "r2"}
    assert (rows["r2"]["open"], rows["r2"]["overdue"], rows["r2"]["escalated"]) == (1, 1, 1)
    assert (rows["r1"]["open"], rows["r1"]["overdue"], rows["r1"]["escalated"]) == (2, 1, 0)
    assert rows["r2"]["owner_name"] == "Raj Rep" and rows["r2"]["avg_health_change"] == pytest.approx(-7.0)
    assert {r["owner_id"] for r in aq.team_actions(db, Scope.admin())} == {"r1", "r2", "r3", None}
    escalated, names = aq.escalations(db, MIA)
    assert [c.id for c in escalated] == [ids["raj_escalated"]] and names == {"a4": "北京云端科技有限公司"}
    assert aq.escalations(db, OLGA)[0] == []


def test_health_review_lists_at_risk_accounts_with_their_ctas_and_touches(db, ids):
    rows = aq.health_review(db, Scope.admin())
    assert [r["account"].account_id for r in rows] == ["a4", "a6"]  # at risk, largest ARR first
    assert [c.id for c in rows[0]["ctas"]] == [ids["raj_escalated"]] and [c.id for c in rows[1]["ctas"]] == [
        ids["unowned"]]
    assert [r["account"].account_id for r in aq.health_review(db, OLGA)] == ["a6"]
    assert aq.health_review(db, RITA) == []
    assert rows[0]["touches"] == []  # nobody touched a4


def test_publish_keeps_each_accounts_key_people_and_last_touch_by_team(db, ids):
    from retain.state.queries import get_account

    detail = get_account(db, RITA, "a1").detail
    assert [(p["name"], p["role"], p["left_at"] is not None) for p in detail["people"]] == [
        ("Ann Champion", "champion", True), ("Dan Decider", "decision_maker", False)]  # Una User is no key role
    assert [(t["team"], t["kind"], t["who"], t["at"][:10]) for t in detail["touches"]] == [
        ("csm", "qbr", "Rita Rep", "2024-06-15")]


def test_notes_need_the_account_in_scope_and_join_the_timeline(db, ids):
    note = aq.add_note(db, RITA, "a1", "  Called Dan: renewal on track  ", "rita")
    assert note.body == "Called Dan: renewal on track"
    with pytest.raises(NotFoundError):
        aq.add_note(db, OLGA, "a1", "hello", "olga")
    with pytest.raises(NotFoundError):
        aq.account_notes(db, OLGA, "a1")
    with pytest.raises(ArgumentError, match="needs some text"):
        aq.add_note(db, RITA, "a1", "   ", "rita")
    with pytest.raises(ArgumentError, match="at most 4,000"):
        aq.add_note(db, RITA, "a1", "x" * 4001, "rita")
    with pytest.raises(ArgumentError, match="control characters"):
        aq.add_note(db, RITA, "a1", "bad\x00note", "rita")
    assert [n.body for n in aq.account_notes(db, MIA, "a1")] == ["Called Dan: renewal on track"]
    events = aq.notes.timeline([{"at": "2024-06-15T00:00:00+00:00", "kind": "qbr", "title": "QBR", "detail": ""}],
                               aq.account_notes(db, RITA, "a1"))
    assert [e["kind"] for e in events] == ["note", "qbr"] and events[0]["title"] == "Note by rita"
    assert db.scalar(select(AuditEvent.target).where(AuditEvent.action == "note.added")) == "account:a1"


def test_the_health_review_shows_the_accounts_success_plan_in_one_line(db, ids):
    from retain.state.plans import SuccessPlan

    assert aq.plan_line(db, "a4") is None
    db.add(SuccessPlan(account_id="a4", active_key="a4", title="Save the renewal", created_on=DAY))
    db.commit()
    line = aq.plan_line(db, "a4")
    assert line.startswith("Save the renewal: ") and "0 objectives" in line
    assert [r["plan"] for r in aq.health_review(db, Scope.admin())] == [line, None]
