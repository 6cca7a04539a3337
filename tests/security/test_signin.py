"""Sign-in under attack (security review, issue 10): concurrent guesses, timing, forged forwarded headers and a kept
sign-in form. Each test failed on the code before its fix.

Argon2 checks are counted by wrapping ``users.verify_password`` (the real check still runs). Servers listen on
127.0.0.1 only: uvicorn in a thread for the concurrent burst, ``retain serve`` in a subprocess for the proxy set-up.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from tests.conftest import fresh_postgres_schema

from retain.server.testing import seeded_app
from retain.state import testing, users
from retain.state.db import make_engine, session_factory, upgrade
from retain.state.models import AuditEvent

RETAIN = str(Path(sys.executable).parent / "retain")
PRELOGIN = "retain_prelogin"
LIMIT = users.RateLimit(attempts=5, window=dt.timedelta(minutes=15))
BURST = 40


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> Iterator[str]:
    """A SQLite file, or a fresh schema of the real PostgreSQL (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite'}"
        return
    url = request.getfixturevalue("postgres_url")
    with fresh_postgres_schema(url) as schema:
        yield f"{url}?options=-csearch_path%3D{schema}"


@contextmanager
def migrated(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def checks(monkeypatch) -> list[str]:
    """The password hashes checked by argon2 during the test, in order."""
    made: list[str] = []
    real = users.verify_password

    def counted(password_hash: str, password: str) -> bool:
        made.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(users, "verify_password", counted)
    return made


def outcome(db, username: str, password: str, *, ip: str = "203.0.113.9", limit: users.RateLimit = LIMIT) -> str:
    try:
        users.authenticate(db, username, password, ip=ip, limit=limit)
    except users.RateLimited:
        return "refused"
    except users.AuthError:
        return "checked"
    return "signed in"


def burst(function) -> Counter:
    """``function`` called by ``BURST`` threads released at the same moment."""
    start = threading.Barrier(BURST)

    def run(_):
        start.wait()
        return function()

    with ThreadPoolExecutor(BURST) as pool:
        return Counter(pool.map(run, range(BURST)))


# -- 2: the rate limit holds under concurrent guesses ------------------------------------------------------------


def test_a_burst_of_wrong_passwords_gets_at_most_the_limit_of_argon2_checks(database_url, checks):
    with migrated(database_url) as engine:
        sessions = session_factory(engine)
        with sessions() as db:
            users.create_user(db, "bob", "bob-password", "admin")

        def guess() -> str:
            with sessions() as db:  # a session (and connection) per thread, as per request in the server
                return outcome(db, "bob", "wrong-password")

        outcomes = burst(guess)
        assert len(checks) <= LIMIT.attempts, f"{len(checks)} of {BURST} guesses checked"  # was 40 of 40
        assert outcomes == Counter(checked=len(checks), refused=BURST - len(checks))
        # refused guesses gave their reservation back: the window holds exactly the checked ones, so what is left
        # of the limit is still available, one guess at a time, and then even the right password is refused
        with sessions() as db:
            left = LIMIT.attempts - len(checks)
            assert [outcome(db, "bob", "wrong-password") for _ in range(left)] == ["checked"] * left
            assert outcome(db, "bob", "bob-password") == "refused"
        assert len(checks) == LIMIT.attempts


@contextmanager
def running(app) -> Iterator[str]:
    """``app`` served by uvicorn on a free 127.0.0.1 port, in a thread of this process."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_burst_over_http_gets_at_most_the_limit_of_argon2_checks(database_url, checks):
    app, _ = seeded_app(database_url, login_attempts=LIMIT.attempts)
    try:
        with running(app) as base, httpx.Client(base_url=base, limits=httpx.Limits(max_connections=BURST),
                                                timeout=60) as client:
            token = csrf_token(client.get("/login").text)  # the pre-login cookie stays in the client

            def guess() -> int:
                return client.post("/login", data={"username": "olga", "password": "wrong-password",
                                                   "csrf_token": token}).status_code

            statuses = burst(guess)
    finally:
        app.state.runtime.reader.dispose()
        app.state.runtime.engine.dispose()
    assert len(checks) <= LIMIT.attempts, f"{len(checks)} of {BURST} guesses checked"
    assert statuses == Counter({401: len(checks), 429: BURST - len(checks)})


# -- 3: no user enumeration by timing ------------------------------------------------------------------------------


def test_unknown_and_deactivated_users_cost_the_same_argon2_check(tmp_path, checks):
    roomy = users.RateLimit(attempts=1000)
    with migrated(f"sqlite:///{tmp_path / 'app.sqlite'}") as engine, session_factory(engine)() as db:
        users.create_user(db, "ann", "ann-password", "admin")
        users.create_user(db, "gone", "gone-password", "admin")
        users.set_active(db, "gone", False)
        for name in ("nobody", "gone"):  # the deactivated user with the right password: checked, still refused
            before = len(checks)
            assert outcome(db, name, "gone-password", limit=roomy) == "checked"
            assert len(checks) == before + 1, f"no argon2 check for '{name}'"
        took: dict[str, list[float]] = {"ann": [], "nobody": []}
        for _ in range(10):  # interleaved, so both see the same load
            for name, samples in took.items():
                start = time.perf_counter()
                assert outcome(db, name, "wrong-password", limit=roomy) == "checked"
                samples.append(time.perf_counter() - start)
    known, unknown = statistics.median(took["ann"]), statistics.median(took["nobody"])
    assert max(known, unknown) / min(known, unknown) < 1.5, took  # was ~120 ms against ~3 ms


# -- 5: X-Forwarded-For and -Proto count only from a configured proxy ------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def answering(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def retain_serve(env: dict[str, str], workers: int) -> Iterator[str]:
    """``retain serve`` as a user runs it, on a free 127.0.0.1 port; stopped by SIGTERM (which stops its workers)."""
    port = free_port()
    proc = subprocess.Popen([RETAIN, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answering(base) or proc.poll() is not None, seconds=90)  # slow on a busy machine
        assert proc.poll() is None, proc.stdout.read()
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


FORWARDED = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.4", "198.51.100.4",
             "198.51.100.4"]  # a rotating address, then one address again and again


@pytest.mark.parametrize(("workers", "trusted"), [(1, False), (2, False), (2, True)],
                         ids=["no-proxy-1-worker", "no-proxy-2-workers", "proxy-127.0.0.1-2-workers"])
def test_forwarded_headers_count_only_from_a_trusted_proxy(tmp_path, workers, trusted):
    """Both ways ``retain serve`` runs uvicorn (in-process for one worker, ``retain.server.serve`` for more)."""
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    seeded_app(url)[0].state.runtime.engine.dispose()
    env = {k: v for k, v in os.environ.items() if k not in {"RETAIN_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"}}
    env |= {"RETAIN_DATABASE_URL": url, "RETAIN_SECRET_KEY": "test-" + "k" * 40, "RETAIN_LOGIN_ATTEMPTS": "3"}
    if trusted:
        env["RETAIN_TRUSTED_PROXIES"] = "127.0.0.1"
    with retain_serve(env, workers) as base:
        form = httpx.get(f"{base}/login", headers={"X-Forwarded-Proto": "https"})
        prelogin = form.headers["set-cookie"]
        pair = {"cookie": f"{PRELOGIN}={re.search(PRELOGIN + r'=([^;]+)', prelogin).group(1)}"}
        statuses = [httpx.post(f"{base}/login", headers={**pair, "X-Forwarded-For": address},
                               data={"username": "olga", "password": "wrong-password",
                                     "csrf_token": csrf_token(form.text)}).status_code
                    for address in FORWARDED]
    with migrated(url) as engine, session_factory(engine)() as db:
        seen = list(db.scalars(select(AuditEvent.ip).where(AuditEvent.action.like("login.%")).order_by(AuditEvent.id)))
    if trusted:  # each forwarded client has its own limit, and the proxy's https counts
        assert statuses == [401, 401, 401, 401, 401, 401, 429] and seen == FORWARDED
        assert "secure" in prelogin.lower()
    else:  # the header is ignored: every guess is from 127.0.0.1, and the connection is plain http
        assert statuses == [401, 401, 401, 429, 429, 429, 429], "rotating X-Forwarded-For escaped the limit"
        assert seen == ["127.0.0.1"] * len(FORWARDED)
        assert "secure" not in prelogin.lower()


def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(tmp_path):
    app, _ = seeded_app(f"sqlite:///{tmp_path / 'app.sqlite'}", trusted_proxies="10.0.0.0/8")
    for peer, secure in (("10.1.2.3", True), ("203.0.113.5", False), ("testclient", False)):
        r = TestClient(app, client=(peer, 50000)).get("/login", headers={"X-Forwarded-Proto": "https"})
        assert ("secure" in r.headers["set-cookie"].lower()) is secure, peer


# -- 9: the sign-in form's CSRF pair expires ----------------------------------------------------------------------


def test_a_kept_sign_in_form_expires_with_its_cookie(tmp_path, monkeypatch):
    """Someone who kept a pre-login cookie and its form token (not a browser: it drops the cookie after an hour)
    cannot use them later."""
    app, _ = seeded_app(f"sqlite:///{tmp_path / 'app.sqlite'}")
    form = TestClient(app).get("/login")
    pair = {"cookie": f"{PRELOGIN}={form.cookies[PRELOGIN]}"}
    data = {"username": "olga", "password": testing.PASSWORDS["olga"], "csrf_token": csrf_token(form.text)}

    def replay(after_seconds: int) -> httpx.Response:
        now = time.time()
        with monkeypatch.context() as patch:
            patch.setattr(time, "time", lambda: now + after_seconds)
            return TestClient(app).post("/login", data=data, headers=pair, follow_redirects=False)

    late = replay(3600 + 60)
    assert late.status_code == 400 and "The form expired" in late.text, late.status_code  # was 303, signed in
    assert "retain_session" not in late.headers.get("set-cookie", "")
    assert replay(3600 - 60).status_code == 303  # the same pair within the hour
    forged = {**data, "csrf_token": csrf_token(form.text).split(".")[0] + ".forged"}
    assert TestClient(app).post("/login", data=forged, headers=pair).status_code == 400
