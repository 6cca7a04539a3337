"""The Today, Team actions, Health review and Account 360 pages: what each role sees, and one-click changes with CSRF.

One app per module (SQLite); each test changes different CTAs, so their order does not matter."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from tests.unit.web_action.today_seed import action_app

from retain.state.testing import PASSWORDS


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    return action_app(f"sqlite:///{tmp_path_factory.mktemp('today') / 'app.sqlite'}")


@pytest.fixture(scope="module")
def ids(seeded):
    return seeded[2]


def signed_in(seeded, user: str) -> TestClient:
    client = TestClient(seeded[0], follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": user, "password": PASSWORDS[user], "csrf_token": token, "next": "/"})
    return client


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def rows(page: str, table: str) -> list[int]:
    """The CTA ids listed in the table ``table`` of ``page``, in order."""
    body = page.split(f'id="{table}"')[1].split("</table>")[0]
    return [int(i) for i in re.findall(r'data-cta="(\d+)"', body)]


def test_today_lists_the_members_own_ctas_most_urgent_first_with_evidence(seeded, ids):
    page = signed_in(seeded, "olga").get("/today").text
    assert rows(page, "today-ctas") == [ids["olga_low"]]  # not the unowned CTA on her account, not Rita's
    rita = signed_in(seeded, "rita").get("/today?type=risk")
    assert rita.status_code == 200
    assert rows(rita.text, "today-ctas")[:1] == [ids["rita_high"]]  # high before medium
    assert "Evidence as of 2024-06-30" in rita.text and "grade red; total 31.5" in rita.text
    assert "Review usage with Raj" in rita.text.split('id="today-tasks"')[1]  # her task on Raj's CTA
    assert signed_in(seeded, "rita").get("/today?due=someday").status_code == 400


def test_mia_sees_the_escalation_on_today_and_team_actions(seeded, ids):
    mia = signed_in(seeded, "mia")
    assert rows(mia.get("/today").text, "today-ctas") == [ids["raj_escalated"]]
    page = mia.get("/team/actions").text
    assert rows(page, "escalations") == [ids["raj_escalated"]] and "escalated to Mia Manager" in page
    owners = re.findall(r'<tr data-owner="(\w+)"><td>([^<]+)</td><td class="n">(\d+)</td>', page)
    assert {o for o, _, _ in owners} == {"r1", "r2"}  # Olga is not in Mia's tree
    assert signed_in(seeded, "olga").get("/team/actions").status_code == 403
    assert "escalated to" not in signed_in(seeded, "olga").get("/health-review").text


def test_done_snooze_and_dismiss_in_one_click_need_the_csrf_token(seeded, ids):
    olga = signed_in(seeded, "olga")
    token = csrf(olga.get("/today").text)
    refused = olga.post(f"/today/ctas/{ids['olga_low']}", data={"action": "done", "csrf_token": "forged"})
    assert refused.status_code == 403
    no_reason = olga.post(f"/today/ctas/{ids['olga_low']}", data={"action": "snoozed", "csrf_token": token})
    assert no_reason.status_code == 400 and "a snooze needs a reason" in no_reason.text
    snoozed = olga.post(f"/today/ctas/{ids['olga_low']}", data={"action": "snoozed", "days": "14",
                                                                  "reason": "on holiday", "csrf_token": token})
    assert snoozed.status_code == 303 and snoozed.headers["location"] == "/today"
    page = olga.get("/today?status=snoozed").text
    assert rows(page, "today-ctas") == [ids["olga_low"]] and "snoozed until 2024-07-14: on holiday" in page
    assert rows(olga.get("/today").text, "today-ctas") == []
    dismissed = olga.post(f"/today/ctas/{ids['olga_low']}", data={"action": "dismissed", "reason": "duplicate",
                                                                    "csrf_token": token})
    assert dismissed.status_code == 303 and rows(olga.get("/today?status=snoozed").text, "today-ctas") == []


def test_nobody_changes_a_cta_outside_their_scope(seeded, ids):
    olga = signed_in(seeded, "olga")
    token = csrf(olga.get("/today").text)
    r = olga.post(f"/today/ctas/{ids['rita_overdue']}", data={"action": "done", "csrf_token": token})
    assert r.status_code == 404 and "no CTA" in r.text
    task = re.search(r'action="/today/tasks/(\d+)/done"', signed_in(seeded, "rita").get("/today").text).group(1)
    assert olga.post(f"/today/tasks/{task}/done", data={"csrf_token": token}).status_code == 404
    rita = signed_in(seeded, "rita")
    assert rows(rita.get("/today").text, "today-ctas").count(ids["rita_overdue"]) == 1  # untouched


def test_a_task_is_checked_off_and_the_cta_closed_from_today(seeded, ids):
    rita = signed_in(seeded, "rita")
    page = rita.get("/today").text
    token = csrf(page)
    task = re.search(r'id="task-(\d+)">Call the sponsor', page).group(1)
    assert rita.post(f"/today/tasks/{task}/done", data={"csrf_token": token}).status_code == 303
    assert "<s>Call the sponsor</s> <small>done by rita</small>" in rita.get("/today").text
    again = rita.post(f"/today/tasks/{task}/done", data={"csrf_token": token})
    assert again.status_code == 400 and "already done" in again.text
    assert rita.post(f"/today/ctas/{ids['rita_overdue']}", data={"action": "done", "csrf_token": token,
                                                                   "next": "https://evil.example/"}
                     ).headers["location"] == "/today"  # never redirected off-site
    assert ids["rita_overdue"] not in rows(rita.get("/today").text, "today-ctas")


def test_account_360_shows_ctas_people_plan_link_and_notes_on_the_timeline(seeded, ids):
    rita = signed_in(seeded, "rita")
    page = rita.get("/accounts/a1").text
    assert rows(page, "account-cta-table") == [ids["rita_high"]]
    assert "Champion Ann Champion left on 2024-06-01" in page and "Dan Decider" in page and "Una User" not in page
    assert 'href="/accounts/a1/plan"' in page
    token = csrf(page)
    posted = rita.post("/accounts/a1/notes", data={"body": "Called Dan: <b>renewal</b> on track", "csrf_token": token})
    assert posted.status_code == 303 and posted.headers["location"] == "/accounts/a1#timeline"
    timeline = rita.get("/accounts/a1").text.split('id="timeline"')[1]
    assert re.search(r'<tr class="kind-note"><td>[^<]+</td><td>note</td><td>Note by rita</td>'
                     r'<td>Called Dan: &lt;b&gt;renewal&lt;/b&gt; on track</td></tr>', timeline)  # escaped
    empty = rita.post("/accounts/a1/notes", data={"body": "  ", "csrf_token": token})
    assert empty.status_code == 400 and "a note needs some text" in empty.text
    assert rita.post("/accounts/a1/notes", data={"body": "x", "csrf_token": "forged"}).status_code == 403
    olga = signed_in(seeded, "olga")
    assert olga.post("/accounts/a1/notes", data={"body": "hi", "csrf_token": csrf(olga.get("/today").text)}
                     ).status_code == 404


def test_portfolio_needs_attention_links_into_today(seeded):
    page = signed_in(seeded, "mia").get("/").text
    assert re.search(r'<a href="/today">1 open call to action for you on Today</a>', page)
    assert 'href="/today"' in page.split('id="needs-attention"')[1][:80]
    admin = signed_in(seeded, "admin")
    assert "for you on Today" not in admin.get("/").text
    assert "not linked to a team member" in admin.get("/today").text


def test_every_new_page_needs_a_sign_in(seeded):
    anonymous = TestClient(seeded[0], follow_redirects=False)
    for url in ("/today", "/team/actions", "/health-review"):
        r = anonymous.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert anonymous.post("/accounts/a1/notes", data={"body": "x"}).status_code == 303


def test_account_360_shows_contact_pressure_with_what_the_caps_hold(seeded):
    from sqlalchemy.orm import Session

    from retain.delivery.outbox import Channel, MessageStatus, enqueue
    from retain.state.action_queries import reference_day

    runtime = seeded[0].state.runtime
    with Session(runtime.engine) as db:
        day = reference_day(db)
        sent = [enqueue(db, channel=Channel.EMAIL, to="dan@a1.example", subject=f"News {i}", text="...",
                        idempotency_key=f"pressure-{i}", kind="playbook_email", account_id="a1", contact_id="p2",
                        customer_facing=True, category="marketing", day=day, owner_id="r1") for i in range(4)]
        db.commit()
        assert [m.status for m in sent].count(MessageStatus.HELD) == 1  # the weekly cap is 3 e-mails
    page = signed_in(seeded, "rita").get("/accounts/a1").text
    section = page.split('id="contact-pressure"')[1].split("</section>")[0]
    row = next(r for r in section.split("<tr") if "emails_per_contact_week" in r)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells[0] == "Dan Decider" and cells[2:4] == ["3", "3"] and cells[-1] == "1"  # 3 of 3 allowed, 1 held
    held = signed_in(seeded, "rita").get("/today").text.split('id="today-held"')[1].split("</table>")[0]
    assert "News 3" in held and "News 0" not in held  # the owner sees which message waits, and why
