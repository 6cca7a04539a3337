"""Request body limits, enforced as the body arrives: no request makes the server hold more than its limit.

Rules:

- ``POST /api/v1/ingest`` may carry ``max_ingest_bytes`` (default 64 MiB); every other request ``max_body_bytes``
  (default 2 MiB): page forms, and bodies nobody reads.
- A ``Content-Length`` over the limit is refused with 413 before the application runs: no byte of the body is read.
- Otherwise the bytes are counted as the application receives them (chunked bodies, without a length, too); past
  the limit ``receive`` raises :class:`BodyTooLarge`, an HTTP 413 that the application's own handlers render: the
  API's error shape, or an error page.
- A response that starts before the request body was read to its end (a 413, or a 401 sent before an upload was
  read) carries ``Connection: close``: the server then drops the connection instead of reading and discarding the
  rest of the upload.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retain.server.errors import error_response, is_api_path

INGEST_PATH = "/api/v1/ingest"
CLOSE = (b"connection", b"close")


class BodyTooLarge(HTTPException):
    """The request body passed its limit (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit:,} bytes",
                         headers={"Connection": "close"})


def capped(receive: Receive, limit: int) -> Receive:
    """``receive`` that counts the body's bytes and raises :class:`BodyTooLarge` once they pass ``limit``."""
    received = 0

    async def receive_capped() -> Message:
        nonlocal received
        if received > limit:
            raise BodyTooLarge(limit)
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_capped


def _declared(scope: Scope) -> tuple[int | None, bool]:
    """The request's Content-Length (None when absent or unreadable) and whether it has a body at all."""
    length, chunked = None, False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked or bool(length)


def _is_ingest(scope: Scope) -> bool:
    return scope["method"] == "POST" and scope["path"] == INGEST_PATH


class BodyLimit:
    """Pure ASGI middleware applying the rules above; refuses an over-long declared body with 413 (the API's error
    shape, code ``too_large``, under ``/api``; a short HTML page elsewhere)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_ingest_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_ingest_bytes = max_ingest_bytes

    def limit(self, scope: Scope) -> int:
        return self.max_ingest_bytes if _is_ingest(scope) else self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, has_body = _declared(scope)
        if not has_body:
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        if length is not None and length > limit:
            await self.refuse(scope, receive, send, limit)
            return
        done = started = False
        counted = capped(receive, limit)

        async def receive_counted() -> Message:
            nonlocal done
            message = await counted()
            done = done or message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def send_closing(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if not done:  # the rest of the upload is never read: close rather than drain it
                    headers = [h for h in message.get("headers", []) if h[0].lower() != b"connection"]
                    message = {**message, "headers": [*headers, CLOSE]}
            await send(message)

        try:
            await self.app(scope, receive_counted, send_closing)
        except BodyTooLarge:  # read outside the application's handlers: answer here if still possible
            if started:
                raise
            await self.refuse(scope, receive, send, limit)

    async def refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        message = f"the request body is larger than the limit of {limit:,} bytes"
        if is_api_path(scope["path"]):
            hint = "split the rows into smaller batches" if _is_ingest(scope) else None
            response = error_response(413, message, hint=hint, headers={"Connection": "close"})
        else:
            response = HTMLResponse(f"<!doctype html><title>413 Content Too Large</title><h1>Content too large</h1>"
                                    f"<p>{message.capitalize()}.</p>", status_code=413,
                                    headers={"Connection": "close"})
        await response(scope, receive, send)
