"""The one shape of every API error, also used by the server for requests under ``/api`` that never reach the API
(an over-long body refused unread, a path the API does not mount).

``{"error": {"status": 404, "code": "not_found", "message": "...", "hint": "...", "details": [...]}}``
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from pydantic import BaseModel

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_request",
         429: "rate_limited", 500: "internal_error", 503: "unavailable"}


class ErrorDetail(BaseModel):
    loc: list[str | int] | None = None
    message: str
    type: str | None = None
    row: int | None = None
    table: str | None = None


class ErrorInfo(BaseModel):
    status: int
    code: str
    message: str
    hint: str | None = None
    details: list[ErrorDetail] = []


class ErrorBody(BaseModel):
    """Every API error has this shape."""

    error: ErrorInfo


def error_response(status: int, message: str, *, code: str | None = None, hint: str | None = None,
                   details: list[dict] | None = None, headers: dict | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorInfo(status=status, code=code or CODES.get(status, "error"), message=message,
                                     hint=hint, details=[ErrorDetail(**d) for d in details or []]))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")
