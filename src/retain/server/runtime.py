"""What the app needs at run time, built once by ``create_app`` and kept on ``app.state`` (no globals)."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from starlette.concurrency import run_in_threadpool

from retain.server.settings import Settings
from retain.state import queries, users
from retain.state.db import default_url, make_engine, session_factory, upgrade
from retain.state.records import AccountRecords

T = TypeVar("T")
MEMO_SIZE = 1024
KEY_TTL = 300.0
KEY_CHECK = 1.0
PUBLISH_CHECK = 1.0


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    reader: Engine = field(init=False)
    records: AccountRecords = field(init=False)
    _memo: dict = field(default_factory=dict)
    _memo_run: int | None = None
    _memo_checked: float = float("-inf")
    _keys: dict = field(default_factory=dict)
    _keys_version: int | None = None
    _keys_checked: float = float("-inf")

    def __post_init__(self) -> None:
        self.reader = loop_reader(self.engine)
        self.records = AccountRecords(self.reader)

    async def read(self, function: Callable[..., T], *args: Any) -> T:
        """Run a short read through :attr:`reader`. On SQLite it runs on the event loop: a lookup by key in a local
        file takes tens of microseconds, less than handing it to a worker thread. On a server database it waits on
        the network, so it goes to a worker thread and the loop keeps serving."""
        if self.engine.dialect.name == "sqlite":
            return function(*args)
        return await run_in_threadpool(function, *args)

    def keys_check_due(self) -> bool:
        return time.monotonic() - self._keys_checked >= KEY_CHECK

    def refresh_keys(self) -> None:
        """Forget the cached keys if a key was revoked or a user (de)activated since the last look, by any process
        (another worker, ``retain keys revoke``): such a change takes effect within ``KEY_CHECK`` seconds."""
        with Session(self.reader) as db:
            version = users.credentials_version(db)
        if version != self._keys_version:
            self._keys.clear()
            self._keys_version = version
        self._keys_checked = time.monotonic()

    def api_key(self, db: Session, key: str):
        """``users.check_key`` with a per-process cache, kept ``KEY_TTL`` seconds unless :meth:`refresh_keys` or
        :meth:`forget_keys` (a change from this process, on the Admin page) clears it first."""
        now = time.monotonic()
        entry = self._keys.get(key)
        if entry is not None and now - entry[0] < KEY_TTL:
            return entry[1]
        found = users.check_key(db, key)
        if found is not None:  # cached objects are shared by concurrent requests: detach them from this session,
            for obj in found:  # or a later commit expires them and another thread's read lazy-loads through it
                db.expunge(obj)
        if len(self._keys) >= MEMO_SIZE:
            self._keys.clear()
        self._keys[key] = (now, found)
        return found

    def cached_api_key(self, key: str):
        """The cached answer for ``key`` (a pair, or None for an invalid key), or False when not cached."""
        entry = self._keys.get(key)
        if entry is not None and time.monotonic() - entry[0] < KEY_TTL:
            return entry[1]
        return False

    def forget_keys(self) -> None:
        self._keys.clear()

    def memo(self, db: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key until the next ``retain publish`` (aggregates over 100k rows are not free).

        Whether a publish happened is checked at most once per ``PUBLISH_CHECK`` seconds."""
        now = time.monotonic()
        if now - self._memo_checked >= PUBLISH_CHECK:
            run = queries.last_publish_id(db)
            self._memo_checked = now
            if run != self._memo_run:
                self._memo.clear()
                self._memo_run = run
        if key not in self._memo:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = compute()
        return self._memo[key]

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.database_url or default_url(settings.warehouse))
        if settings.migrate:
            upgrade(engine)
        return cls(settings, engine, session_factory(engine))


def loop_reader(engine: Engine) -> Engine:
    """The engine of :meth:`Runtime.read`. On a SQLite file, a single connection of its own: reads on the event
    loop must never wait for the shared pool, whose connections are released by request teardowns that run on that
    same loop (waiting there deadlocked the server when 40 page requests held every pooled connection). Elsewhere
    (reads in worker threads; an in-memory database, which a second engine would not see) the engine itself."""
    if engine.dialect.name != "sqlite" or isinstance(engine.pool, StaticPool):
        return engine
    return make_engine(engine.url.render_as_string(hide_password=False), single_connection=True)
