"""Sign-in and sign-out. The sign-in form is CSRF-protected by a pre-login cookie and a token signed over it and
its issue time: the pair is refused after ``PRELOGIN_SECONDS``, like the cookie, even if someone kept a copy."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, TimestampSigner

from retain.server.deps import DB, client_ip, is_https, runtime
from retain.state import users
from retain.web.deps import PRELOGIN_COOKIE, SESSION_COOKIE, CsrfViewer
from retain.web.render import page

router = APIRouter()
PRELOGIN_SECONDS = 3600  # life of the pre-login cookie and of the form token paired with it


def _signer(request: Request) -> TimestampSigner:
    return TimestampSigner(runtime(request).settings.secret_key.get_secret_value(), salt="retain.login-form")


def _form_token(request: Request, cookie: str) -> str:
    """``time.signature`` of the cookie's token and the time: the token itself stays in the HttpOnly cookie."""
    return _signer(request).sign(cookie).decode().split(".", 1)[1]


def _pair_valid(request: Request, cookie: str, form_token: str) -> bool:
    try:
        _signer(request).unsign(f"{cookie}.{form_token}", max_age=PRELOGIN_SECONDS)
    except BadSignature:  # forged, for another cookie, or expired (SignatureExpired)
        return False
    return True


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


def _login_page(request: Request, *, next_url: str = "/", error: str | None = None, status_code: int = 200):
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", csrf=_form_token(request, token), next=_safe_next(next_url), error=error,
                    demo_login=runtime(request).settings.demo_login, status_code=status_code)
    response.set_cookie(PRELOGIN_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=PRELOGIN_SECONDS, path="/login")
    return response


def _secure(request: Request) -> bool:
    return runtime(request).settings.secure_cookies or is_https(request)


@router.get("/login", name="login")
def login_form(request: Request, next: str = "/"):
    return _login_page(request, next_url=next)


@router.post("/login")
def login(
    request: Request,
    db: DB,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
):
    settings = runtime(request).settings
    cookie = request.cookies.get(PRELOGIN_COOKIE, "")
    if not cookie or not _pair_valid(request, cookie, csrf_token):
        return _login_page(request, next_url=next, error="The form expired; please sign in again.", status_code=400)
    limit = users.RateLimit(settings.login_attempts, dt.timedelta(minutes=settings.login_window_minutes))
    try:
        user = users.authenticate(db, username, password, ip=client_ip(request), limit=limit)
    except users.RateLimited:
        return _login_page(request, next_url=next, error="Too many failed attempts; wait a few minutes.",
                           status_code=429)
    except users.AuthError:
        return _login_page(request, next_url=next, error="Wrong user name or password.", status_code=401)
    token, _ = users.start_session(db, user, dt.timedelta(hours=settings.session_hours))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=settings.session_hours * 3600, path="/")
    response.delete_cookie(PRELOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, db: DB, viewer: CsrfViewer):
    users.end_session(db, request.cookies.get(SESSION_COOKIE), ip=client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
