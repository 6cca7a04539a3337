"""``retain serve --workers N``: N server processes, each listening on the same port with its own socket.

With one shared listening socket (uvicorn's own ``--workers``), whichever process wakes first accepts a burst of
new connections; clients and proxies keep connections alive, so under load one process served everything while
the other core idled (seen in ``bench/bench_web.py``: half the throughput, twice the latency, on some runs).
With ``SO_REUSEPORT`` each process has its own accept queue and the kernel spreads connections evenly.
The supervisor restarts a worker that dies and stops them all on SIGINT/SIGTERM.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess

from retain.errors import RetainError

APP = "retain.server.app:app_from_env"
KEEP_ALIVE = 65  # seconds: longer than the 60 s idle timeout of common proxies and load balancers, so a person
# pausing on a page reuses the connection and the proxy, not the server, closes idle ones first
QUICK_DEATH = 5.0  # seconds: a worker dying sooner than this after its start is failing to start
MAX_QUICK_DEATHS = 3


class ServeError(RetainError):
    """The server cannot start: the port is taken, or workers die as soon as they start."""

    exit_code = 10


def supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}",
                         hint="another program uses this port: stop it or choose another with --port") from exc
    return sock


def settle_heap() -> None:
    """Exclude everything built at start-up (modules, the app, ~200k objects) from garbage collection: a full
    collection scanned them all, and stalled one request in a few hundred for 50-100 ms."""
    gc.collect()
    gc.freeze()


def check_port(host: str, port: int) -> None:
    """Fail now, with a clear message, if anyone (another Retain included) listens on ``host:port``."""
    listening_socket(host, port, reuse_port=False).close()


def proxy_options(trusted_proxies: tuple[str, ...]) -> dict:
    """uvicorn's options for ``X-Forwarded-For`` / ``-Proto``: believed only from ``trusted_proxies``. uvicorn's
    own default believes 127.0.0.1, so any local process, or a proxy passing the header on unchecked, could pick its
    address for each request and never meet the sign-in rate limit."""
    return {"proxy_headers": bool(trusted_proxies), "forwarded_allow_ips": list(trusted_proxies)}


def _worker(host: str, port: int, trusted_proxies: tuple[str, ...]) -> None:
    import uvicorn

    sock = listening_socket(host, port, reuse_port=True)
    config = uvicorn.Config(APP, factory=True, log_level="warning", access_log=False,
                            timeout_keep_alive=KEEP_ALIVE, **proxy_options(trusted_proxies))
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(host: str, port: int, workers: int, trusted_proxies: tuple[str, ...] = ()) -> None:
    """Run ``workers`` processes until SIGINT/SIGTERM. ``RETAIN_*`` variables carry the settings to them."""
    check_port(host, port)
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(*_) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_worker, args=(host, port, trusted_proxies), name="retain-worker",
                                  daemon=False)
        process.start()
        return process, time.monotonic()

    running = [start() for _ in range(workers)]
    quick_deaths = 0
    try:
        while not stopping:
            time.sleep(0.2)
            for i, (process, started) in enumerate(running):
                if process.is_alive() or stopping:
                    continue
                quick_deaths = quick_deaths + 1 if time.monotonic() - started < QUICK_DEATH else 0
                if quick_deaths >= MAX_QUICK_DEATHS:
                    raise ServeError(f"server workers exit as soon as they start (last exit code {process.exitcode})",
                                     hint="run `retain serve` with --workers 1 to see the error")
                running[i] = start()
    finally:
        for process, _ in running:
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)  # uvicorn finishes the requests in flight, then exits
        for process, _ in running:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
