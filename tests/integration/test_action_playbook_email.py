"""Customer-facing playbook steps: a CTA's e-mail or survey step goes through the outbox and the contact caps, once.

On SQLite and the real PostgreSQL (the state fixtures); delivery to a real aiosmtpd on loopback; the owner's view
through the web test client."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.unit.action.act_company import DAY, company, put, rules_file, ts
from tests.unit.delivery.receivers import MailSink
from tests.unit.state import conftest as state_fixtures
from tests.unit.web_action import today_seed
from typer.testing import CliRunner

from retain.action import act, load_playbooks, load_rules
from retain.action.customer_steps import NO_CONTACT, step_key, step_status
from retain.cli.main import app as cli
from retain.configs import validate_config
from retain.delivery.settings import DeliverySettings
from retain.delivery.worker import Worker
from retain.errors import ConfigError
from retain.state.actions import Cta, CtaTask
from retain.state.db import session_factory
from retain.state.outbox import OutboxMessage
from retain.state.surveys import SurveyInvitation, SurveyOptOut
from retain.state.testing import PASSWORDS

TEMPLATES = """\
version: 1
email_templates:
  guide:
    subject: "{account_name}: your adoption guide"
    text: "Hello {contact_name}, here is the guide for {account_name}. {owner_name}"
playbooks:
  drive:
    title: Drive adoption
    tasks:
      - {title: Find the unused features, role: csm, due_days: 1}
      - {title: Send the adoption guide, role: marketing, due_days: 3, email: {template: guide, to: champion}}
"""
engine, db = state_fixtures.engine, state_fixtures.db  # SQLite and the real PostgreSQL (a fresh schema per test)
NO_TOUCH = "{kind: no_touch, days: 1}"  # fires on every account in service that was never touched


def config(folder, playbooks: str = TEMPLATES, trigger: str = NO_TOUCH):
    (folder / "playbooks.yaml").write_text(playbooks, encoding="utf-8")
    rule = f"- name: r\n  type: lifecycle\n  reason: Drive adoption\n  trigger: {trigger}\n  playbook: drive\n"
    return load_rules(rules_file(folder, rule, playbooks_file="playbooks.yaml"))


@pytest.fixture(autouse=True)
def shipped_caps(monkeypatch):
    for name in ("RETAIN_CAPS", "RETAIN_SURVEY_PROGRAMMES", "RETAIN_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def wh():
    wh = company()  # a1 (owner Rita Rep), a2..a5
    put(wh, "contacts", [
        {"contact_id": "k1", "account_id": "a1", "created_at": ts("2023-02-01"), "name": "Ann Adams",
         "email": "ann@a1.example", "role": "champion"},
        {"contact_id": "k2", "account_id": "a1", "created_at": ts("2023-01-05"), "name": "Pat Primary",
         "email": "pat@a1.example", "role": "user", "is_primary": True},
        {"contact_id": "k3", "account_id": "a2", "created_at": ts("2023-02-01"), "name": "No Mail",
         "role": "champion"},  # a2's only contact has no address: nothing to send
    ])
    return wh


def messages(db) -> list[OutboxMessage]:
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "playbook_email")))


def step_task(db, account: str) -> CtaTask:
    return db.scalar(select(CtaTask).join(Cta).where(Cta.account_id == account, CtaTask.seq == 2))


def test_an_email_step_is_queued_once_for_the_champion_with_the_filled_template(db, wh, tmp_path):
    rules = config(tmp_path)
    first = act(wh, db, DAY, rules)
    (message,) = messages(db)
    cta = db.scalar(select(Cta).where(Cta.account_id == "a1"))
    assert message.idempotency_key == step_key(cta.id, 2) and message.status == "pending"
    assert (message.recipient, message.contact_id, message.account_id) == ("ann@a1.example", "k1", "a1")
    assert message.subject == "Account A1: your adoption guide"
    assert message.text == "Hello Ann Adams, here is the guide for Account A1. Rita Rep"
    assert message.customer_facing and message.category == "success" and message.owner_id == "r1"
    assert message.next_attempt_at == dt.datetime(2024, 7, 3) and message.touch_on == DAY + dt.timedelta(days=3)
    assert first.steps.emails == Counter({"pending": 1}) and first.steps.not_sent[NO_CONTACT] == 4  # a2 .. a5
    assert step_task(db, "a2").title == f"Send the adoption guide ({NO_CONTACT})"
    assert step_task(db, "a1").title == "Send the adoption guide"
    assert step_status(db, [step_task(db, "a1"), step_task(db, "a2")]) == {
        step_task(db, "a1").id: "to send on 2024-07-03"}
    second = act(wh, db, DAY, rules)
    assert second.changed == 0 and len(messages(db)) == 1
    assert db.scalar(select(func.count()).select_from(CtaTask)) == 2 * first.total("created")


def test_without_the_role_the_primary_contact_gets_it(db, wh, tmp_path):
    act(wh, db, DAY, config(tmp_path, TEMPLATES.replace("to: champion", "to: executive_sponsor")))
    (message,) = messages(db)
    assert message.recipient == "pat@a1.example" and message.text.startswith("Hello Pat Primary,")


def test_a_contact_at_its_cap_holds_the_step_and_its_owner_sees_why_on_today(tmp_path):
    """Dan (a1's decision maker; the champion left) already has three e-mails this week: the cap is three."""
    from retain.delivery.outbox import Channel, enqueue

    app, _, _ = today_seed.action_app(f"sqlite:///{tmp_path / 'app.sqlite'}")
    wh = today_seed.warehouse()
    rules = config(tmp_path, TEMPLATES.replace("due_days: 3", "due_days: 0"))
    with app.state.runtime.sessions() as db:
        for i in range(3):
            enqueue(db, channel=Channel.EMAIL, to="dan@acme.example", subject=f"Campaign {i}", text="...",
                    idempotency_key=f"campaign-{i}", kind="campaign", account_id="a1", contact_id="p2",
                    customer_facing=True, category="marketing", day=DAY, owner_id="r2")
        db.commit()
        act(wh, db, DAY, rules)
        held = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "playbook_email"))
        assert held.status == "held" and held.recipient == "dan@acme.example" and held.owner_id == "r1"
        assert "contact p2 already has 3 e-mail(s)" in held.held_reason
        reason = held.held_reason
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "rita", "password": PASSWORDS["rita"], "csrf_token": token, "next": "/"})
    page = client.get("/today").text
    waiting = page.split('id="today-held"')[1].split("</table>")[0]
    assert "Acme Corp: your adoption guide" in waiting and reason in waiting
    task_row = page.split('id="today-ctas"')[1].split("</table>")[0]
    assert f"waiting: {reason}" in task_row


def test_the_step_is_delivered_once_to_a_real_smtp_server_on_its_day(engine, wh, tmp_path):
    sessions = session_factory(engine)
    with sessions() as db:
        act(wh, db, DAY, config(tmp_path))
    sink = MailSink()
    sink.start()
    try:
        settings = DeliverySettings(smtp_host="127.0.0.1", smtp_port=sink.port, smtp_starttls=False)
        early = Worker(sessions, settings, wh=wh, clock=lambda: dt.datetime(2024, 7, 2, 12))
        assert early.run_once().sent == 0 and sink.arrivals == []  # due on 2024-07-03
        for _ in range(2):
            worker = Worker(sessions, settings, wh=wh, clock=lambda: dt.datetime(2024, 7, 3, 8))
            worker.run_once()
            worker.close()
        early.close()
    finally:
        sink.stop()
    assert len(sink.arrivals) == 1
    (arrival,) = sink.arrivals
    assert arrival["to"] == ["ann@a1.example"] and arrival["subject"] == "Account A1: your adoption guide"
    assert "Hello Ann Adams" in arrival["body"]
    with sessions() as db:
        task = step_task(db, "a1")
        assert step_status(db, [task]) == {task.id: "sent"}


SURVEY_BOOK = """\
version: 1
playbooks:
  drive:
    title: Ask how it is going
    tasks:
      - {title: Call first, role: csm, due_days: 1}
      - {title: Relationship survey, role: csm, due_days: 10, survey: relationship_nps}
"""


def test_a_survey_step_invites_through_the_survey_rules(db, wh, tmp_path):
    put(wh, "contacts", [{"contact_id": "k4", "account_id": "a3", "created_at": ts("2023-02-01"),
                          "name": "Out Opted", "email": "out@a3.example", "role": "champion"}])
    db.add(SurveyOptOut(contact_id="k4", account_id="a3", source="link"))
    db.commit()
    act(wh, db, DAY, config(tmp_path, SURVEY_BOOK))
    (invitation,) = db.scalars(select(SurveyInvitation)).all()
    cta = db.scalar(select(Cta).where(Cta.account_id == "a1"))
    due = DAY + dt.timedelta(days=10)
    assert (invitation.contact_id, invitation.programme, invitation.touchpoint_ref, invitation.sent_on) == (
        "k1", "relationship_nps", f"cta:{cta.id}:2", due)  # the audience's first role: champion
    message = db.get(OutboxMessage, invitation.message_id)
    assert message.kind == "survey_invitation" and message.recipient == "ann@a1.example"
    assert message.next_attempt_at == dt.datetime.combine(due, dt.time()) and "/s/" in message.text
    assert step_task(db, "a3").title == "Relationship survey (survey not sent: the contact opted out of surveys)"
    assert step_task(db, "a2").title == f"Relationship survey ({NO_CONTACT})"
    assert step_status(db, [step_task(db, "a1")]) == {step_task(db, "a1").id: f"to send on {due.isoformat()}"}
    act(wh, db, DAY, config(tmp_path, SURVEY_BOOK))
    assert db.scalar(select(func.count()).select_from(SurveyInvitation)) == 1


def test_an_unknown_template_and_a_bad_placeholder_name_the_file_and_the_key(tmp_path):
    book = tmp_path / "playbooks.yaml"
    book.write_text(TEMPLATES.replace("template: guide", "template: guidebook"), encoding="utf-8")
    with pytest.raises(ConfigError) as unknown:
        load_playbooks(book)
    assert unknown.value.message.startswith(f"{book}: playbooks.drive.tasks.1.email.template: template 'guidebook'")
    assert "known: guide" in unknown.value.message
    book.write_text(TEMPLATES.replace("{owner_name}", "{owner_phone}"), encoding="utf-8")
    with pytest.raises(ConfigError) as placeholder:
        load_playbooks(book)
    assert placeholder.value.message.startswith(f"{book}: email_templates.guide.text: ")
    assert "unknown placeholder(s) {owner_phone}" in placeholder.value.message
    rules = rules_file(tmp_path, "- {name: r, type: risk, reason: Something, trigger: {kind: critical_factor}, "
                                 "playbook: drive}\n", playbooks_file="playbooks.yaml")
    with pytest.raises(ConfigError, match=re.escape(f"{book}: email_templates.guide.text")):
        load_rules(rules)
    (issue,) = validate_config(book)  # what `retain validate` prints
    assert (issue.file, issue.key) == (str(book), "email_templates.guide.text") and "{owner_phone}" in issue.message
    result = CliRunner().invoke(cli, ["validate", str(book)])
    assert result.exit_code != 0 and "email_templates.guide.text" in " ".join(result.output.split())
    book.write_text(textwrap.dedent("""\
        version: 1
        playbooks:
          drive:
            title: Ask
            tasks: [{title: Survey them, survey: no_such_programme, email: {template: x}}]
        """), encoding="utf-8")
    with pytest.raises(ConfigError, match="playbooks.drive.tasks.0: Value error, a task sends an e-mail or a survey"):
        load_playbooks(book)


def test_the_shipped_playbooks_have_customer_facing_steps():
    book = load_playbooks()
    steps = {key: (t.email.template if t.email else t.survey) for key, t in book.steps()}
    assert steps == {"playbooks.adoption_drive.tasks.2": "adoption_guide",
                     "playbooks.detractor_follow_up.tasks.2": "relationship_nps",
                     "playbooks.advocacy.tasks.0": "promoter_thanks"}
