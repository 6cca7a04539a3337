"""Request dependencies shared by pages and the API: the runtime, a database session per request, and who is
connecting (client address, https) as far as the trusted proxies allow us to believe it."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from retain.server.runtime import Runtime


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session per request. Async on purpose: its teardown (which returns the connection to the pool) then runs
    on the event loop, never waiting for a worker thread that may itself be waiting for a connection."""
    db = runtime(request).sessions()
    try:
        yield db
    finally:
        db.close()


DB = Annotated[Session, Depends(get_db)]


def client_ip(request: Request) -> str | None:
    """The connecting address; behind a proxy listed in ``trusted_proxies`` uvicorn has already put the forwarded
    client there (``retain.server.serve.proxy_options``), and nobody else can choose it with ``X-Forwarded-For``."""
    return request.client.host[:64] if request.client else None


def from_trusted_proxy(request: Request) -> bool:
    try:
        peer = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(net) for net in runtime(request).settings.trusted_proxies)


def is_https(request: Request) -> bool:
    """https, or ``X-Forwarded-Proto: https`` from a trusted proxy (uvicorn applies it itself when it serves us)."""
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https" and from_trusted_proxy(request)
