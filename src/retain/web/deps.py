"""Typed dependencies of pages: the signed-in user, admin-only and CSRF checks (the database session, the client
address and https detection, shared with the API, are in :mod:`retain.server.deps`)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request

from retain.server.deps import DB
from retain.state import users
from retain.state.models import Role, User, WebSession
from retain.state.queries import Scope

SESSION_COOKIE = "retain_session"
PRELOGIN_COOKIE = "retain_prelogin"


class LoginRequired(Exception):
    """No valid session: pages redirect to the sign-in page."""


class Forbidden(Exception):
    """Signed in, but not allowed (admin pages for non-admins, a bad CSRF token)."""


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
