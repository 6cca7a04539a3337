"""``retain deliver`` as a real process killed with SIGKILL mid-batch, its dead letters and re-send, and
``retain caps report`` through the CLI runner."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from tests.unit.delivery.receivers import MailSink
from typer.testing import CliRunner

from retain.cli.main import app
from retain.delivery.outbox import Channel, enqueue
from retain.state.db import make_engine, session_factory, upgrade
from retain.warehouse import Warehouse

runner = CliRunner()
RETAIN = str(Path(sys.executable).with_name("retain"))
N = 60


def flat(res) -> str:
    return " ".join(res.output.split())


@pytest.fixture
def outbox_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as db:
        for i in range(N):
            enqueue(db, channel=Channel.EMAIL, to=f"user{i}@vendor.example", subject=f"Alert {i}", text="t",
                    idempotency_key=f"alert:{i:03d}", kind="cta_alert")
        db.commit()
    yield url, engine
    engine.dispose()


def env_for(url: str, port: int, **extra: str) -> dict[str, str]:
    return {**os.environ, "RETAIN_DATABASE_URL": url, "RETAIN_SMTP_HOST": "127.0.0.1", "RETAIN_SMTP_PORT": str(port),
            "RETAIN_SMTP_STARTTLS": "false", "RETAIN_DELIVERY_LEASE_SECONDS": "2",
            "RETAIN_DELIVERY_POLL_SECONDS": "0.2", **extra}


def statuses(engine) -> Counter:
    from sqlalchemy import select

    from retain.state.outbox import OutboxMessage

    with session_factory(engine)() as db:
        return Counter(db.scalars(select(OutboxMessage.status)))


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_the_message_in_flight(outbox_db, tmp_path):
    """The SMTP server kills the worker (SIGKILL) after receiving message 25 and before answering it: the worker
    dies between sending and recording, in the middle of its second batch of 20. One lane committing each outcome
    (the strictest setting; the default's bound, a lane's uncommitted group, is in the unit tests). The next worker
    takes the expired claims again: every key arrives, the one in flight twice (the documented at-least-once
    repeat), and the mailbox, which drops a key it has seen, holds each key exactly once."""
    url, engine = outbox_db
    sink = MailSink()
    worker: subprocess.Popen | None = None

    def kill_at_25(arrival: dict) -> None:
        if len(sink.arrivals) == 25 and worker is not None:
            os.kill(worker.pid, signal.SIGKILL)

    sink.on_message = kill_at_25
    sink.start()
    try:
        env = env_for(url, sink.port, RETAIN_DELIVERY_CONNECTIONS="1", RETAIN_DELIVERY_COMMIT_EVERY="1")
        worker = subprocess.Popen([RETAIN, "deliver", "--batch", "20"], env=env, cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert worker.wait(timeout=120) == -signal.SIGKILL
        assert len(sink.arrivals) == 25
        assert statuses(engine) == Counter({"sent": 24, "sending": 16, "pending": 20})  # in flight + claimed
        time.sleep(2.2)  # the dead worker's lease expires
        done = subprocess.run([RETAIN, "deliver", "--once", "--batch", "20"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "sent 36" in " ".join(done.stdout.split())
    finally:
        sink.stop()
    keys = [f"alert:{i:03d}" for i in range(N)]
    assert sorted(sink.inbox) == keys  # nothing lost, and the mailbox holds each key once
    repeats = {k: n for k, n in Counter(a["key"] for a in sink.arrivals).items() if n > 1}
    assert repeats == {"alert:024": 2}  # only the message in flight at the kill arrived twice
    assert statuses(engine) == Counter({"sent": N})


def test_dead_letters_are_listed_and_resent(outbox_db, tmp_path):
    url, engine = outbox_db
    sink = MailSink()
    sink.refuse.update(f"user{i}@vendor.example" for i in (3, 7))
    sink.start()
    try:
        env = env_for(url, sink.port)
        run = runner.invoke(app, ["deliver", "--once"], env=env)
        assert run.exit_code == 0, run.output
        assert "sent 58" in flat(run) and "dead 2" in flat(run)
        dead = runner.invoke(app, ["deliver", "--dead", "--out", str(tmp_path / "dead.csv")], env=env)
        assert dead.exit_code == 0 and "Alert 3" in dead.output and "550" in dead.output
        assert (tmp_path / "dead.csv").read_text().count("\n") == 3
        sink.refuse.clear()
        from sqlalchemy import select

        from retain.state.outbox import OutboxMessage

        with session_factory(engine)() as db:
            dead_id = db.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == "alert:003"))
        resent = runner.invoke(app, ["deliver", "--resend", str(dead_id), "--by", "ops"], env=env)
        assert resent.exit_code == 0 and "alert:003" in flat(resent)
        again = runner.invoke(app, ["deliver", "--resend", str(dead_id)], env=env)
        assert again.exit_code == 2 and "not dead or held" in flat(again)
        missing = runner.invoke(app, ["deliver", "--resend", "9999"], env=env)
        assert missing.exit_code == 7 and "no outbox message 9999" in flat(missing)
        assert "sent 1" in flat(runner.invoke(app, ["deliver", "--once"], env=env))
    finally:
        sink.stop()
    assert statuses(engine) == Counter({"sent": N - 1, "dead": 1})


def test_deliver_without_smtp_says_how_to_set_it(outbox_db, tmp_path):
    url, _ = outbox_db
    env = {k: v for k, v in env_for(url, 1).items() if k != "RETAIN_SMTP_HOST"}
    env["RETAIN_WEBHOOK_URL"] = ""
    res = runner.invoke(app, ["deliver", "--once"], env=env | {"RETAIN_SMTP_HOST": ""})
    assert res.exit_code == 0 and "sent 0" in flat(res) and f"pending {N}" in flat(res)  # e-mails wait
    bad = runner.invoke(app, ["deliver", "--once"], env=env | {"RETAIN_SMTP_PORT": "abc"})
    assert bad.exit_code == 2 and "RETAIN_SMTP_PORT: Input should be a valid integer" in flat(bad)


def test_caps_report_lists_past_breaches(tmp_path):
    path = tmp_path / "wh.duckdb"
    wh = Warehouse.open(path)
    start = dt.datetime(2025, 3, 3, 10, tzinfo=dt.UTC)
    rows = [{"activity_id": f"e{i}", "occurred_at": start + dt.timedelta(hours=5 * i), "activity_type": "email",
             "account_id": "a1", "contact_id": "c1", "direction": "outbound"} for i in range(5)]
    schema = wh.raw("activities").schema().to_pyarrow()
    wh.con.insert("activities", ibis.memtable(pa.Table.from_pylist(rows, schema=schema)))
    wh.con.disconnect()
    out = tmp_path / "breaches.csv"
    res = runner.invoke(app, ["--db", str(path), "caps", "report", "--start", "2025-03-01", "--end", "2025-03-31",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "1 breach(es) from 2025-03-01 to 2025-03-31 (1 contacts or accounts)" in flat(res)
    report = pd.read_csv(out)
    assert report[["cap", "key_id", "touches", "max", "breach_on"]].values.tolist() == [
        ["emails_per_contact_week", "c1", 5, 3, "2025-03-04"]]  # three on the 3rd (the cap), two more on the 4th
    bad = runner.invoke(app, ["--db", str(path), "caps", "report", "--start", "2025-03-31", "--end", "2025-03-01"])
    assert bad.exit_code == 2 and "before --start" in flat(bad)
    nothing = runner.invoke(app, ["--db", str(path), "caps", "report", "--start", "2024-01-01", "--end", "2024-02-01"])
    assert nothing.exit_code == 0 and "no cap was breached" in flat(nothing)
