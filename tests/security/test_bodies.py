"""Request bodies: the key is checked before an ingestion body is read, and every body has a limit (413).

In process (httpx's ASGI transport pulls an async generator's chunks only when the app calls ``receive``, so a
test can count what the server read) and over a real socket against ``retain serve`` in a subprocess, whose
memory is sampled while ~200 MB uploads are offered to it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from retain.server.settings import Settings
from retain.server.testing import seeded_app
from retain.state import testing
from retain.warehouse import Warehouse

MAX_BODY = 4096
MAX_INGEST = 64 * 1024
CHUNK = 16 * 1024
GOOD = {"account_id": "b1", "name": "Body Co", "created_at": "2024-06-01T00:00:00Z"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bodies")
    warehouse = str(folder / "wh.duckdb")
    Warehouse.open(warehouse).con.disconnect()
    app, keys = seeded_app(f"sqlite:///{folder / 'app.sqlite'}", warehouse=warehouse,
                                   max_body_bytes=MAX_BODY, max_ingest_bytes=MAX_INGEST)
    return app, keys, folder


class Upload:
    """A body of ``total`` bytes as an async generator of ``CHUNK``-byte pieces, counting the pieces pulled."""

    def __init__(self, total: int, fill: bytes = b" ") -> None:
        self.total, self.fill, self.pulled = total, fill, 0

    async def __aiter__(self):
        left = self.total
        while left > 0:
            self.pulled += 1
            piece = self.fill * min(CHUNK, left)
            left -= len(piece)
            yield piece


def post(app, path: str, content, headers: dict | None = None) -> httpx.Response:
    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(path, content=content, headers=headers or {})
            await response.aread()
            return response

    # a thread of its own: a test that ran before in this worker (Playwright's sync API) may leave this thread's
    # event loop running, and asyncio.run refuses to start inside it
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def too_large(response: httpx.Response) -> dict:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["status"] == 413 and error["code"] == "too_large" and error["message"]
    return error


def test_limits_are_settings_with_defaults_and_environment_names(monkeypatch):
    settings = Settings(dev=True)
    assert settings.max_body_bytes == 2 * 1024 * 1024 and settings.max_ingest_bytes == 64 * 1024 * 1024
    monkeypatch.setenv("RETAIN_MAX_BODY_BYTES", "5000")
    monkeypatch.setenv("RETAIN_MAX_INGEST_BYTES", "6000")
    settings = Settings(dev=True)
    assert (settings.max_body_bytes, settings.max_ingest_bytes) == (5000, 6000)


def test_ingestion_checks_the_key_before_reading_the_body(setup):
    app, keys, _ = setup
    for headers, status in (({}, 401), ({"X-API-Key": "rk_nope_nope"}, 401), ({"X-API-Key": keys["admin"]}, 403)):
        body = Upload(10 * MAX_INGEST)  # chunked: no Content-Length to refuse it by
        response = post(app, "/api/v1/ingest", body, headers)
        assert response.status_code == status and response.json()["error"]["status"] == status
        assert body.pulled == 0, f"{body.pulled} chunks read before the {status}"
        assert response.headers["connection"] == "close"  # the unread upload is dropped, not drained


def test_a_declared_length_over_the_limit_is_refused_unread(setup):
    app, keys, _ = setup
    for path, limit in (("/api/v1/ingest", MAX_INGEST), ("/api/v1/me", MAX_BODY)):
        for headers in ({}, {"X-API-Key": keys["admin-write"]}):
            body = Upload(limit + 1)
            response = post(app, path, body, {**headers, "Content-Length": str(limit + 1)})
            error = too_large(response)
            assert f"{limit:,}" in error["message"] and body.pulled == 0
            assert response.headers["connection"] == "close"


def test_a_chunked_body_is_cut_at_the_limit(setup):
    app, keys, _ = setup
    body = Upload(100 * MAX_INGEST)
    response = post(app, "/api/v1/ingest", body, {"X-API-Key": keys["admin-write"]})
    too_large(response)
    assert body.pulled <= MAX_INGEST // CHUNK + 1  # stopped at the limit, not at the end of the upload
    assert response.headers["connection"] == "close"


def test_ingestion_within_the_limit_still_loads_and_reports_invalid_json(setup):
    app, keys, _ = setup
    write = {"X-API-Key": keys["admin-write"], "Content-Type": "application/json"}
    payload = json.dumps({"tables": {"accounts": [GOOD]}}).encode()
    payload += b" " * (MAX_INGEST - len(payload))  # exactly the limit, sent in chunks with no length
    chunks = [payload[i:i + CHUNK] for i in range(0, len(payload), CHUNK)]

    async def streamed():
        for chunk in chunks:
            yield chunk

    response = post(app, "/api/v1/ingest", streamed(), write)
    assert response.status_code == 200, response.text
    assert response.json()["loaded"] == 1 and "connection" not in response.headers
    response = TestClient(app).post("/api/v1/ingest", headers=write,
                                    json={"tables": {"accounts": [{**GOOD, "account_id": "b2"}]}})
    assert response.status_code == 200 and response.json()["committed"], response.text
    response = post(app, "/api/v1/ingest", b'{"tables": ', write)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["details"][0]["loc"][0] == "body"


def test_a_page_form_over_the_limit_gets_413(setup):
    app, _, _ = setup
    client = TestClient(app)
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    fields = {"username": "admin", "password": testing.PASSWORDS["admin"], "csrf_token": token, "next": "/"}
    big = {**fields, "next": "/" + "x" * MAX_BODY}
    response = client.post("/login", data=big, follow_redirects=False)  # with a Content-Length
    assert response.status_code == 413 and response.headers["content-type"].startswith("text/html")
    assert "larger than the limit" in response.text
    encoded = urlencode(big).encode()

    async def streamed():  # the same form in pieces, with no Content-Length: cut by the count
        for i in range(0, len(encoded), 1000):
            yield encoded[i:i + 1000]

    response = post(app, "/login", streamed(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and response.headers["content-type"].startswith("text/html")
    assert client.post("/login", data=fields, follow_redirects=False).status_code == 303  # within the limit


# --- over a real socket: `retain serve` in a subprocess, ~200 MB offered, its memory sampled -------------------

RETAIN = str(Path(sys.executable).parent / "retain")
OFFERED = 200 * 1024 * 1024
SERVER_INGEST_LIMIT = 8 * 1024 * 1024
SOCKET_CHUNK = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answering(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def server(setup):
    _, keys, folder = setup  # the same users and keys, in the same application database
    port = free_port()
    env = {**os.environ, "RETAIN_DATABASE_URL": f"sqlite:///{folder / 'app.sqlite'}",
           "RETAIN_SECRET_KEY": "test-" + "k" * 40, "RETAIN_WAREHOUSE": str(folder / "server.duckdb"),
           "RETAIN_MAX_INGEST_BYTES": str(SERVER_INGEST_LIMIT)}
    proc = subprocess.Popen([RETAIN, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not answering(f"http://127.0.0.1:{port}"):
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield proc, port, keys
    finally:
        proc.kill()
        proc.wait()


def offered(total: int):
    """The upload, from a generator: ``total`` bytes in 1 MiB pieces."""
    block = b" " * SOCKET_CHUNK
    for start in range(0, total, SOCKET_CHUNK):
        yield block[:min(SOCKET_CHUNK, total - start)]


def upload(port: int, headers: dict, *, chunked: bool) -> tuple[int, int]:
    """POST ``OFFERED`` bytes to /api/v1/ingest, sending until the server answers (or drops the connection);
    returns the status and how many body bytes were sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    length = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(OFFERED)}
    head = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json", **length, **headers}
    sock.sendall(("POST /api/v1/ingest HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) +
                  "\r\n").encode())
    sent = 0
    try:
        for piece in offered(OFFERED):
            if select.select([sock], [], [], 0)[0]:
                break  # answered: stop sending, as curl and browsers do
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server closed the connection after answering; the answer is still in our receive buffer
    answer = b""
    try:
        while b"\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 "), f"no answer after {sent:,} bytes: {answer[:100]!r}"
    return int(answer.split()[1]), sent


class Sampler:
    """The largest resident set size of a process, sampled every few milliseconds while in use."""

    def __init__(self, pid: int) -> None:
        self.process, self.peak, self.running = psutil.Process(pid), 0, True
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.002)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.running = False
        self.thread.join()


def test_large_uploads_over_a_socket_are_refused_without_being_held(server):
    proc, port, keys = server
    write = {"X-API-Key": keys["admin-write"]}
    upload(port, {}, chunked=True)  # warm the server's code paths once
    before = psutil.Process(proc.pid).memory_info().rss
    results = {}
    started = time.perf_counter()
    with Sampler(proc.pid) as sampler:
        for name, headers, chunked in (("no key, chunked", {}, True), ("no key, length", {}, False),
                                       ("write key, chunked", write, True), ("write key, length", write, False)):
            results[name] = upload(port, headers, chunked=chunked)
    seconds = time.perf_counter() - started
    grown = sampler.peak - before
    print(f"\noffered {OFFERED / 2**20:.0f} MiB per upload; server RSS {before / 2**20:.0f} MiB before, peak "
          f"{sampler.peak / 2**20:.0f} MiB (+{grown / 2**20:.1f} MiB) in {seconds:.1f}s; "
          + "; ".join(f"{k}: {s} after {b / 2**20:.1f} MiB sent" for k, (s, b) in results.items()))
    assert results["no key, chunked"][0] == 401
    assert results["no key, length"][0] in (401, 413)
    assert results["write key, chunked"][0] == 413 and results["write key, length"][0] == 413
    assert all(sent < OFFERED / 4 for _, sent in results.values())  # answered early, not after the upload
    assert grown < 48 * 1024 * 1024, f"server memory grew by {grown / 2**20:.0f} MiB"
