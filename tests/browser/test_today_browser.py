"""Today in a real browser: a CSM signs in, checks a task off, snoozes a call to action, writes a note that appears
on the account's timeline; her manager sees the escalation on Today and on Team actions."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from tests.unit.web_action.today_seed import action_app

from retain.state import testing

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def today_url(tmp_path_factory):
    """A server of its own (the CTAs change): the seeded company with calls to action, on 127.0.0.1."""
    import uvicorn

    app, _, ids = action_app(f"sqlite:///{tmp_path_factory.mktemp('today_browser') / 'app.sqlite'}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ids
    server.should_exit = True
    thread.join(timeout=10)


def sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/login?next=/today")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", testing.PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/today")


def test_a_csm_works_today(page, today_url):
    base, ids = today_url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "rita")
    ctas = page.locator("#today-ctas tr.cta")
    assert ctas.count() == 2 and page.locator("#count-overdue").inner_text() == "1"
    high = page.locator(f"#cta-{ids['rita_high']}")
    assert "Evidence as of 2024-06-30" in high.inner_text()

    high.locator("li.task", has_text="Call the sponsor").locator("button").click()  # check a task off
    page.wait_for_url(f"{base}/today")
    assert "done by rita" in page.locator(f"#cta-{ids['rita_high']} li.task", has_text="Call the sponsor").inner_text()

    overdue = page.locator(f"#cta-{ids['rita_overdue']}")
    overdue.locator("input[name=reason]").fill("customer on holiday")
    overdue.locator("select[name=days]").select_option("14")
    overdue.locator("button[value=snoozed]").click()  # snooze in one click
    page.wait_for_url(f"{base}/today")
    assert page.locator("#today-ctas tr.cta").count() == 1 and page.locator("#count-snoozed").inner_text() == "1"
    page.select_option("select[name=status]", "snoozed")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**status=snoozed**")
    assert "snoozed until 2024-07-14: customer on holiday" in page.locator(f"#cta-{ids['rita_overdue']}").inner_text()

    page.goto(f"{base}/today")
    page.locator(f"#cta-{ids['rita_high']} a", has_text="Acme Corp").click()  # to Account 360
    page.wait_for_url(f"{base}/accounts/a1")
    assert "Champion Ann Champion left" in page.locator("#account-people").inner_text()
    page.fill("#note-form textarea[name=body]", "Called Dan: the renewal is on track")
    page.click("#note-form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/a1#timeline")
    first = page.locator("table.timeline tbody tr").first
    assert first.get_attribute("class") == "kind-note"
    assert "Note by rita" in first.inner_text() and "Called Dan: the renewal is on track" in first.inner_text()
    assert not errors, errors


def test_a_manager_sees_the_escalation(page, today_url):
    base, ids = today_url
    sign_in(page, base, "mia")
    escalated = page.locator(f"#today-ctas #cta-{ids['raj_escalated']}")
    assert "escalated to Mia Manager" in escalated.inner_text() and page.locator("#count-escalated").inner_text() == "1"
    page.click("header nav >> text=Team actions")
    page.wait_for_url(f"{base}/team/actions")
    assert page.locator(f"#escalations #cta-{ids['raj_escalated']}").count() == 1
    raj = page.locator("#team-actions tr[data-owner=r2]").inner_text()
    assert "Raj Rep" in raj and "-7.0" in raj
