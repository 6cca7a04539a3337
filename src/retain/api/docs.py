"""Swagger UI at ``/api/docs``, offline and under the app's CSP (``script-src 'self'``, no inline script).

Swagger UI's bundle and stylesheet come from the installed ``fastapi-offline`` package (no CDN, no vendored copy);
the page's only code is ``static/swagger-init.js``, which reads the OpenAPI address from a ``data-`` attribute.
Assets are served under ``/api/docs/static/`` with public caching, so the no-store default does not apply to them.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent / "static"
ASSETS = "/docs/static"
CACHE = "public, max-age=86400"


class CachedStaticFiles(StaticFiles):
    """Static files with a ``Cache-Control`` of their own (they keep StaticFiles' ETag and Last-Modified)."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("cache-control", CACHE)
        return response


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - Swagger UI</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


def install(api: FastAPI, docs_url: str = "/docs") -> None:
    """Add the docs page and its assets to ``api`` (built with ``docs_url=None``). The assets are looked up first in
    our ``static/`` (``swagger-init.js``), then in ``fastapi_offline/static`` (the bundle, the stylesheet, the icon)."""
    api.mount(ASSETS, CachedStaticFiles(directory=str(HERE), packages=[("fastapi_offline", "static")]),
              name="docs_static")

    @api.get(docs_url, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return HTMLResponse(PAGE.format(title=escape(api.title), assets=escape(root + ASSETS),
                                        openapi=escape(root + api.openapi_url)))
