"""``create_app(settings)``: the one server application, composed of both faces. No import-time globals.

The dashboard (:func:`retain.web.app.build_web`) serves pages; the REST API (:func:`retain.api.build_api`) is
mounted at ``/api``; both share one :class:`~retain.server.runtime.Runtime`. The server-wide middleware (body
limits, security headers) wraps them both. This is the only module that imports both faces: neither imports the
other.
"""

from __future__ import annotations

from fastapi import FastAPI

from retain.api import build_api
from retain.server.limits import BodyLimit
from retain.server.runtime import Runtime
from retain.server.settings import Settings
from retain.web.app import build_web

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


class SecurityHeaders:
    """Pure ASGI middleware (cheaper than ``@app.middleware``): adds the security headers to every response, and
    ``Cache-Control: no-store`` to each one that sets no caching of its own: pages, CSV exports and API answers
    hold customer data that must not stay in a browser's or a shared cache. Files under ``/static`` keep their
    validators (ETag, Last-Modified) and stay cacheable; plotly.js and the icon send their own public caching."""

    CACHEABLE = ("/static/",)

    def __init__(self, app) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        self.private = [*self.headers, (b"cache-control", b"no-store")]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.headers if scope["path"].startswith(self.CACHEABLE) else self.private

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in headers if k not in present]]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    settings = (settings or Settings()).check()
    runtime = runtime or Runtime.build(settings)
    app = build_web(runtime)
    app.mount("/api", build_api(runtime), name="api")

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"ok": True}

    if settings.delivery_worker:
        _run_delivery_worker(app, runtime)
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes, max_ingest_bytes=settings.max_ingest_bytes)
    app.add_middleware(SecurityHeaders)
    return app


def _run_delivery_worker(app: FastAPI, runtime: Runtime) -> None:
    """The outbox worker as a thread of this process, started and stopped with the app, when there is somewhere to
    send to and the database is one other threads may share (not an in-memory SQLite)."""
    from contextlib import asynccontextmanager

    from sqlalchemy.pool import StaticPool

    from retain.delivery.settings import load_settings
    from retain.delivery.worker import WorkerThread

    delivery = load_settings()
    if not delivery.configured or isinstance(runtime.engine.pool, StaticPool):
        return
    worker = WorkerThread(runtime.sessions, delivery, warehouse=runtime.settings.warehouse)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application):
        worker.start()
        try:
            async with inner(application) as state:
                yield state
        finally:
            worker.stop()

    app.router.lifespan_context = lifespan


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` / ``retain serve --workers N``: settings from ``RETAIN_*`` variables."""
    from retain.server.serve import settle_heap

    app = create_app(Settings())
    settle_heap()
    return app
