"""Typed dependencies shared by pages: the database session, the signed-in user, admin-only and CSRF checks."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session

from retain.state import users
from retain.state.models import Role, User, WebSession
from retain.state.queries import Scope
from retain.web.runtime import Runtime

SESSION_COOKIE = "retain_session"
PRELOGIN_COOKIE = "retain_prelogin"


class LoginRequired(Exception):
    """No valid session: pages redirect to the sign-in page."""


class Forbidden(Exception):
    """Signed in, but not allowed (admin pages for non-admins, a bad CSRF token)."""


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


@dataclass(frozen=True)
class Viewer:
    user: User
    session: WebSession

    @property
    def scope(self) -> Scope:
        return Scope.of(self.user)

    @property
    def is_admin(self) -> bool:
        return self.user.role == Role.ADMIN

    @property
    def csrf(self) -> str:
        return self.session.csrf_token


def current_viewer(request: Request, db: DB) -> Viewer:
    # sync, so in a worker thread: the request's session keeps its pooled connection until the request ends, and
    # taking one on the event loop would block the loop (and every release) whenever the pool is exhausted
    found = users.session_user(db, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise LoginRequired()
    return Viewer(*found)


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


def admin_viewer(viewer: CurrentViewer) -> Viewer:
    if not viewer.is_admin:
        raise Forbidden("only admins may see this page")
    return viewer


AdminViewer = Annotated[Viewer, Depends(admin_viewer)]


def csrf_checked(viewer: CurrentViewer, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Viewer:
    """The viewer, after checking the form's CSRF token against their session."""
    if not csrf_token or not hmac.compare_digest(csrf_token, viewer.csrf):
        raise Forbidden("the form expired or did not come from this site; reload the page and try again")
    return viewer


CsrfViewer = Annotated[Viewer, Depends(csrf_checked)]


def csrf_admin(viewer: CsrfViewer) -> Viewer:
    if not viewer.is_admin:
        raise Forbidden("only admins may do this")
    return viewer


CsrfAdmin = Annotated[Viewer, Depends(csrf_admin)]


def client_ip(request: Request) -> str | None:
    """The connecting address; behind a proxy listed in ``trusted_proxies`` uvicorn has already put the forwarded
    client there (``retain.web.serve.proxy_options``), and nobody else can choose it with ``X-Forwarded-For``."""
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
