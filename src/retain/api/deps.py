"""API dependencies: the database session and the caller identified by their API key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from retain.api.errors import ApiError
from retain.server.deps import client_ip
from retain.server.runtime import Runtime
from retain.state import users
from retain.state.models import ApiKey, KeyScope, User
from retain.state.queries import Scope

key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key from `retain keys create`.")


@dataclass(frozen=True)
class Caller:
    user: User
    key: ApiKey

    @property
    def scope(self) -> Scope:
        return Scope.of(self.user)


async def caller(request: Request, key: Annotated[str | None, Security(key_header)] = None) -> Caller:
    """The key's user. Async, and no database session of its own: in the usual case (key cached, use noted in
    the last minutes) it costs a dictionary lookup and no worker thread."""
    if not key:
        raise ApiError(401, "missing API key", hint="send the key in the X-API-Key header",
                       headers={"WWW-Authenticate": "ApiKey"})
    runtime: Runtime = request.app.state.runtime
    if runtime.keys_check_due():
        await runtime.read(runtime.refresh_keys)
    found = runtime.cached_api_key(key)
    if found is False:  # not cached: look it up in a worker thread
        found = await run_in_threadpool(_look_up, runtime, key)
    if found is None:
        raise ApiError(401, "invalid or revoked API key", hint="create a key with `retain keys create`",
                       headers={"WWW-Authenticate": "ApiKey"})
    row, user = found
    used_at = users.claim_key_use(row)
    if used_at is not None:
        await run_in_threadpool(_note_use, runtime, row, used_at, client_ip(request))
    return Caller(user, row)


def _look_up(runtime: Runtime, key: str):
    with runtime.sessions() as db:
        return runtime.api_key(db, key)


def _note_use(runtime: Runtime, row: ApiKey, at, ip: str | None) -> None:
    with runtime.sessions() as db:
        users.note_key_use(db, row, at, ip=ip)


Reader = Annotated[Caller, Depends(caller)]


def writer(who: Reader) -> Caller:
    if who.key.scope != KeyScope.WRITE:
        raise ApiError(403, "this key may only read", hint="use a key created with --scope write")
    return who


Writer = Annotated[Caller, Depends(writer)]
