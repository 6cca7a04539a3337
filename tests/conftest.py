"""Fixtures shared by every test: in-memory warehouses and the PostgreSQL rule."""

from __future__ import annotations

import os

import pytest

from retain.warehouse import Warehouse

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def wh() -> Warehouse:
    """An empty in-memory DuckDB warehouse with every canonical table."""
    return Warehouse.open(":memory:")


PG_URL = os.environ.get("RETAIN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the real PostgreSQL on 127.0.0.1:5432; skipped locally when down, a failure in CI."""
    problem = _postgres_reachable()
    if problem:
        message = f"PostgreSQL on 127.0.0.1:5432 (database test) is not reachable: {problem}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    return PG_URL
