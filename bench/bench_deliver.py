"""Benchmark: outbox delivery to a loopback SMTP server (aiosmtpd), against raw smtplib on the same server.

    /work/main/.venv/bin/python bench/bench_deliver.py [--messages N] [--batch B] [--postgres]

The SMTP server runs in a process of its own. Prints, for N messages (default 2,000): the baseline (one
smtplib connection sending the same N e-mails, built the same way, nothing recorded); enqueueing them into the
outbox (one transaction); and the worker draining them (claim batches under a lease, send, commit outcomes), in
messages per second, with its ratio to the baseline and to the 200 messages/s target. SQLite by default (a file
in a temporary folder); ``--postgres`` also runs the worker on the PostgreSQL of the tests (127.0.0.1:5432,
database ``test``, in a schema dropped afterwards). ``--commit-every 1`` records each outcome before the next
send (at most the message in flight repeats after a crash; see docs/delivery.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import smtplib
import socket
import tempfile
import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller

from retain.delivery.outbox import Channel, enqueue
from retain.delivery.settings import DeliverySettings
from retain.delivery.smtp import build_email
from retain.delivery.worker import Worker
from retain.state.db import make_engine, session_factory, upgrade
from retain.state.outbox import OutboxMessage

TARGET = 200.0
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Counting:
    """An SMTP handler that accepts everything and counts (in a shared integer: the server runs in its own
    process, as a real mail server would, so it does not share this one's interpreter lock)."""

    def __init__(self, received) -> None:
        self.received = received

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.received.get_lock():
            self.received.value += 1
        return "250 OK"


def serve(port: int, received, ready, stop) -> None:
    controller = Controller(Counting(received), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def messages(n: int, prefix: str) -> list[dict]:
    return [{"channel": Channel.EMAIL, "to": f"user{i}@vendor.example", "subject": f"Critical: account {i}",
             "text": f"Churn risk on account {i}: the champion left and usage fell 40% in 30 days.\n" * 3,
             "idempotency_key": f"{prefix}:{i}", "kind": "cta_alert"} for i in range(n)]


def baseline(port: int, n: int) -> float:
    """Raw smtplib: one connection, N sends, nothing recorded."""
    rows = [OutboxMessage(recipient=m["to"], subject=m["subject"], text=m["text"], idempotency_key=m["idempotency_key"],
                          html=None) for m in messages(n, "raw")]
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for row in rows:
            smtp.sendmail("retain@localhost", [row.recipient], build_email(row, "retain@localhost").as_bytes())
    return time.perf_counter() - start


def outbox_run(url: str, port: int, n: int, batch: int, commit_every: int, schema: str | None = None
               ) -> tuple[float, float, int]:
    engine = make_engine(url, schema=schema)
    upgrade(engine)
    sessions = session_factory(engine)
    start = time.perf_counter()
    with sessions() as db:
        for m in messages(n, f"box-{uuid.uuid4().hex[:6]}"):
            enqueue(db, not_before=dt.datetime(2000, 1, 1), **m)
        db.commit()
    enqueued = time.perf_counter() - start
    worker = Worker(sessions, DeliverySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                                               delivery_commit_every=commit_every))
    start = time.perf_counter()
    report = worker.run_once(batch)
    worker.close()
    sent = time.perf_counter() - start
    engine.dispose()
    return enqueued, sent, report.sent


def line(label: str, seconds: float, n: int, base: float | None = None) -> str:
    rate = n / seconds
    extra = f"  {base / seconds:4.2f}x baseline speed" if base else ""
    verdict = f"  target {TARGET:.0f}/s: {'met' if rate >= TARGET else 'MISSED'}" if base else ""
    return f"{label:<44} {seconds:7.2f} s  {rate:8,.0f} msg/s{extra}{verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--commit-every", type=int, default=DeliverySettings().delivery_commit_every)
    args = parser.parse_args()
    with socket.socket() as probe:  # a free loopback port (aiosmtpd needs the number before it listens)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    received, ready, stop = context.Value("q", 0), context.Event(), context.Event()
    server = context.Process(target=serve, args=(port, received, ready, stop), daemon=True)
    server.start()
    ready.wait(60)
    n = args.messages
    try:
        base = baseline(port, n)
        print(f"{n:,} e-mails to aiosmtpd on 127.0.0.1:{port}, worker batch {args.batch}, outcomes committed "
              f"every {args.commit_every} message(s)")
        print(line("baseline: raw smtplib, one connection", base, n))
        with tempfile.TemporaryDirectory() as folder:
            enq, sent, count = outbox_run(f"sqlite:///{Path(folder) / 'state.sqlite'}", port, n, args.batch,
                                           args.commit_every)
        assert count == n, f"the worker sent {count} of {n}"
        print(line("enqueue (SQLite, one transaction)", enq, n))
        print(line("outbox worker (SQLite)", sent, n, base))
        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = make_engine(PG_URL)
            with admin.begin() as con:
                con.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            try:
                enq, sent, count = outbox_run(PG_URL, port, n, args.batch, args.commit_every, schema=schema)
                assert count == n
                print(line("enqueue (PostgreSQL, one transaction)", enq, n))
                print(line("outbox worker (PostgreSQL)", sent, n, base))
            finally:
                with admin.begin() as con:
                    con.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
                admin.dispose()
        print(f"server received {received.value:,} messages")
    finally:
        stop.set()
        server.join(10)


if __name__ == "__main__":
    main()
