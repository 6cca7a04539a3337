"""``retain serve --workers 2`` as a user runs it: a subprocess on 127.0.0.1 with its own port per worker socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from retain.server.testing import seeded_app

RETAIN = str(Path(sys.executable).parent / "retain")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, seconds: float = 90.0) -> None:  # a busy 2-core machine starts workers slowly
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def workers(server: subprocess.Popen) -> list[psutil.Process]:
    """The live worker processes (not multiprocessing's resource tracker, not a dead one awaiting its reaping)."""
    out = []
    for p in psutil.Process(server.pid).children():
        try:
            if "resource_tracker" not in " ".join(p.cmdline()):
                out.append(p)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            pass
    return out


def answering(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    seeded_app(url)[0].state.runtime.engine.dispose()
    port = free_port()
    env = {**os.environ, "RETAIN_DATABASE_URL": url, "RETAIN_SECRET_KEY": "test-" + "k" * 40}
    proc = subprocess.Popen([RETAIN, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answering(base) and len(workers(proc)) == 2)
        yield proc, base, port, env
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_connections_spread_over_workers_a_crashed_worker_restarts_and_sigterm_stops_all(server):
    proc, base, port, env = server
    clients = [httpx.Client(base_url=base) for _ in range(24)]  # keep-alive connections, as a proxy holds them
    try:
        for c in clients:
            assert c.get("/healthz").status_code == 200
        per_worker = [sum(1 for k in w.net_connections("tcp") if k.status == psutil.CONN_ESTABLISHED
                          and k.laddr.port == port) for w in workers(proc)]
        assert sum(per_worker) == 24 and min(per_worker) >= 4, per_worker  # one shared socket gave 24/0 at times
    finally:
        for c in clients:
            c.close()

    victim = workers(proc)[0]
    victim.kill()
    wait_until(lambda: victim.pid not in [w.pid for w in workers(proc)] and len(workers(proc)) == 2)
    wait_until(lambda: all(answering(base) for _ in range(10)))

    # a second server on the same port is refused with a message, not silently load-shared
    second = subprocess.run([RETAIN, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 10 and "cannot listen on 127.0.0.1" in second.stderr + second.stdout

    children = workers(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    assert not answering(base)
