"""Users, passwords, browser sessions, API keys and the sign-in rate limit.

Passwords are hashed with argon2; session tokens and API keys are 256-bit random strings of which only the
SHA-256 is stored, so a leaked database yields no usable credential. A key is shown once, when created.

Sign-in costs one argon2 check whatever the user name: an unknown or deactivated user is checked against a dummy
hash, so the answer's timing does not tell which names exist. The rate limit reserves each attempt (a committed
``login_attempts`` row) *before* that check and then counts the window's rows: the k-th attempt to pass counted
after every earlier passing one had committed, so at most ``attempts`` checks run however many arrive at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from retain.errors import NotFoundError, RetainError
from retain.state import audit
from retain.state.models import ApiKey, AuditEvent, KeyScope, LoginAttempt, Role, User, WebSession, utcnow

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8
KEY_PREFIX = "rk_"
_hasher = PasswordHasher()


class AuthError(RetainError):
    """A sign-in or key check failed (the message never says which part was wrong)."""

    exit_code = 9


class RateLimited(AuthError):
    """Too many failed sign-ins from one address for one user name."""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password with the same parameters as users' hashes, checked when there is no user."""
    return _hasher.hash(secrets.token_urlsafe(16))


# -- users -------------------------------------------------------------------------------------------------


def create_user(db: Session, username: str, password: str, role: Role | str, *, member_id: str | None = None,
                display_name: str | None = None, actor: str | None = None) -> User:
    role = Role(role)
    if not USERNAME.match(username):
        raise RetainError(f"invalid user name '{username}'", hint="use 1-64 letters, digits, '_', '.', '@' or '-'")
    if len(password) < MIN_PASSWORD:
        raise RetainError("password too short", hint=f"use at least {MIN_PASSWORD} characters")
    if member_id is not None and (not member_id.isprintable() or len(member_id) > 128):
        raise RetainError("invalid member id", hint="use the team_members.member_id, printable, up to 128 characters")
    if role is not Role.ADMIN and not member_id:
        raise RetainError(f"a {role.value} needs --member-id", hint="give the team_members.member_id of this person")
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise RetainError(f"user '{username}' already exists", hint="pick another name or delete the user first")
    user = User(username=username, password_hash=hash_password(password), role=role.value, member_id=member_id,
                display_name=display_name or username, is_active=True)
    db.add(user)
    audit.record(db, "user.create", actor=actor, target=username, detail={"role": role.value, "member_id": member_id})
    db.commit()
    return user


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))


def get_user(db: Session, user_id: int) -> User | None:
    user = db.get(User, user_id)
    return user if user is not None and user.is_active else None


def user_by_name(db: Session, username: str) -> User | None:
    """The user signing in as ``username`` (active or not), or None."""
    return db.scalar(select(User).where(User.username == username))


def require_user(db: Session, username: str) -> User:
    """The user ``username``; an error naming it and where to look otherwise."""
    user = user_by_name(db, username)
    if user is None:
        raise RetainError(f"no user '{username}'", hint="see `retain users list`")
    return user


def ensure_user(db: Session, username: str, password: str, role: Role | str, *, member_id: str | None = None,
                actor: str | None = None) -> bool:
    """Create ``username`` unless it exists (then it is left as it is); returns whether it was created."""
    if user_by_name(db, username) is not None:
        return False
    create_user(db, username, password, role, member_id=member_id, actor=actor)
    return True


def set_active(db: Session, username: str, active: bool, *, actor: str | None = None) -> User:
    user = db.scalar(select(User).where(User.username == username)) if USERNAME.match(username) else None
    if user is None:
        raise NotFoundError(f"no user '{username}'", hint="see `retain users list`")
    user.is_active = active
    if not active:
        db.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.record(db, "user.activate" if active else "user.deactivate", actor=actor, target=username)
    db.commit()
    return user


# -- sign-in, rate limit and sessions ------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    """At most ``attempts`` password checks per address and user name within ``window``; a success clears them."""

    attempts: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)


def authenticate(db: Session, username: str, password: str, *, ip: str | None = None,
                 limit: RateLimit = RateLimit()) -> User:
    """The user if the password matches; raises :class:`RateLimited` or :class:`AuthError` otherwise.

    Commits the attempt's reservation before counting, so concurrent sign-ins (threads, workers) see each other."""
    if not username or any(ord(ch) < 32 for ch in username) or "\x00" in password:
        raise AuthError("wrong user name or password")
    key = f"{ip or '-'}|{username.lower()}"
    now = utcnow()
    since = now - limit.window
    attempt = LoginAttempt(key=key, at=now)
    db.add(attempt)
    db.commit()
    taken = db.scalar(select(func.count()).select_from(LoginAttempt)
                      .where(LoginAttempt.key == key, LoginAttempt.at >= since))
    if taken > limit.attempts:  # give the reservation back: a flood of refused attempts leaves no rows behind
        db.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))
        audit.record(db, "login.blocked", actor=username[:64], ip=ip)
        db.commit()
        raise RateLimited("too many failed sign-ins", hint=f"wait {int(limit.window.total_seconds() // 60)} minutes")
    user = db.scalar(select(User).where(User.username == username))
    known = user is not None and user.is_active
    valid = verify_password(user.password_hash if known else _dummy_hash(), password) and known
    if not valid:  # the reservation stays: it is this failure's row in the window
        audit.record(db, "login.failed", actor=username[:64], ip=ip)
        db.commit()
        raise AuthError("wrong user name or password")
    db.execute(delete(LoginAttempt).where(LoginAttempt.key == key))
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < since))
    audit.record(db, "login.success", actor=user.username, ip=ip)
    db.commit()
    return user


def start_session(db: Session, user: User, ttl: dt.timedelta) -> tuple[str, WebSession]:
    """A new session; returns the cookie token (shown once) and the stored row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(token_hash=sha256(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                     expires_at=utcnow() + ttl)
    db.add(row)
    db.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
    db.commit()
    return token, row


def session_user(db: Session, token: str | None) -> tuple[User, WebSession] | None:
    if not token or len(token) > 200:
        return None
    row = db.get(WebSession, sha256(token))
    if row is None or row.expires_at < utcnow():
        return None
    user = get_user(db, row.user_id)
    return (user, row) if user is not None else None


def end_session(db: Session, token: str | None, *, ip: str | None = None) -> None:
    if not token:
        return
    row = db.get(WebSession, sha256(token))
    if row is not None:
        user = db.get(User, row.user_id)
        db.delete(row)
        audit.record(db, "logout", actor=user.username if user else None, ip=ip)
        db.commit()


# -- API keys -------------------------------------------------------------------------------------------------


def create_key(db: Session, user: User, name: str, scope: KeyScope | str = KeyScope.READ, *,
               actor: str | None = None) -> tuple[str, ApiKey]:
    """A new API key for ``user``: returns the key (shown once, never stored) and its row."""
    scope = KeyScope(scope)
    if scope is KeyScope.WRITE and user.role != Role.ADMIN:
        raise RetainError("only admins may hold write keys", hint="create a read key, or give the key to an admin")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = f"{KEY_PREFIX}{prefix}_{secret}"
    row = ApiKey(prefix=prefix, key_hash=sha256(key), name=name[:100] or "key", scope=scope.value, user_id=user.id)
    db.add(row)
    audit.record(db, "key.create", actor=actor or user.username, target=prefix,
                 detail={"user": user.username, "scope": scope.value, "name": name[:100]})
    db.commit()
    return key, row


def list_keys(db: Session) -> list[tuple[ApiKey, str]]:
    rows = db.execute(select(ApiKey, User.username).join(User, User.id == ApiKey.user_id).order_by(ApiKey.id))
    return [(k, u) for k, u in rows]


def revoke_key(db: Session, prefix: str, *, actor: str | None = None) -> ApiKey:
    row = db.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix.isalnum() else None
    if row is None:
        raise NotFoundError(f"no API key '{prefix}'", hint="see the Admin page or `retain keys list` for prefixes")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(db, "key.revoke", actor=actor, target=prefix)
        db.commit()
    return row


def key_prefix(key: str) -> str | None:
    if not key.startswith(KEY_PREFIX) or len(key) > 200 or not key.isprintable():
        return None
    parts = key[len(KEY_PREFIX):].split("_", 1)
    return parts[0] if len(parts) == 2 else None


def check_key(db: Session, key: str) -> tuple[ApiKey, User] | None:
    """The key's row and owner if ``key`` is valid and not revoked (constant-time hash comparison)."""
    prefix = key_prefix(key)
    if prefix is None:
        return None
    row = db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or row.revoked_at is not None or not secrets.compare_digest(row.key_hash, sha256(key)):
        return None
    user = get_user(db, row.user_id)
    return (row, user) if user is not None else None


KEY_USE_EVERY = dt.timedelta(minutes=5)
CREDENTIAL_CHANGES = ("key.revoke", "user.deactivate", "user.activate")


def credentials_version(db: Session) -> int | None:
    """Changes whenever a key is revoked or a user (de)activated, by any process: servers caching keys compare it."""
    return db.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.action.in_(CREDENTIAL_CHANGES)))


def claim_key_use(row: ApiKey, every: dt.timedelta = KEY_USE_EVERY) -> dt.datetime | None:
    """The time to record if this use of the key is due for the audit log (at most once per ``every``), else None.

    Marks ``row`` at once, so the concurrent requests of one client sharing the cached row record one use."""
    now = utcnow()
    if row.last_used_at is not None and now - row.last_used_at < every:
        return None
    row.last_used_at = now
    return now


def note_key_use(db: Session, row: ApiKey, at: dt.datetime, *, ip: str | None) -> None:
    """Write a use claimed by :func:`claim_key_use`. ``row`` may be a cached, detached copy: the update is a
    statement by id."""
    db.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=at))
    audit.record(db, "key.use", actor=None, target=row.prefix, ip=ip)
    db.commit()
