"""The outbox and its worker against a real SMTP server and a real webhook receiver, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from retain.delivery.outbox import Channel, MessageStatus, enqueue, resend, status_counts
from retain.delivery.settings import DeliverySettings
from retain.delivery.smtp import message_id
from retain.delivery.webhook import verify
from retain.delivery.worker import Worker
from retain.errors import ArgumentError
from retain.state.db import session_factory
from retain.state.outbox import OutboxMessage

T0 = dt.datetime(2026, 3, 2, 9, 0)
SECRET = "s3cret-for-tests"


class Clock:
    """A clock the test moves: backoff and leases without sleeping."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def settings(**kw) -> DeliverySettings:
    base = {"smtp_starttls": False, "delivery_backoff_seconds": 10, "delivery_max_attempts": 4,
            "webhook_secret": SECRET}
    return DeliverySettings(**(base | kw))


def email(db, key: str, to: str = "rita@example.com", **kw) -> OutboxMessage:
    return enqueue(db, channel=Channel.EMAIL, to=to, subject=f"About {key}", text=f"Body of {key}",
                   idempotency_key=key, kind="cta_alert", **kw)


def test_enqueue_joins_the_callers_transaction_and_keys_are_idempotent(db):
    first = email(db, "k1", not_before=T0)
    db.rollback()  # the caller's transaction rolled back: the message never existed
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    first = email(db, "k1", not_before=T0)
    again = enqueue(db, channel=Channel.WEBHOOK, to="http://elsewhere", subject="changed", text="changed",
                    idempotency_key="k1", kind="digest")
    db.commit()
    assert again.id == first.id and again.subject == "About k1" and again.channel == "email"
    assert first.status == MessageStatus.PENDING and first.touch_on == T0.date()
    with pytest.raises(ArgumentError, match="idempotency key"):
        email(db, "")


def test_smtp_delivery_sends_each_message_once_with_its_key(engine, smtp):
    sessions = session_factory(engine)
    with sessions() as db:
        for i in range(30):
            email(db, f"alert:{i}", not_before=T0)
        db.commit()
    worker = Worker(sessions, settings(smtp_host="127.0.0.1", smtp_port=smtp.port), clock=Clock())
    report = worker.run_once(batch=7)
    worker.close()
    assert report.sent == 30 and report.retried == report.dead == 0
    assert Counter(a["key"] for a in smtp.arrivals) == Counter({f"alert:{i}": 1 for i in range(30)})
    assert smtp.inbox["alert:3"]["message_id"] == message_id("alert:3")
    assert smtp.inbox["alert:3"]["to"] == ["rita@example.com"] and "Body of alert:3" in smtp.inbox["alert:3"]["body"]
    with sessions() as db:
        assert status_counts(db)["sent"] == 30
        assert db.scalar(select(func.count()).where(OutboxMessage.sent_at.is_not(None))) == 30
    assert Worker(sessions, settings(smtp_host="127.0.0.1", smtp_port=smtp.port), clock=Clock()).run_once().sent == 0


def test_webhook_that_fails_then_recovers_loses_nothing_and_repeats_nothing(engine, hook):
    sessions = session_factory(engine)
    with sessions() as db:
        for i in range(12):
            enqueue(db, channel=Channel.WEBHOOK, to=hook.url + "/hook", subject=f"s{i}", text="t",
                    payload={"n": i}, idempotency_key=f"hook:{i}", kind="cta_alert", not_before=T0)
        db.commit()
    hook.fail_first = 20  # the receiver is down for 20 requests, then recovers
    clock = Clock()
    worker = Worker(sessions, settings(delivery_max_attempts=10), clock=clock)
    passes = 0
    while len(hook.accepted) < 12 and passes < 20:
        worker.run_once(batch=5)
        clock.advance(3600)  # past any backoff
        passes += 1
    ok = Counter(a["key"] for a in hook.arrivals if a["key"] in hook.accepted and a is hook.accepted[a["key"]])
    assert set(hook.accepted) == {f"hook:{i}" for i in range(12)} and all(n == 1 for n in ok.values())
    delivered = [a for a in hook.arrivals if a is hook.accepted.get(a["key"])]
    assert len(delivered) == 12 and len(hook.arrivals) == 12 + 20  # every failure was retried, no success repeated
    arrival = hook.accepted["hook:4"]
    h = {k.lower(): v for k, v in arrival["headers"].items()}
    assert verify(SECRET, h["x-retain-timestamp"], arrival["raw"], h["x-retain-signature"])
    assert not verify("wrong", h["x-retain-timestamp"], arrival["raw"], h["x-retain-signature"])
    assert arrival["json"]["data"] == {"n": 4} and arrival["json"]["id"] == "hook:4"
    with sessions() as db:
        rows = {m.idempotency_key: m for m in db.scalars(select(OutboxMessage))}
    assert {m.status for m in rows.values()} == {"sent"} and max(m.attempts for m in rows.values()) >= 2


def test_backoff_doubles_then_dead_letter_then_resend(engine, hook):
    sessions = session_factory(engine)
    with sessions() as db:
        enqueue(db, channel=Channel.WEBHOOK, to=hook.url, subject="s", text="t", idempotency_key="dl",
                kind="digest", not_before=T0)
        db.commit()
    hook.fail_first = 100
    clock = Clock()
    worker = Worker(sessions, settings(delivery_max_attempts=3), clock=clock)
    waits = []
    for _ in range(3):
        assert worker.run_once().sent == 0
        with sessions() as db:
            row = db.scalar(select(OutboxMessage))
        waits.append((row.next_attempt_at - clock.now).total_seconds())
        assert worker.run_once().sent == 0  # not due yet: nothing is sent before the backoff
        clock.advance(10_000)
    assert row.status == "dead" and row.attempts == 3 and "503" in row.last_error
    assert waits[:2] == [10.0, 20.0]
    assert len(hook.arrivals) == 3
    with sessions() as db:
        resend(db, row.id, actor="admin", now=clock.now)
    hook.fail_first = 0
    assert worker.run_once().sent == 1 and list(hook.accepted) == ["dl"]
    with sessions() as db, pytest.raises(ArgumentError, match="not dead or held"):
        resend(db, row.id, actor="admin")


def test_permanent_refusals_are_dead_at_once(engine, hook, smtp):
    sessions = session_factory(engine)
    smtp.refuse.add("nobody@example.com")
    hook.gone.add("/gone")
    with sessions() as db:
        email(db, "refused", to="nobody@example.com", not_before=T0)
        enqueue(db, channel=Channel.WEBHOOK, to=hook.url + "/gone", subject="s", text="t", idempotency_key="gone",
                kind="digest", not_before=T0)
        db.commit()
    report = Worker(sessions, settings(smtp_host="127.0.0.1", smtp_port=smtp.port), clock=Clock()).run_once()
    assert report.dead == 2 and report.retried == 0
    with sessions() as db:
        errors = dict(db.execute(select(OutboxMessage.idempotency_key, OutboxMessage.last_error)).all())
    assert "550" in errors["refused"] and "410" in errors["gone"]


def test_a_dead_workers_claims_are_taken_again_after_the_lease(engine, smtp):
    sessions = session_factory(engine)
    with sessions() as db:
        for i in range(5):
            email(db, f"lease:{i}", not_before=T0)
        db.commit()
    clock = Clock()
    s = settings(smtp_host="127.0.0.1", smtp_port=smtp.port, delivery_lease_seconds=60)
    crashed = Worker(sessions, s, clock=clock)
    claimed, _ = crashed.claim(3)  # claimed, committed... and the worker dies before sending
    assert [m.idempotency_key for m in claimed] == ["lease:0", "lease:1", "lease:2"]
    other = Worker(sessions, s, clock=clock)
    assert other.run_once().sent == 2  # the lease still holds: only the unclaimed ones
    clock.advance(61)
    assert other.run_once().sent == 3
    with sessions() as db:
        attempts = dict(db.execute(select(OutboxMessage.idempotency_key, OutboxMessage.attempts)).all())
    assert attempts["lease:0"] == 2 and attempts["lease:4"] == 1
    assert sorted(a["key"] for a in smtp.arrivals) == [f"lease:{i}" for i in range(5)]


def test_concurrent_claims_never_overlap(engine):
    import threading

    sessions = session_factory(engine)
    with sessions() as db:
        for i in range(200):
            email(db, f"c:{i}", not_before=T0)
        db.commit()
    s = settings(smtp_host="127.0.0.1", smtp_port=1)
    got: list[list[int]] = [[], [], [], []]

    def claim(i: int) -> None:
        worker = Worker(sessions, s, clock=Clock())
        while True:
            try:
                batch, _ = worker.claim(9)
            except Exception:  # noqa: BLE001 - SQLite may answer "database is locked" to a racing writer
                continue
            if not batch:
                return
            got[i].extend(m.id for m in batch)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for g in got for i in g]
    assert len(every) == len(set(every)) == 200


class Crash(BaseException):
    """The process dying in the middle of a send: nothing after it runs (not even an except clause for Exception)."""


class CrashingSender:
    """Hands messages to ``inner`` and dies right after the ``after``-th one was delivered, before it returns."""

    def __init__(self, inner, after: int) -> None:
        self.inner, self.after, self.count = inner, after, 0

    def send(self, message) -> None:
        self.inner.send(message)
        self.count += 1
        if self.count == self.after:
            raise Crash()

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("commit_every", [1, 5])
def test_a_crash_repeats_only_what_was_sent_since_the_last_commit(engine, smtp, commit_every):
    from retain.delivery.smtp import EmailSender

    sessions = session_factory(engine)
    with sessions() as db:
        for i in range(30):
            email(db, f"crash:{i:02d}", not_before=T0)
        db.commit()
    s = settings(smtp_host="127.0.0.1", smtp_port=smtp.port, delivery_commit_every=commit_every,
                 delivery_lease_seconds=60, delivery_connections=1, delivery_commit_seconds=3600)
    clock = Clock()
    crashing = Worker(sessions, s, clock=clock,
                      senders={Channel.EMAIL: CrashingSender(EmailSender(s), after=13)})
    with pytest.raises(Crash):
        crashing.run_once(batch=20)
    crashing.close()
    recorded = 12 // commit_every * commit_every  # the 13th was in flight: the groups completed before it
    with sessions() as db:
        assert status_counts(db) | {} == {"pending": 10, "held": 0, "sending": 20 - recorded, "sent": recorded,
                                          "dead": 0, "withdrawn": 0}
    clock.advance(61)
    assert Worker(sessions, s, clock=clock).run_once(batch=20).sent == 30 - recorded
    assert sorted(smtp.inbox) == [f"crash:{i:02d}" for i in range(30)]  # nothing lost
    repeated = sorted(k for k, n in Counter(a["key"] for a in smtp.arrivals).items() if n > 1)
    assert repeated == [f"crash:{i:02d}" for i in range(recorded, 13)]  # sent, not yet recorded: sent again
    assert len(repeated) <= commit_every and (commit_every > 1 or repeated == ["crash:12"])


def test_lanes_send_a_batch_in_parallel_without_repeats(engine, smtp):
    sessions = session_factory(engine)
    with sessions() as db:
        for i in range(50):
            email(db, f"lane:{i:02d}", not_before=T0)
        db.commit()
    worker = Worker(sessions, settings(smtp_host="127.0.0.1", smtp_port=smtp.port, delivery_connections=3),
                    clock=Clock())
    assert len(worker.lanes) == 3 and worker.run_once(batch=25).sent == 50
    worker.close()
    assert Counter(a["key"] for a in smtp.arrivals) == Counter({f"lane:{i:02d}": 1 for i in range(50)})
