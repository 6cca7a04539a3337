"""An answer: single use in the database (even when two arrive at once), a CTA for the owner, the warehouse row."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.unit.surveys.survey_company import DAY

from retain.state.actions import Cta
from retain.state.outbox import OutboxMessage
from retain.state.surveys import InvitationStatus, SurveyAnswer, SurveyInvitation
from retain.surveys import answers
from retain.surveys.links import LinkError, LinkProblem, sign
from retain.surveys.plan import plan_today
from retain.surveys.send import Sender, send_invitations, send_reminders
from retain.surveys.spec import load_programmes

SECRET = "survey-test-secret-0123456789"
NOW = dt.datetime(2024, 7, 2, 9, 30)


@pytest.fixture
def sent(survey_wh, db):
    """The day's invitations sent: a_champ and a_dm (onboarding NPS), e_champ (support CES)."""
    spec = load_programmes()
    report = send_invitations(db, survey_wh, spec, plan_today(survey_wh, db, spec, DAY), DAY,
                              Sender(SECRET, "http://127.0.0.1:1"))
    assert dict(report.invited) == {"onboarding_nps": 2, "support_ces": 1}
    return {i.contact_id: i for i in db.scalars(select(SurveyInvitation))}


def _token(invitation: SurveyInvitation) -> str:
    return sign(SECRET, invitation.id, invitation.expires_at)


def test_invitations_go_to_the_outbox_in_the_contacts_language(db, sent):
    messages = {m.contact_id: m for m in db.scalars(select(OutboxMessage))}
    assert set(messages) == {"a_champ", "a_dm", "e_champ"}
    assert messages["a_dm"].subject == "我们的一个简短问题" and "推荐我们" in messages["a_dm"].text
    assert messages["e_champ"].customer_facing and messages["e_champ"].category == "survey"
    assert f"/s/{_token(sent['a_champ'])}" in messages["a_champ"].text
    assert "/s/unsubscribe/" in messages["a_champ"].html


def test_a_detractor_answer_is_data_and_a_critical_cta_for_the_owner(db, sent, survey_wh):
    answer = answers.submit(db, SECRET, _token(sent["a_champ"]), "3", "  Onboarding was too slow  ", NOW,
                            warehouse=survey_wh)
    cta = db.get(Cta, answer.cta_id)
    assert (cta.type, cta.priority, cta.owner_id, cta.account_id) == ("risk", "critical", "r1", "A")
    assert '"Onboarding was too slow"' in cta.detail and cta.playbook == "detractor_follow_up" and cta.tasks
    assert db.get(SurveyInvitation, sent["a_champ"].id).status == InvitationStatus.ANSWERED.value
    assert answers.pending_count(db) == 0
    rows = survey_wh.execute(survey_wh.raw("survey_responses"))
    assert rows[["response_id", "account_id", "contact_id", "survey_type", "score", "touchpoint", "comment"]
                ].to_dict("records") == [{"response_id": f"rs_{sent['a_champ'].id}", "account_id": "A",
                                          "contact_id": "a_champ", "survey_type": "nps", "score": 3,
                                          "touchpoint": "onboarding", "comment": "Onboarding was too slow"}]
    assert answers.flush_pending(db, survey_wh) == 0  # copied once, at once


def test_a_second_detractor_adds_to_the_live_cta_and_a_passive_after_onboarding_gets_training(db, sent):
    first = answers.submit(db, SECRET, _token(sent["a_champ"]), "5", "", NOW)
    second = answers.submit(db, SECRET, _token(sent["a_dm"]), "7", "还行", NOW)
    assert db.get(Cta, first.cta_id).priority == "high"
    training = db.get(Cta, second.cta_id)
    assert (training.type, training.playbook) == ("lifecycle", "adoption_drive")
    assert db.scalar(select(func.count(Cta.id))) == 2


def test_a_replayed_link_is_refused(db, sent):
    token = _token(sent["e_champ"])
    answers.submit(db, SECRET, token, "6", None, NOW)
    with pytest.raises(LinkError) as err:
        answers.submit(db, SECRET, token, "7", None, NOW)
    assert err.value.problem is LinkProblem.USED and err.value.problem.status == 410
    assert db.scalar(select(func.count(SurveyAnswer.id))) == 1


def test_a_score_off_the_scale_is_refused_and_the_link_stays_usable(db, sent):
    token = _token(sent["e_champ"])  # CES: 1-7
    for bad in ("8", "0", "", "x"):
        with pytest.raises(answers.AnswerError):
            answers.submit(db, SECRET, token, bad, None, NOW)
    assert answers.submit(db, SECRET, token, "7", None, NOW).score == 7


def test_an_expired_link_is_refused(db, sent):
    later = sent["e_champ"].expires_at + dt.timedelta(minutes=1)
    with pytest.raises(LinkError) as err:
        answers.submit(db, SECRET, _token(sent["e_champ"]), "5", None, later)
    assert err.value.problem is LinkProblem.EXPIRED


def test_two_submissions_at_once_record_exactly_one_answer(engine, sent):
    """The real race: two sessions submit the same link together; the database lets one through."""
    token = _token(sent["a_champ"])
    barrier, outcomes = threading.Barrier(2), []

    def attempt(score: str) -> None:
        with Session(engine) as session:
            invitation = answers.open_invitation(session, SECRET, token, NOW)
            barrier.wait()
            try:
                answers.claim(session, invitation, int(score), None, NOW)
                outcomes.append("ok")
            except LinkError as exc:
                outcomes.append(exc.problem.value)
            except Exception as exc:  # noqa: BLE001 - a unique violation also means "someone was first"
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=attempt, args=(s,)) for s in ("2", "9")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    with Session(engine) as session:
        assert session.scalar(select(func.count(SurveyAnswer.id))) == 1


def test_unsubscribe_is_recorded_once_and_honoured(db, sent, survey_wh):
    from retain.surveys.links import LinkPurpose

    invitation = sent["e_champ"]
    token = sign(SECRET, invitation.id, invitation.expires_at, LinkPurpose.UNSUBSCRIBE)
    answers.unsubscribe(db, SECRET, token, NOW)
    answers.unsubscribe(db, SECRET, token, NOW)
    later = plan_today(survey_wh, db, load_programmes().model_copy(update={"recontact_days": 0}),
                       DAY + dt.timedelta(days=1))
    assert set(later.loc[later.contact_id == "e_champ", "reason"]) <= {"opted_out"}


def test_one_reminder_after_the_programmes_days(db, sent, survey_wh):
    spec, sender = load_programmes(), Sender(SECRET, "http://127.0.0.1:1")
    answers.submit(db, SECRET, _token(sent["a_dm"]), "9", None, NOW)
    assert send_reminders(db, survey_wh, spec, DAY + dt.timedelta(days=2), sender) == 0
    assert send_reminders(db, survey_wh, spec, DAY + dt.timedelta(days=3), sender) == 1  # e_champ: support, 3 days
    assert send_reminders(db, survey_wh, spec, DAY + dt.timedelta(days=5), sender) == 1  # a_champ: onboarding, 5
    assert send_reminders(db, survey_wh, spec, DAY + dt.timedelta(days=9), sender) == 0  # once; a_dm answered
    kinds = db.scalars(select(OutboxMessage.kind).where(OutboxMessage.contact_id == "a_champ")).all()
    assert sorted(kinds) == ["survey_invitation", "survey_reminder"]
    assert db.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.contact_id == "a_dm")) == 1


def test_the_answer_is_on_the_published_account_at_once(db, sent):
    from retain.state.models import AccountDetail, AccountSnapshot

    db.add(AccountSnapshot(account_id="A", name="Account A", owner_id="r2", csm_id="r1", as_of=DAY))
    db.flush()
    db.add(AccountDetail(account_id="A", detail={"surveys": [{"score": 8, "survey_type": "nps"}]}))
    db.commit()
    answers.submit(db, SECRET, _token(sent["a_champ"]), "10", "Great", NOW)
    db.expire_all()
    surveys = db.get(AccountDetail, "A").detail["surveys"]
    assert [s["score"] for s in surveys] == [10, 8] and surveys[0]["comment"] == "Great"


def test_a_warehouse_out_of_reach_keeps_the_answer_pending(db, sent, survey_wh, tmp_path):
    gone = str(tmp_path / "moved.duckdb")
    answers.submit(db, SECRET, _token(sent["e_champ"]), "4", None, NOW, warehouse=gone)
    assert answers.pending_count(db) == 1 and not (tmp_path / "moved.duckdb").exists()  # no empty warehouse made
    assert answers.flush_pending(db, survey_wh) == 1 and answers.pending_count(db) == 0


def test_invitations_are_held_by_the_caps_the_settings_name(survey_wh, db, tmp_path, monkeypatch):
    """The user's caps file (``RETAIN_CAPS``), not the shipped caps, decides which invitations are held."""
    strict = tmp_path / "caps.yaml"
    strict.write_text("caps:\n  - {name: no_email, per: contact, channel: email, window_days: 1, max: 0}\n",
                      encoding="utf-8")
    monkeypatch.setenv("RETAIN_CAPS", str(strict))
    spec = load_programmes()
    report = send_invitations(db, survey_wh, spec, plan_today(survey_wh, db, spec, DAY), DAY,
                              Sender(SECRET, "http://127.0.0.1:1"))
    assert sum(report.held_by_caps.values()) == report.total == 3
    held = db.scalars(select(OutboxMessage.held_reason)).all()
    assert len(held) == 3 and all("cap no_email" in reason for reason in held)
