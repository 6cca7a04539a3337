"""Delivery for a face that holds a database URL, not a session (the command line).

Each function opens (and migrates) the application database, does one thing, and closes it.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from pathlib import Path

import pandas as pd

from retain.delivery.caps import breaches, load_caps
from retain.delivery.outbox import MessageStatus, messages, resend, status_counts
from retain.delivery.settings import DeliverySettings, load_settings
from retain.delivery.worker import PassReport, Worker
from retain.state.db import app_database, make_engine, session_factory, upgrade

MESSAGE_COLUMNS = ("id", "status", "channel", "kind", "recipient", "subject", "attempts", "last_error",
                   "held_reason", "created_at")


def deliver_at(url: str, *, once: bool, batch: int, wh=None, settings: DeliverySettings | None = None
               ) -> PassReport:
    """Run the worker on the application database at ``url``: one drain (``once``), else until SIGINT/SIGTERM."""
    settings = settings or load_settings()
    engine = make_engine(url)
    try:
        upgrade(engine)
        worker = Worker(session_factory(engine), settings, wh=wh, caps=load_caps(settings.caps))
        if once:
            try:
                return worker.run_once(batch)
            finally:
                worker.close()
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            return worker.run(stop, batch)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        engine.dispose()


def message_frame(url: str, statuses: tuple[MessageStatus, ...], limit: int = 500) -> pd.DataFrame:
    with app_database(url) as db:
        rows = [{c: getattr(m, c) for c in MESSAGE_COLUMNS} for m in messages(db, statuses, limit=limit)]
    return pd.DataFrame(rows, columns=list(MESSAGE_COLUMNS))


def counts_at(url: str) -> dict[str, int]:
    with app_database(url) as db:
        return status_counts(db)


def resend_at(url: str, message_id: int, actor: str) -> str:
    """Re-queue dead (or held) message ``message_id``; its idempotency key."""
    with app_database(url) as db:
        return resend(db, message_id, actor=actor).idempotency_key


def breach_frame(wh, start: dt.date, end: dt.date, caps: Path | None = None) -> pd.DataFrame:
    return breaches(wh, start, end, load_caps(caps))
