"""End to end on real parts: a ticket is resolved -> the invitation is in the outbox -> the real worker sends it
to an SMTP server on loopback -> chromium opens the link from the e-mail and answers 3 -> the answer is in the
warehouse and a CTA exists for the account's owner. ``retain serve`` and ``retain deliver`` run as processes."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from tests.unit.surveys.survey_company import build

from retain.jobs.surveys import surveys_section
from retain.state.actions import Cta
from retain.state.db import make_engine, session_factory, upgrade
from retain.state.outbox import OutboxMessage
from retain.warehouse import Warehouse

SECRET = "e2e-survey-secret-" + "s" * 24
RETAIN = str(Path(sys.executable).parent / "retain")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message as parsed e-mail."""

    def __init__(self) -> None:
        self.mails: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.mails.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def server(tmp_path):
    """``retain serve`` on a free loopback port, on the test's app database and warehouse."""
    port = _free_port()
    env = {**os.environ, "RETAIN_DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite'}", "RETAIN_SECRET_KEY": SECRET}
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([RETAIN, "--db", str(tmp_path / "wh.duckdb"), "serve", "--host", "127.0.0.1", "--port",
                             str(port)], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    yield base, proc, env
    proc.terminate()
    proc.wait(timeout=30)


def _wait_up(base: str, proc, tmp_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("retain serve exited: " + (tmp_path / "server.log").read_text()[-2000:])
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("retain serve did not start")


def test_ticket_resolved_to_answer_in_the_warehouse_and_a_cta(tmp_path, smtp, server, browser, monkeypatch):
    inbox, smtp_port = smtp
    base, proc, env = server
    url = env["RETAIN_DATABASE_URL"]
    engine = make_engine(url)
    upgrade(engine)
    today = dt.datetime.now(dt.UTC).date()  # the link must be valid now: the company moved to today
    wh = build(Warehouse.open(tmp_path / "wh.duckdb"), today)  # e_champ's ticket t_e was resolved yesterday
    monkeypatch.setenv("RETAIN_SECRET_KEY", SECRET)
    monkeypatch.setenv("RETAIN_PUBLIC_URL", base)
    result = surveys_section(wh, url, today)
    wh.con.disconnect()  # DuckDB: one process writes the file at a time; the server writes the answer next
    assert result.invited["support_ces"] == 1
    with session_factory(engine)() as db:
        queued = db.scalar(select(OutboxMessage).where(OutboxMessage.contact_id == "e_champ"))
        assert (queued.status, queued.kind, queued.recipient) == ("pending", "survey_invitation",
                                                                  "e_champ@example.com")

    worker = subprocess.run([RETAIN, "deliver", "--once"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**env, "RETAIN_SMTP_HOST": "127.0.0.1", "RETAIN_SMTP_PORT": str(smtp_port),
                                 "RETAIN_SMTP_STARTTLS": "false"})
    assert worker.returncode == 0, worker.stdout + worker.stderr
    mails = {to[0]: mail for to, mail in inbox.mails}
    assert "e_champ@example.com" in mails, (inbox.mails, worker.stdout, worker.stderr)
    text = mails["e_champ@example.com"].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"(http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_.\-]+)\s", text).group(1)

    _wait_up(base, proc, tmp_path)
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    try:
        response = page.goto(link)
        assert response.status == 200, (link, page.content()[:1500])
        assert page.locator("legend#question").inner_text() == "How easy was it to get what you needed from us?"
        page.click('label[for="score-3"]')
        page.fill("#comment", "It took three e-mails to get an answer")
        page.click("#submit")
        page.wait_for_url("**/s/thanks?lang=en")
        assert "Your answer was recorded" in page.content()
        page.goto(link)  # the link is single use
        assert "already been answered" in page.content()
    finally:
        page.close()

    wh = Warehouse.open(tmp_path / "wh.duckdb")
    rows = wh.execute(wh.raw("survey_responses"))
    wh.con.disconnect()
    assert rows[["contact_id", "survey_type", "score", "touchpoint", "comment"]].to_dict("records") == [
        {"contact_id": "e_champ", "survey_type": "ces", "score": 3, "touchpoint": "support_ticket",
         "comment": "It took three e-mails to get an answer"}]
    with session_factory(engine)() as db:
        cta = db.scalar(select(Cta).where(Cta.account_id == "E"))
        assert (cta.type, cta.owner_id, cta.priority) == ("risk", "r1", "high")
        assert "three e-mails" in cta.detail
    engine.dispose()
