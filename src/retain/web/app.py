"""``build_web(runtime)``: the dashboard's pages, static files and page errors. No import-time globals.

:func:`retain.server.app.create_app` composes it with the REST API (mounted at ``/api``) and the server-wide
middleware; this face never imports the API."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from retain.errors import NotFoundError
from retain.server.errors import error_response, is_api_path
from retain.server.runtime import Runtime
from retain.web.deps import Forbidden, LoginRequired
from retain.web.render import make_templates, page
from retain.web.routes import (
    accounts,
    admin,
    analytics,
    auth,
    calls,
    outbox,
    plans,
    portfolio,
    sales,
    survey_page,
    surveys,
    team,
    today,
)
from retain.web.routes.accounts import BadQuery

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("retain.web")
FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" '
           'fill="#1d2733"/><path d="M4 12V4h5a2.5 2.5 0 0 1 0 5H4m5 0 3 3" stroke="#7fb3ff" stroke-width="1.8" '
           'fill="none"/></svg>')


def plotly_path() -> Path:
    """plotly.min.js from the installed ``plotly`` package: charts work offline, no CDN."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def build_web(runtime: Runtime) -> FastAPI:
    """The dashboard on ``runtime``: pages, ``/static``, plotly.js, the icon, and the page error handlers."""
    app = FastAPI(title="Retain", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.state.templates = make_templates(reload=runtime.settings.dev)
    for module in (auth, portfolio, today, team, plans, accounts, analytics, calls, sales, surveys, survey_page, admin,
                   outbox):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    js = plotly_path()

    @app.get("/vendor/plotly.min.js", name="plotly_js", include_in_schema=False)
    def plotly_js():
        return FileResponse(js, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    _install_page_errors(app)
    return app


def _error_page(request: Request, status: int, title: str, message: str):
    if is_api_path(request.url.path):
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
