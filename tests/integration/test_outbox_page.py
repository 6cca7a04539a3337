"""The Admin outbox page (admin only, CSRF-protected re-send) and the worker inside the server."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.unit.delivery.receivers import MailSink

from retain.delivery.outbox import Channel, enqueue
from retain.server.testing import seeded_app
from retain.state import testing
from retain.state.outbox import OutboxMessage


def signed_in(app, user: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": user, "password": testing.PASSWORDS[user], "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    return client


def csrf(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    monkeypatch.delenv("RETAIN_SMTP_HOST", raising=False)
    app, _ = seeded_app(f"sqlite:///{tmp_path / 'state.sqlite'}")
    with app.state.runtime.sessions() as db:
        dead = enqueue(db, channel=Channel.EMAIL, to="rita@vendor.example", subject="Lost alert", text="t",
                       idempotency_key="dead:1", kind="cta_alert")
        dead.status, dead.attempts, dead.last_error = "dead", 8, "SMTP error: connection refused"
        held = enqueue(db, channel=Channel.EMAIL, to="ann@customer.example", subject="Newsletter", text="t",
                       idempotency_key="held:1", kind="playbook_email", customer_facing=True, category="marketing",
                       contact_id="c1", account_id="a1")
        held.status, held.held_reason = "held", "contact c1 already has 3 e-mail(s) in the 7 days to 2024-06-30"
        db.commit()
        ids = {"dead": dead.id, "held": held.id}
    return app, ids


def test_only_admins_see_the_outbox(seeded):
    app, _ = seeded
    admin = signed_in(app, "admin")
    page = admin.get("/admin/outbox")
    assert page.status_code == 200
    assert "Lost alert" in page.text and "SMTP error: connection refused" in page.text
    assert "contact c1 already has 3 e-mail(s)" in page.text and "Re-send" in page.text
    assert 'href="/admin/outbox"' in admin.get("/admin").text
    for user in ("mia", "rita", "olga"):
        r = signed_in(app, user).get("/admin/outbox")
        assert r.status_code == 403 and "Lost alert" not in r.text, user
    anonymous = TestClient(app).get("/admin/outbox", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_resend_needs_csrf_and_an_admin(seeded):
    app, ids = seeded
    admin = signed_in(app, "admin")
    assert admin.post(f"/admin/outbox/{ids['dead']}/resend", data={"csrf_token": "forged"}).status_code == 403
    rita = signed_in(app, "rita")
    token = csrf(rita, "/")
    assert rita.post(f"/admin/outbox/{ids['dead']}/resend", data={"csrf_token": token}).status_code == 403
    token = csrf(admin, "/admin/outbox")
    r = admin.post(f"/admin/outbox/{ids['dead']}/resend", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/admin/outbox?resent={ids['dead']}"
    again = admin.post(f"/admin/outbox/{ids['dead']}/resend", data={"csrf_token": token})
    assert again.status_code == 409 and "not dead or held" in again.text
    assert admin.post("/admin/outbox/99999/resend", data={"csrf_token": token}).status_code == 404
    with app.state.runtime.sessions() as db:
        row = db.scalar(select(OutboxMessage).where(OutboxMessage.id == ids["dead"]))
        assert (row.status, row.attempts) == ("pending", 0)
    assert "outbox.resend" in admin.get("/admin").text  # audited


def test_the_server_runs_the_worker_when_smtp_is_set(tmp_path, monkeypatch):
    sink = MailSink()
    sink.start()
    try:
        monkeypatch.setenv("RETAIN_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("RETAIN_SMTP_PORT", str(sink.port))
        monkeypatch.setenv("RETAIN_SMTP_STARTTLS", "false")
        monkeypatch.setenv("RETAIN_DELIVERY_POLL_SECONDS", "0.1")
        app, _ = seeded_app(f"sqlite:///{tmp_path / 'state.sqlite'}")
        with TestClient(app):  # the app's lifespan: the worker thread runs while the server does
            with app.state.runtime.sessions() as db:
                enqueue(db, channel=Channel.EMAIL, to="rita@vendor.example", subject="Hello", text="t",
                        idempotency_key="serve:1", kind="digest")
                db.commit()
            deadline = time.monotonic() + 20
            while "serve:1" not in sink.inbox and time.monotonic() < deadline:
                time.sleep(0.05)
        assert list(sink.inbox) == ["serve:1"]
        monkeypatch.setenv("RETAIN_DELIVERY_WORKER", "0")
        off, _ = seeded_app(f"sqlite:///{tmp_path / 'off.sqlite'}")
        with TestClient(off):
            with off.state.runtime.sessions() as db:
                enqueue(db, channel=Channel.EMAIL, to="x@y.z", subject="Hello", text="t", idempotency_key="off:1",
                        kind="digest")
                db.commit()
            time.sleep(0.5)
        assert "off:1" not in sink.inbox
    finally:
        sink.stop()
