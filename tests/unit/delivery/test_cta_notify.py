"""``retain act`` writes alerts for critical CTAs and daily digests in the same transaction as the CTAs."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from tests.unit.action.act_company import DAY, company, health, one_rule

from retain.action import act
from retain.delivery.notify import enqueue_cta_notifications
from retain.delivery.settings import DeliverySettings
from retain.state import users
from retain.state.actions import Cta
from retain.state.models import TeamMember
from retain.state.outbox import OutboxMessage


@pytest.fixture
def wh():
    wh = company()
    health(wh, DAY, {"a1": (35, "red", "champion_left"), "a3": (30, "red", "payment_failed"), "a2": (80, "green")})
    return wh


@pytest.fixture
def people(db):
    db.add_all([TeamMember(member_id="r1", name="Rita Rep", email="rita@vendor.example"),
                TeamMember(member_id="m1", name="Mia Manager", email=None)])
    db.commit()
    users.create_user(db, "rita", "rita-password", "member", member_id="r1")
    users.create_user(db, "mia", "mia-password", "manager", member_id="m1")
    users.create_user(db, "root", "root-password", "admin")


def outbox(db) -> dict[str, OutboxMessage]:
    db.expire_all()
    return {m.idempotency_key: m for m in db.scalars(select(OutboxMessage))}


def test_act_writes_alerts_and_digests_once_with_its_ctas(db, wh, people, tmp_path, monkeypatch):
    monkeypatch.setenv("RETAIN_WEBHOOK_URLS", '{"mia": "http://127.0.0.1:9/mia"}')
    monkeypatch.setenv("RETAIN_WEBHOOK_URL", "http://127.0.0.1:9/team-channel")
    config = one_rule(tmp_path, "{kind: critical_factor}", extra="priority: critical\n")
    act(wh, db, DAY, config)
    ctas = {c.account_id: c for c in db.scalars(select(Cta))}
    assert {c.owner_id for c in ctas.values()} == {"r1"} and len(ctas) == 2
    sent = outbox(db)
    a1, a3 = ctas["a1"].id, ctas["a3"].id
    assert set(sent) == {f"cta_alert:{a1}:rita", f"cta_alert:{a3}:rita", f"cta_alert:{a1}:webhook",
                         f"cta_alert:{a3}:webhook", f"digest:rita:{DAY.isoformat()}"}
    alert = sent[f"cta_alert:{a1}:rita"]
    assert (alert.channel, alert.recipient, alert.kind, alert.customer_facing, alert.status) == (
        "email", "rita@vendor.example", "cta_alert", False, "pending")
    assert alert.subject == "Critical: a1: Something to do"  # the account name once published
    assert sent[f"cta_alert:{a1}:webhook"].recipient == "http://127.0.0.1:9/team-channel"
    digest = sent[f"digest:rita:{DAY.isoformat()}"]
    assert "2 open call(s) to action" in digest.text and len(digest.payload["ctas"]) == 2
    act(wh, db, DAY, config)  # idempotent: nothing new the second time
    assert set(outbox(db)) == set(sent)


def test_messages_roll_back_with_the_ctas(db, wh, people, tmp_path):
    config = one_rule(tmp_path, "{kind: critical_factor}", extra="priority: critical\n")
    from retain.action.evaluate import evaluate
    from retain.action.store import sync

    evaluation = evaluate(wh, DAY, config)
    original = db.commit
    db.commit = lambda: (_ for _ in ()).throw(RuntimeError("the database went away"))  # the commit fails
    with pytest.raises(RuntimeError):
        sync(db, evaluation, config)
    db.commit = original
    db.rollback()
    assert db.scalars(select(Cta)).all() == [] and outbox(db) == {}


def test_digest_lists_work_by_priority_and_skips_people_with_nothing(db, people):
    import datetime as dt

    from retain.state.actions import CtaTask

    def cta(account, priority, owner="r1", **kw):
        return Cta(account_id=account, type="risk", reason=f"{priority} thing", priority=priority, owner_id=owner,
                   due_on=DAY, status="open", open_key=f"{account}|risk|{priority}", rule="r", rule_version=1,
                   auto_close="never", opened_on=DAY, last_fired_on=DAY - dt.timedelta(days=3), **kw)

    low, crit = cta("a1", "low"), cta("a2", "critical")
    db.add_all([low, crit, cta("a3", "high", owner="c9")])
    db.flush()
    db.add(CtaTask(cta_id=low.id, seq=1, title="Call the champion", role="csm", assignee_id="r1",
                   due_on=DAY - dt.timedelta(days=1), status="open"))
    assert enqueue_cta_notifications(db, DAY, settings=DeliverySettings()) == 1  # the digest: no alert (fired before)
    db.commit()
    (digest,) = outbox(db).values()
    assert [c["priority"] for c in digest.payload["ctas"]] == ["critical", "low"]
    assert digest.payload["tasks"][0]["overdue"] and "Call the champion for a1" in digest.text
    assert Counter(m.kind for m in outbox(db).values()) == {"digest": 1}
    assert enqueue_cta_notifications(db, DAY, settings=DeliverySettings()) == 0
