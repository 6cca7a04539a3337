"""One error shape for every API response that is not a success, including 404, 405, 422 and 500
(declared in :mod:`retain.server.errors`, which the server also uses for ``/api`` requests the API never sees).

``{"error": {"status": 404, "code": "not_found", "message": "...", "hint": "...", "details": [...]}}``
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from retain.errors import NotFoundError, RetainError
from retain.server.errors import CODES, ErrorBody, ErrorDetail, ErrorInfo, error_response

__all__ = ["CODES", "ApiError", "ErrorBody", "ErrorDetail", "ErrorInfo", "error_response", "install"]

log = logging.getLogger("retain.api")


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None, hint: str | None = None,
                 details: list[dict] | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.hint = status, message, code or CODES.get(status, "error"), hint
        self.details = details or []
        self.headers = headers


def _validation_details(errors: list[dict[str, Any]]) -> list[dict]:
    return [{"loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())],
             "message": str(e.get("msg", "invalid")), "type": str(e.get("type", ""))} for e in errors]


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError):
        return error_response(exc.status, exc.message, code=exc.code, hint=exc.hint, details=exc.details,
                              headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        return error_response(422, "the request is not valid", details=_validation_details(list(exc.errors())))

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError):
        return error_response(404, exc.message, hint=exc.hint)

    @app.exception_handler(RetainError)
    async def retain_error(_: Request, exc: RetainError):
        return error_response(400, exc.message, hint=exc.hint)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal error; the server log has the details")
