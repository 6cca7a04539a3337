"""Delivery runs on SQLite and the real PostgreSQL (the state fixtures), against a real SMTP server and a real
HTTP receiver on loopback."""

from __future__ import annotations

import pytest
from tests.unit.delivery.receivers import MailSink, WebhookSink
from tests.unit.state.conftest import db, engine  # noqa: F401


@pytest.fixture
def smtp():
    sink = MailSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def hook():
    sink = WebhookSink()
    sink.start()
    yield sink
    sink.stop()
