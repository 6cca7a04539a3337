"""The application database: a SQLite file next to the warehouse by default, PostgreSQL by URL.

Migrations ship inside the package and run through Alembic's API (``upgrade``), on start-up or with
``retain db upgrade``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from retain.errors import RetainError

ENV_URL = "RETAIN_DATABASE_URL"
DEFAULT_FILE = "retain.sqlite"
MIGRATIONS = Path(__file__).parent / "migrations"
POOL_SIZE = 20


class StateError(RetainError):
    """The application database cannot be opened or migrated."""

    exit_code = 8


def default_url(warehouse: str | Path | None = None) -> str:
    """``$RETAIN_DATABASE_URL``, else ``retain.sqlite`` next to the warehouse file (or in the current directory)."""
    url = os.environ.get(ENV_URL)
    if url:
        return url
    target = str(warehouse) if warehouse else os.environ.get("RETAIN_DB") or os.environ.get("RETAIN_WAREHOUSE") or ""
    is_file = bool(target) and "://" not in target and target != ":memory:"
    folder = Path(target).resolve().parent if is_file else Path.cwd()
    return f"sqlite:///{folder / DEFAULT_FILE}"


def make_engine(url: str, *, schema: str | None = None, single_connection: bool = False) -> Engine:
    """An engine for ``url``; ``postgres://`` URLs use psycopg 3; ``schema`` sets PostgreSQL's search_path.

    ``single_connection`` (SQLite): one connection, never waited for, for code that uses it from one thread."""
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    kwargs: dict = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
        if url.rstrip("/") in {"sqlite:", "sqlite:///:memory:"} or url == "sqlite://" or single_connection:
            from sqlalchemy.pool import StaticPool

            kwargs["poolclass"] = StaticPool
        else:
            path = url.split("sqlite:///", 1)[-1]
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(pool_size=POOL_SIZE, max_overflow=POOL_SIZE)  # SQLite connections are cheap
    elif schema:
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    try:
        engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"), **kwargs)
    except Exception as exc:
        raise StateError(f"cannot open the application database {url}: {exc}",
                         hint=f"check ${ENV_URL} (e.g. postgresql://user@host/db or sqlite:///path/retain.sqlite)"
                         ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the application database to ``revision`` (the latest by default)."""
    cfg = alembic_config()
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    except RetainError:
        raise
    except Exception as exc:
        raise StateError(f"cannot migrate the application database: {exc}",
                         hint="check the database URL and that the user may create tables") from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def app_database(url: str) -> Iterator[Session]:
    """A session on the application database at ``url``, migrated to the latest version first (for callers that
    hold a URL, not a session: the command line and the main job)."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with session_factory(engine)() as db:
            yield db
    finally:
        engine.dispose()
