"""CTAs are stored on SQLite and on the real PostgreSQL (a fresh schema per test, dropped afterwards)."""

from __future__ import annotations

import pytest
from tests.conftest import fresh_postgres_schema

from retain.state.db import make_engine, session_factory, upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    with fresh_postgres_schema(url) as schema:
        eng = make_engine(url, schema=schema)
        try:
            upgrade(eng)
            yield eng
        finally:
            eng.dispose()


@pytest.fixture
def db(engine):
    with session_factory(engine)() as session:
        yield session
