"""The public survey pages on the real app (no sign-in), and the signed-in Surveys page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from retain.server.testing import seeded_app
from retain.state.actions import Cta
from retain.state.surveys import SurveyAnswer, SurveyInvitation, SurveyOptOut
from retain.state.testing import PASSWORDS
from retain.surveys.links import LinkPurpose, sign

SECRET = "change-me-retain-dev-secret"  # seeded_app runs with --dev and the default secret


@pytest.fixture
def app_and_db(tmp_path):
    app, keys = seeded_app(f"sqlite:///{tmp_path / 'app.sqlite'}")
    app.state.keys = keys
    return app, app.state.runtime.sessions


def _invite(sessions, contact: str, language: str = "en", survey_type: str = "nps", days: int = 14,
            account: str = "a1") -> tuple[str, str]:
    expires = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=days)
    with sessions() as db:
        inv = SurveyInvitation(programme="onboarding_nps", survey_type=survey_type, touchpoint="onboarding",
                               account_id=account, contact_id=contact, email=f"{contact}@example.com",
                               language=language, sent_on=dt.date.today(), expires_at=expires,
                               dedupe_key=f"p|{contact}|{survey_type}")
        db.add(inv)
        db.commit()
        return (sign(SECRET, inv.id, expires), sign(SECRET, inv.id, expires, LinkPurpose.UNSUBSCRIBE))


def test_the_form_needs_no_login_or_script_and_speaks_the_contacts_language(app_and_db):
    app, sessions = app_and_db
    client = TestClient(app)
    token, _ = _invite(sessions, "c_zh", "zh")
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and '<html lang="zh-Hans">' in page.text
    assert "您有多大可能向朋友或同事推荐我们？" in page.text and "<script" not in page.text
    assert len(re.findall(r'type="radio" name="score"', page.text)) == 11  # NPS 0-10
    assert '<label for="score-0">0</label>' in page.text and '<legend id="question">' in page.text
    assert 'name="viewport"' in page.text


def test_an_answer_is_recorded_once_then_the_link_is_refused(app_and_db):
    app, sessions = app_and_db
    client = TestClient(app)
    token, _ = _invite(sessions, "c1")
    done = client.post(f"/s/{token}", data={"score": "3", "comment": "Too slow"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/s/thanks?lang=en"
    assert "Thank you" in client.get(done.headers["location"]).text
    again = client.post(f"/s/{token}", data={"score": "9"})
    assert again.status_code == 410 and "already been answered" in again.text
    assert client.get(f"/s/{token}").status_code == 410
    with sessions() as db:
        answer = db.scalar(select(SurveyAnswer))
        assert (answer.score, answer.comment) == (3, "Too slow")
        cta = db.get(Cta, answer.cta_id)
        assert (cta.priority, cta.owner_id) == ("critical", "r1")  # a1's owner in the published snapshot


def test_a_missing_score_shows_the_form_again(app_and_db):
    app, sessions = app_and_db
    token, _ = _invite(sessions, "c2", survey_type="csat")
    page = TestClient(app).post(f"/s/{token}", data={"score": "", "comment": "kept"})
    assert page.status_code == 400 and 'role="alert"' in page.text and ">kept</textarea>" in page.text
    assert len(re.findall(r'type="radio" name="score"', page.text)) == 5  # CSAT 1-5


def test_tampered_and_expired_links_get_a_clear_page(app_and_db):
    app, sessions = app_and_db
    client = TestClient(app)
    token, _ = _invite(sessions, "c3")
    tampered = client.get(f"/s/{token[:-2]}xx")
    assert tampered.status_code == 400 and "changed or cut short" in tampered.text
    expired, _ = _invite(sessions, "c4", days=-1)
    page = client.get(f"/s/{expired}")
    assert page.status_code == 410 and "expired" in page.text
    assert client.post(f"/s/{expired}", data={"score": "5"}).status_code == 410


def test_unsubscribe_asks_first_then_records_the_opt_out(app_and_db):
    app, sessions = app_and_db
    client = TestClient(app)
    _, unsubscribe = _invite(sessions, "c5", "zh")
    confirm = client.get(f"/s/unsubscribe/{unsubscribe}")
    assert confirm.status_code == 200 and "不再接收调查" in confirm.text
    with sessions() as db:
        assert db.get(SurveyOptOut, "c5") is None  # a GET (a mail scanner) opts nobody out
    done = client.post(f"/s/unsubscribe/{unsubscribe}")
    assert done.status_code == 200 and "您已退订" in done.text
    with sessions() as db:
        assert db.get(SurveyOptOut, "c5").source == "link"


def test_the_surveys_page_is_signed_in_and_shows_rates(app_and_db):
    app, sessions = app_and_db
    client = TestClient(app)
    assert client.get("/surveys", follow_redirects=False).status_code == 303
    token, _ = _invite(sessions, "c6")
    _invite(sessions, "c7")
    client.post(f"/s/{token}", data={"score": "10"})
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post("/login", data={"username": "rita", "password": PASSWORDS["rita"], "csrf_token": csrf, "next": "/"})
    page = client.get("/surveys")
    assert page.status_code == 200 and 'href="/surveys" class="on"' in page.text
    rates = re.search(r'<table class="data" id="rates-programme">.*?</table>', page.text, re.S).group(0)
    assert "onboarding_nps" in rates and ">2</td>" in rates and ">1</td>" in rates and "50%" in rates
    assert 'id="survey-latest"' in page.text  # the published trends of the tiny company


def test_the_api_lists_programmes_and_rates(app_and_db):
    app, sessions = app_and_db
    client = TestClient(app)
    token, _ = _invite(sessions, "c8")
    client.post(f"/s/{token}", data={"score": "8"})
    headers = {"X-API-Key": app.state.keys["rita"]}
    programmes = client.get("/api/v1/surveys/programmes", headers=headers).json()
    assert programmes["recontact_days"] == 90 and programmes["programmes"][0]["name"] == "onboarding_nps"
    rates = client.get("/api/v1/surveys/rates?by=touchpoint", headers=headers).json()
    assert rates == [{"value": "onboarding", "invited": 1, "answered": 1, "rate": 1.0, "rate_lo": rates[0]["rate_lo"],
                      "rate_hi": 1.0}] and 0 < rates[0]["rate_lo"] < 1
    assert client.get("/api/v1/surveys/rates?by=colour", headers=headers).status_code == 422
    assert client.get("/api/v1/surveys/programmes").status_code == 401
