"""The delivery worker: claim due messages under a lease, send each, record the outcome, retry with backoff.

One pass (:meth:`Worker.run_once`):

1. **release** held customer-facing messages whose cap window now allows them (checked again at most hourly);
2. **claim** up to ``batch`` due messages: pending ones whose ``next_attempt_at`` has come, and ``sending`` ones
   whose lease expired (their worker died); each gets this claim's token, a lease and one more attempt, committed
   before anything is sent. The ``UPDATE`` repeats the "due" condition, so on SQLite (writers serialised) and on
   PostgreSQL (``SELECT ... FOR UPDATE SKIP LOCKED`` first) two workers never hold the same message;
3. **send** each message and record its outcome: ``sent``; or ``pending`` again after
   ``backoff * 2**(attempts-1)`` seconds (capped); or ``dead`` after ``max_attempts`` or a permanent refusal.
   Outcomes are committed every ``delivery_commit_every`` messages (default 20) or ``delivery_commit_seconds``
   (default 1 s), whichever comes first: one commit per message costs more than the send itself.

A worker killed after sending but before committing leaves those messages ``sending``; when the lease expires they
are sent again with the same idempotency key. Delivery is therefore **at least once**: a crash repeats at most the
messages sent since the last commit (at most ``delivery_commit_every`` per lane; exactly the one in flight with 1
and one lane), and it is **exactly once** for a receiver that drops a key it has already seen. A claimed batch is
spread over ``delivery_connections`` lanes (threads, each with its own SMTP connection and commits). Nothing is
ever lost: a message leaves ``sending`` only through a committed outcome.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from retain.delivery.caps import CapsSpec, cap_block, load_caps
from retain.delivery.errors import SendFailed
from retain.delivery.outbox import Channel, MessageStatus, lock_contact
from retain.delivery.settings import DeliverySettings
from retain.state.models import utcnow
from retain.state.outbox import OutboxMessage

log = logging.getLogger("retain.delivery")
HELD_RECHECK = dt.timedelta(hours=1)


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> None: ...

    def close(self) -> None: ...


def default_senders(settings: DeliverySettings) -> dict[Channel, Sender]:
    """A sender per channel that can be used: e-mail when an SMTP server is set, webhooks always."""
    from retain.delivery.smtp import EmailSender
    from retain.delivery.webhook import WebhookSender

    senders: dict[Channel, Sender] = {Channel.WEBHOOK: WebhookSender(settings)}
    if settings.smtp_host:
        senders[Channel.EMAIL] = EmailSender(settings)
    return senders


@dataclass
class PassReport:
    """What one pass did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    held: int = 0

    def add(self, other: PassReport) -> None:
        for name in ("sent", "retried", "dead", "released", "held"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Worker:
    """Delivers the outbox of the application database behind ``sessions``."""

    def __init__(self, sessions: sessionmaker[Session], settings: DeliverySettings | None = None, *, wh=None,
                 caps: CapsSpec | None = None, senders: dict[Channel, Sender] | None = None,
                 clock: Callable[[], dt.datetime] = utcnow, warehouse_path: str | None = None) -> None:
        self.sessions = sessions
        self.warehouse_path = warehouse_path  # opened only while releasing held messages (``wh`` not given)
        self.settings = settings or DeliverySettings()
        self.wh = wh
        self.caps = caps
        # one set of senders (one SMTP connection) per lane; lanes send a claimed batch in parallel
        self.lanes = [senders] if senders is not None else [default_senders(self.settings)
                                                            for _ in range(self.settings.delivery_connections)]
        self.senders = self.lanes[0]
        self.clock = clock

    # -- one pass -------------------------------------------------------------------------------------------

    def run_once(self, batch: int = 100) -> PassReport:
        """Release what the caps allow, then claim and send batches until nothing is due."""
        report = self.release_held()
        while True:
            claimed, token = self.claim(batch)
            if not claimed:
                return report
            report.add(self.deliver(claimed, token))

    def run(self, stop: threading.Event, batch: int = 100) -> PassReport:
        """Passes until ``stop`` is set, pausing ``delivery_poll_seconds`` when idle; errors are logged, not fatal."""
        total = PassReport()
        while not stop.is_set():
            try:
                total.add(self.run_once(batch))
            except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
                log.exception("delivery pass failed; trying again in %.0f s", self.settings.delivery_poll_seconds)
            stop.wait(self.settings.delivery_poll_seconds)
        self.close()
        return total

    def close(self) -> None:
        for lane in self.lanes:
            for sender in lane.values():
                sender.close()

    # -- steps ----------------------------------------------------------------------------------------------

    def claim(self, batch: int) -> tuple[list[OutboxMessage], str]:
        """Claim up to ``batch`` due messages of the channels this worker can send (committed); and the token."""
        m, now, token = OutboxMessage, self.clock(), uuid.uuid4().hex
        due = and_(m.channel.in_([c.value for c in self.senders]), or_(
            and_(m.status == MessageStatus.PENDING.value, m.next_attempt_at <= now),
            and_(m.status == MessageStatus.SENDING.value, m.lease_until < now)))
        lease = now + dt.timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.sessions() as db:
            # two statements: PostgreSQL may re-run a LIMIT ... SKIP LOCKED sub-select inside an UPDATE and claim
            # more than ``batch``; the repeated ``due`` makes SQLite's unlocked select safe (one writer wins)
            ids = db.scalars(select(m.id).where(due).order_by(m.id).limit(batch)
                             .with_for_update(skip_locked=True)).all()
            if not ids:
                return [], token
            db.execute(update(m).where(m.id.in_(ids), due)
                       .values(status=MessageStatus.SENDING.value, claim_token=token, lease_until=lease,
                               attempts=m.attempts + 1).execution_options(synchronize_session=False))
            claimed = list(db.scalars(select(m).where(m.claim_token == token).order_by(m.id)))
            db.expunge_all()
            db.commit()
        return claimed, token

    def deliver(self, claimed: list[OutboxMessage], token: str) -> PassReport:
        """Send the claimed messages, spread over the lanes (``delivery_connections`` threads, each with its own
        connection and session); an error in a lane is raised once all lanes stopped."""
        lanes = min(len(self.lanes), len(claimed))
        if lanes <= 1:
            return self._deliver_lane(claimed, token, self.lanes[0])
        reports = [PassReport() for _ in range(lanes)]
        errors: list[BaseException] = []

        def lane(i: int) -> None:
            try:
                reports[i] = self._deliver_lane(claimed[i::lanes], token, self.lanes[i])
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                errors.append(exc)

        threads = [threading.Thread(target=lane, args=(i,), name=f"retain-delivery-{i}") for i in range(lanes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        total = PassReport()
        for report in reports:
            total.add(report)
        return total

    def _deliver_lane(self, claimed: list[OutboxMessage], token: str, senders: dict[Channel, Sender]) -> PassReport:
        """Send each message; record outcomes every ``delivery_commit_every`` messages or
        ``delivery_commit_seconds``, whichever comes first (see the module's guarantee)."""
        report, m, s = PassReport(), OutboxMessage, self.settings
        half_lease = dt.timedelta(seconds=s.delivery_lease_seconds / 2)
        renew_at = self.clock() + half_lease
        sent: list[int] = []
        failed: list[tuple[int, dict]] = []

        def record(db: Session) -> None:
            if sent:
                db.execute(update(m).where(m.id.in_(sent), m.claim_token == token).values(
                    status=MessageStatus.SENT.value, sent_at=self.clock(), claim_token=None, lease_until=None,
                    last_error=None))
            for message_id, values in failed:
                db.execute(update(m).where(m.id == message_id, m.claim_token == token).values(**values))
            db.commit()
            sent.clear()
            failed.clear()

        with self.sessions() as db:
            last = time.monotonic()
            for message in claimed:
                if self.clock() >= renew_at:  # a slow batch keeps its claims
                    record(db)
                    renew_at = self._renew(db, token, half_lease)
                try:
                    senders[Channel(message.channel)].send(message)
                except SendFailed as exc:
                    failed.append((message.id, self._failure(message, exc, report)))
                else:
                    sent.append(message.id)
                    report.sent += 1
                if len(sent) + len(failed) >= s.delivery_commit_every or \
                        time.monotonic() - last >= s.delivery_commit_seconds:
                    record(db)
                    last = time.monotonic()
            record(db)
        return report

    def _renew(self, db: Session, token: str, half_lease: dt.timedelta) -> dt.datetime:
        now = self.clock()
        db.execute(update(OutboxMessage).where(OutboxMessage.claim_token == token,
                                               OutboxMessage.status == MessageStatus.SENDING.value)
                   .values(lease_until=now + 2 * half_lease))
        db.commit()
        return now + half_lease

    def _failure(self, message: OutboxMessage, exc: SendFailed, report: PassReport) -> dict:
        s = self.settings
        values = {"claim_token": None, "lease_until": None, "last_error": str(exc)[:2000]}
        if exc.permanent or message.attempts >= s.delivery_max_attempts:
            report.dead += 1
            why = "refused for good" if exc.permanent else f"after {message.attempts} attempts"
            log.warning("outbox message %s is a dead letter (%s): %s", message.id, why, exc)
            return values | {"status": MessageStatus.DEAD.value}
        report.retried += 1
        wait = min(s.delivery_backoff_seconds * 2 ** (message.attempts - 1), s.delivery_backoff_max_seconds)
        return values | {"status": MessageStatus.PENDING.value,
                         "next_attempt_at": self.clock() + dt.timedelta(seconds=wait)}

    def release_held(self) -> PassReport:
        """Held messages due for a look: pending when no cap blocks them on today (or their own later day)."""
        report, m, now = PassReport(), OutboxMessage, self.clock()
        with self.sessions() as db:
            # locked until committed, skipping what another transaction holds (PostgreSQL; SQLite serialises
            # writers): a CTA closing meanwhile withdraws a message before or after its release, never in between
            held = list(db.scalars(select(m).where(m.status == MessageStatus.HELD.value, m.next_attempt_at <= now)
                                   .order_by(m.touch_on, m.id).limit(500).with_for_update(skip_locked=True)))
            if not held:
                return report
            if self.caps is None:
                self.caps = load_caps(self.settings.caps)
            wh, opened = self.wh, False
            if wh is None and self.warehouse_path:
                wh = _open_warehouse(self.warehouse_path)
                if wh is None:  # busy (another process writes it): look again at the next pass
                    return report
                opened = True
            try:
                self._release(db, held, wh, now, report)
            finally:
                if opened:
                    wh.con.disconnect()
            db.commit()
        return report

    def _release(self, db: Session, held: list[OutboxMessage], wh, now: dt.datetime, report: PassReport) -> None:
        for message in held:
            day = max(message.touch_on or now.date(), now.date())
            for key in (message.contact_id, message.account_id):
                if key:
                    lock_contact(db, key)
            reason = cap_block(db, wh, contact_id=message.contact_id, account_id=message.account_id,
                               category=message.category, day=day, caps=self.caps, channel=message.channel)
            if reason is None:
                message.status, message.touch_on, message.held_reason = MessageStatus.PENDING.value, day, None
                message.next_attempt_at = now
                report.released += 1
            else:
                message.held_reason, message.next_attempt_at = reason, now + HELD_RECHECK
                report.held += 1
            db.flush()  # the next message's cap check counts this one


class WorkerThread:
    """The worker inside ``retain serve``: a daemon thread started with the app and stopped with it."""

    def __init__(self, sessions: sessionmaker[Session], settings: DeliverySettings, *, batch: int = 100,
                 warehouse: str | None = None) -> None:
        self.worker = Worker(sessions, settings, warehouse_path=warehouse)
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.worker.run, args=(self._stop, self.batch),
                                        name="retain-delivery", daemon=True)
        self._thread.start()
        log.info("delivery worker started")

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=30)
        self._thread = None


def _open_warehouse(target: str | None):
    """The warehouse at ``target``, for the caps to count its activities; None when it cannot be opened now."""
    if not target:
        return None
    from retain.warehouse import Warehouse

    try:
        return Warehouse.open(target, create=False)
    except Exception:  # noqa: BLE001 - delivery goes on; held messages wait for the next pass
        log.warning("delivery worker: cannot open the warehouse %s now; held messages wait", target)
        return None
