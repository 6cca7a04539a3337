"""``create_app(settings)``: the dashboard and, mounted at ``/api``, the REST API. No import-time globals."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from retain.api import build_api
from retain.api.errors import error_response
from retain.errors import NotFoundError
from retain.web.deps import Forbidden, LoginRequired
from retain.web.limits import BodyLimit
from retain.web.render import make_templates, page
from retain.web.routes import accounts, admin, analytics, auth, calls, portfolio
from retain.web.routes.accounts import BadQuery
from retain.web.runtime import Runtime
from retain.web.settings import Settings

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("retain.web")
FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" '
           'fill="#1d2733"/><path d="M4 12V4h5a2.5 2.5 0 0 1 0 5H4m5 0 3 3" stroke="#7fb3ff" stroke-width="1.8" '
           'fill="none"/></svg>')
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


def plotly_path() -> Path:
    """plotly.min.js from the installed ``plotly`` package: charts work offline, no CDN."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    settings = (settings or Settings()).check()
    runtime = runtime or Runtime.build(settings)
    app = FastAPI(title="Retain", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.state.templates = make_templates(reload=settings.dev)
    for module in (auth, portfolio, accounts, analytics, calls, admin):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.mount("/api", build_api(runtime), name="api")
    js = plotly_path()

    @app.get("/vendor/plotly.min.js", name="plotly_js", include_in_schema=False)
    def plotly_js():
        return FileResponse(js, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"ok": True}

    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes, max_ingest_bytes=settings.max_ingest_bytes)
    app.add_middleware(SecurityHeaders)

    _install_page_errors(app)
    return app


def _error_page(request: Request, status: int, title: str, message: str):
    if request.url.path == "/api" or request.url.path.startswith("/api/"):
        return error_response(status, message)
    return page(request, "error.html", status_code=status, status=status, title=title, message=message)


def _install_page_errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        return _error_page(request, 403, "Forbidden", str(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError):
        return _error_page(request, 404, "Not found", exc.message)

    @app.exception_handler(BadQuery)
    async def bad_query(request: Request, exc: BadQuery):
        return _error_page(request, 400, "Bad request", f"Invalid filter: {exc}")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _error_page(request, 400, "Bad request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        titles = {404: "Not found", 405: "Method not allowed"}
        return _error_page(request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error_page(request, 500, "Internal error", "Something went wrong; the server log has the details.")


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` / ``retain serve --workers N``: settings from ``RETAIN_*`` variables."""
    from retain.web.serve import settle_heap

    app = create_app(Settings())
    settle_heap()
    return app
