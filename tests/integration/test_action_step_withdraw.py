"""A CTA that closes before its customer-facing step's day withdraws the step: nothing reaches the customer.

Auto-closed by ``retain act`` (SQLite and the real PostgreSQL, the state fixtures), done or dismissed through the web
and the API (the dashboard's SQLite); delivery to a real aiosmtpd on loopback. Snoozing withdraws nothing, and a
step already sent stays sent."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.unit.action.act_company import DAY, company, put, rules_file, ts
from tests.unit.delivery.receivers import MailSink
from tests.unit.state import conftest as state_fixtures
from tests.unit.web_action import today_seed
from typer.testing import CliRunner

from retain.action import act, load_rules
from retain.action.customer_steps import NO_CONTACT, WITHDRAWN, StepReport, step_key, step_status
from retain.cli.common import console
from retain.cli.job import render_action
from retain.cli.main import app as cli
from retain.delivery.caps import contact_pressure, load_caps
from retain.delivery.outbox import Channel, enqueue, status_counts
from retain.delivery.settings import DeliverySettings
from retain.delivery.worker import Worker
from retain.jobs.action import OWNER_COLUMNS, ActionSection
from retain.state.actions import Cta, CtaTask
from retain.state.db import session_factory
from retain.state.models import AuditEvent
from retain.state.outbox import OutboxMessage
from retain.state.testing import PASSWORDS
from retain.warehouse import Warehouse

BOOK = """\
version: 1
email_templates:
  hello:
    subject: "{account_name}: welcome"
    text: "Hello {contact_name}. {owner_name}"
  guide:
    subject: "{account_name}: your adoption guide"
    text: "Hello {contact_name}, here is the guide for {account_name}. {owner_name}"
playbooks:
  drive:
    title: Drive adoption
    tasks:
      - {title: Find the unused features, role: csm, due_days: 1}
      - {title: Say hello, role: csm, due_days: 0, email: {template: hello}}
      - {title: Send the adoption guide, role: marketing, due_days: 3, email: {template: guide}}
"""
engine, db = state_fixtures.engine, state_fixtures.db  # SQLite and the real PostgreSQL (a fresh schema per test)
GUIDE_DAY = DAY + dt.timedelta(days=3)


def config(folder):
    """Rule ``r`` fires on every account in service not touched for a day; it closes itself when one is."""
    (folder / "playbooks.yaml").write_text(BOOK, encoding="utf-8")
    rule = ("- name: r\n  type: lifecycle\n  reason: Drive adoption\n  trigger: {kind: no_touch, days: 1}\n"
            "  playbook: drive\n")
    return load_rules(rules_file(folder, rule, playbooks_file="playbooks.yaml"))


@pytest.fixture(autouse=True)
def shipped_caps(monkeypatch):
    for name in ("RETAIN_CAPS", "RETAIN_SURVEY_PROGRAMMES", "RETAIN_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sink():
    sink = MailSink()
    sink.start()
    yield sink
    sink.stop()


def deliver(sessions, sink: MailSink, wh, when: dt.datetime) -> None:
    """One pass of the worker at ``when``, to the loopback SMTP server."""
    settings = DeliverySettings(smtp_host="127.0.0.1", smtp_port=sink.port, smtp_starttls=False)
    worker = Worker(sessions, settings, wh=wh, clock=lambda: when)
    try:
        worker.run_once()
    finally:
        worker.close()


def by_key(db) -> dict[str, OutboxMessage]:
    db.expire_all()
    return {m.idempotency_key: m for m in db.scalars(select(OutboxMessage))}


def emails_this_week(db, wh, day: dt.date) -> int:
    """k1's e-mails counted against the weekly cap on ``day``."""
    rows = contact_pressure(db, wh, "a1", day, load_caps())
    return next(r["touches"] for r in rows if r["contact_id"] == "k1" and r["cap"] == "emails_per_contact_week")


def test_an_auto_closed_cta_withdraws_its_waiting_step_and_keeps_the_sent_one(engine, sink, tmp_path):
    wh = company()  # a1 (owner Rita Rep) has the only contact with an e-mail address
    put(wh, "contacts", [{"contact_id": "k1", "account_id": "a1", "created_at": ts("2023-02-01"),
                          "name": "Ann Adams", "email": "ann@a1.example", "role": "champion"}])
    rules, sessions = config(tmp_path), session_factory(engine)
    with sessions() as db:
        first = act(wh, db, DAY, rules)
        assert first.steps.emails["pending"] == 2 and first.steps.withdrawn == 0
        cta_id = db.scalar(select(Cta.id).where(Cta.account_id == "a1"))
    deliver(sessions, sink, wh, dt.datetime.combine(DAY, dt.time(9)))  # the hello is due today, the guide later
    assert [a["key"] for a in sink.arrivals] == [step_key(cta_id, 2)]
    hello, guide = step_key(cta_id, 2), step_key(cta_id, 3)
    with sessions() as db:
        sent_at = by_key(db)[hello].sent_at
        assert emails_this_week(db, wh, GUIDE_DAY) == 2  # the sent hello and the queued guide
    put(wh, "activities", [{"activity_id": "t1", "account_id": "a1", "occurred_at": ts(DAY + dt.timedelta(days=1)),
                            "activity_type": "call"}])  # a1 is touched: its signal clears
    with sessions() as db:
        later = act(wh, db, DAY + dt.timedelta(days=1), rules)
        assert later.total("auto_closed") == 1 and later.steps.withdrawn == 1
        assert db.get(Cta, cta_id).status == "auto_closed"
        messages = by_key(db)
        assert messages[guide].status == "withdrawn"
        assert (messages[hello].status, messages[hello].sent_at) == ("sent", sent_at)  # untouched
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "cta.auto_closed",
                                                   AuditEvent.target == f"cta:{cta_id}"))
        assert event.detail["withdrawn_messages"] == [messages[guide].id]
        tasks = db.scalars(select(CtaTask).where(CtaTask.cta_id == cta_id).order_by(CtaTask.seq)).all()
        assert list(step_status(db, tasks).values()) == ["sent", WITHDRAWN]
        assert emails_this_week(db, wh, GUIDE_DAY) == 1  # a withdrawn message touches nobody
        assert status_counts(db)["withdrawn"] == 1
        assert act(wh, db, DAY + dt.timedelta(days=1), rules).changed == 0  # a second run: nothing more
    deliver(sessions, sink, wh, dt.datetime.combine(GUIDE_DAY, dt.time(9)))
    deliver(sessions, sink, wh, dt.datetime.combine(GUIDE_DAY + dt.timedelta(days=30), dt.time(9)))
    assert [a["key"] for a in sink.arrivals] == [hello]  # the guide never went
    with sessions() as db:
        assert by_key(db)[guide].status == "withdrawn"


# -- done, dismissed and snoozed by a person, through the dashboard and the API ----------------------------------

PEOPLE = {"a1": "dan@acme.example", "a2": "gina@globex.example", "a3": "ian@initech.example",
          "a4": "li@a4.example", "a6": "hal@hooli.example"}  # the accounts in service (a5 churned)
CHANGES = {  # account: (face, change); Rita owns a1 and a2, the API's writer is an admin
    "a1": ("web", "done"), "a2": ("web", "dismissed"), "a3": ("api", "dismissed"), "a4": ("api", "done"),
    "a6": ("api", "snoozed")}


def app_with_steps(tmp_path):
    """The seeded dashboard after ``retain act``: each account in service has a new CTA with two e-mails to its
    contact, the hello due today and the guide in three days; a3's are held by the weekly cap (three campaigns
    already went to Ian). Returns (app, keys, wh, CTA id by account)."""
    app, keys, _ = today_seed.action_app(f"sqlite:///{tmp_path / 'app.sqlite'}")
    wh = today_seed.warehouse()
    put(wh, "contacts", [{"contact_id": f"p_{a}", "account_id": a, "created_at": ts("2023-02-01"),
                          "name": f"Person {a}", "email": e, "role": "champion"} for a, e in PEOPLE.items()
                         if a != "a1"])  # a1's Dan is there already
    with app.state.runtime.sessions() as db:
        for i in range(3):
            enqueue(db, channel=Channel.EMAIL, to=PEOPLE["a3"], subject=f"Campaign {i}", text="...",
                    idempotency_key=f"campaign-{i}", kind="campaign", account_id="a3", contact_id="p_a3",
                    customer_facing=True, category="marketing", day=today_seed.DAY, owner_id="r2",
                    not_before=dt.datetime.combine(today_seed.DAY, dt.time(8)))
        db.commit()
        act(wh, db, today_seed.DAY, config(tmp_path))
        ctas = dict(db.execute(select(Cta.account_id, Cta.id).where(Cta.reason == "Drive adoption")).all())
        messages = by_key(db)
        assert sorted(ctas) == sorted(PEOPLE)
        for account, cta_id in ctas.items():
            for seq in (2, 3):
                step = messages[step_key(cta_id, seq)]
                assert step.status == ("held" if account == "a3" else "pending")
                assert step.recipient == PEOPLE[account]
    return app, keys, wh, ctas


def through_web(app, cta_id: int, action: str) -> int:
    """Rita (a1's and a2's owner) clicks on Today."""
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "rita", "password": PASSWORDS["rita"], "csrf_token": token, "next": "/"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/today").text).group(1)
    return client.post(f"/today/ctas/{cta_id}", data={"action": action, "reason": "renewal already signed",
                                                      "days": "14", "csrf_token": token}).status_code


def through_api(app, keys, cta_id: int, action: str) -> int:
    body = {"status": action} | ({} if action == "done" else {"reason": "renewal already signed"})
    if action == "snoozed":
        body["until"] = (today_seed.DAY + dt.timedelta(days=14)).isoformat()
    return TestClient(app).patch(f"/api/v1/ctas/{cta_id}", headers={"X-API-Key": keys["admin-write"]},
                                 json=body).status_code


def test_done_or_dismissed_through_the_web_or_the_api_withdraws_the_steps_and_a_snooze_keeps_them(tmp_path, sink):
    app, keys, wh, ctas = app_with_steps(tmp_path)
    for account, (face, action) in CHANGES.items():
        status = (through_web(app, ctas[account], action) if face == "web"
                  else through_api(app, keys, ctas[account], action))
        assert status == (303 if face == "web" else 200), (account, face, action)
    sessions = app.state.runtime.sessions
    steps = {a: [step_key(c, 2), step_key(c, 3)] for a, c in ctas.items()}
    with sessions() as db:
        messages = by_key(db)
        for account, (_, action) in CHANGES.items():
            assert db.get(Cta, ctas[account]).status == action
            event = db.scalar(select(AuditEvent).where(AuditEvent.action == f"cta.{action}",
                                                       AuditEvent.target == f"cta:{ctas[account]}"))
            tasks = db.scalars(select(CtaTask).where(CtaTask.cta_id == ctas[account]).order_by(CtaTask.seq)).all()
            if action == "snoozed":  # kept as they were
                assert [messages[k].status for k in steps[account]] == ["pending"] * 2
                assert "withdrawn_messages" not in event.detail
                assert step_status(db, tasks) == {tasks[1].id: "to send on 2024-06-30",
                                                  tasks[2].id: "to send on 2024-07-03"}
                continue
            assert [messages[k].status for k in steps[account]] == ["withdrawn"] * 2, account
            assert event.detail["withdrawn_messages"] == [messages[k].id for k in steps[account]]
            assert step_status(db, tasks) == {tasks[1].id: WITHDRAWN, tasks[2].id: WITHDRAWN}
    for days in (3, 10):  # on the guide's day, and once the caps' window has passed (a held one would go)
        deliver(sessions, sink, wh, dt.datetime.combine(today_seed.DAY + dt.timedelta(days=days), dt.time(9)))
    assert sorted(sink.inbox) == sorted(["campaign-0", "campaign-1", "campaign-2", *steps["a6"]])
    assert sink.inbox[steps["a6"][1]]["to"] == [PEOPLE["a6"]] and len(sink.arrivals) == 5
    with sessions() as db:
        assert status_counts(db)["withdrawn"] == 8


# -- what `retain act` and `retain run` print ------------------------------------------------------------------

def test_retain_act_prints_the_steps_queued_not_sent_and_withdrawn(tmp_path):
    path = tmp_path / "wh.duckdb"
    wh = company()
    put(wh, "contacts", [{"contact_id": "k1", "account_id": "a1", "created_at": ts("2023-02-01"),
                          "name": "Ann Adams", "email": "ann@a1.example", "role": "champion"}])
    wh.con.raw_sql(f"ATTACH '{path}' AS copy; COPY FROM DATABASE memory TO copy; DETACH copy")  # the CLI's file
    wh.con.disconnect()
    config(tmp_path)
    env = {"RETAIN_DATABASE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}"}

    def act_cli(day: dt.date) -> str:
        res = CliRunner().invoke(cli, ["--db", str(path), "act", "--as-of", day.isoformat(),
                                       "--rules", str(tmp_path / "rules.yaml")], env=env)
        assert res.exit_code == 0, res.output
        return " ".join(res.output.split())

    first = act_cli(DAY)  # a1: two e-mails queued; a2 .. a5: nobody to write to, two steps each
    assert ("customer-facing steps: 2 e-mail(s) queued, 0 held by a contact cap, 8 not sent (no contact with an "
            "e-mail address), 0 survey invitation(s) created") in first
    assert "withdrawn" not in first
    wh = Warehouse.open(path)
    put(wh, "activities", [{"activity_id": "t1", "account_id": "a1", "occurred_at": ts(DAY + dt.timedelta(days=1)),
                            "activity_type": "call"}])
    wh.con.disconnect()
    later = act_cli(DAY + dt.timedelta(days=1))
    assert "auto-closed 1" in later
    assert ("customer-facing steps: 0 e-mail(s) queued, 0 held by a contact cap, 0 not sent (no contact with an "
            "e-mail address), 0 survey invitation(s) created, 2 waiting e-mail(s) withdrawn (their CTA "
            "auto-closed)") in later
    assert "customer-facing steps" not in act_cli(DAY + dt.timedelta(days=1))  # nothing new: no line


def test_the_main_jobs_action_section_prints_the_steps():
    steps = StepReport(emails=Counter({"pending": 3, "held": 1}), surveys=Counter({"invited": 2, "held": 1}),
                       not_sent=Counter({NO_CONTACT: 4}), withdrawn=5)
    section = ActionSection(DAY, fired=9, database="sqlite://", per_owner=pd.DataFrame(columns=list(OWNER_COLUMNS)),
                            steps=steps)
    with console.capture() as out:
        render_action(section)
    assert ("customer-facing steps: 3 e-mail(s) queued, 1 held by a contact cap, 4 not sent (no contact with an "
            "e-mail address), 2 survey invitation(s) created, 1 survey(s) held by a survey rule, 5 waiting "
            "e-mail(s) withdrawn (their CTA auto-closed)") in " ".join(out.get().split())
    with console.capture() as quiet:
        render_action(ActionSection(DAY, 0, "sqlite://", pd.DataFrame(columns=list(OWNER_COLUMNS))))
    assert "customer-facing" not in quiet.get() and "0 (account, rule) pairs fired" in quiet.get()
