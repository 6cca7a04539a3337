"""``retain serve`` for the web benchmarks: started on a free loopback port, up when ``/healthz`` answers, stopped.

One helper for ``bench_web.py``, ``bench_today.py`` and ``bench_surveys.py``, so each times the server the same
way: the installed ``retain`` command beside the running interpreter (the production entry point, with its worker
processes), its stderr in ``server.log`` in the benchmark's folder (a file: a full pipe would stall the server),
and any traceback in that log printed when the server stops, so a benchmark that timed error pages says so.

    with serve(url, folder, workers=2) as server:
        httpx.get(server.base + "/healthz")
        server_cpu(server.pid)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SECRET = "bench-" + "x" * 32  # a throwaway signing key: the settings refuse a default one
START_TIMEOUT = 120.0  # s: two workers took 50 s to answer on this 2-core machine at load average 23


@dataclass(frozen=True)
class Server:
    """A running ``retain serve``: where it answers and its process id (the parent of its workers)."""

    base: str
    pid: int


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(base: str, log: Path, timeout: float) -> None:
    """Return once ``/healthz`` answers 200; exit with the server's log when it has not within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    sys.exit("server did not start: " + log.read_text()[-2000:])


def _stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM (uvicorn finishes the requests in flight and stops its workers), then SIGKILL after ``timeout``."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve(database_url: str, folder: Path, *, workers: int = 1, secret: str = SECRET,
          start_timeout: float = START_TIMEOUT) -> Iterator[Server]:
    """``retain serve`` on the application database ``database_url`` with ``workers`` processes, on a free port of
    127.0.0.1, until the block ends; its log is ``folder / "server.log"``."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RETAIN_DATABASE_URL": database_url, "RETAIN_SECRET_KEY": secret}
    log_path = folder / "server.log"
    log = log_path.open("w")
    retain = str(Path(sys.executable).parent / "retain")
    process = subprocess.Popen([retain, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                                str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        _wait_until_up(base, log_path, start_timeout)
        yield Server(base, process.pid)
    finally:
        _stop(process)
        log.close()
        errors = log_path.read_text()
        if "Traceback" in errors:
            print("server errors:\n" + errors[-3000:])
