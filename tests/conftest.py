"""Fixtures shared by every test: in-memory warehouses and the PostgreSQL rule."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def fresh_postgres_schema(url: str) -> Iterator[str]:
    """A new, empty schema of the PostgreSQL at ``url`` for one test (its name), dropped afterwards with its tables."""
    from retain.state.db import make_engine

    schema = f"retain_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as con:
        con.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with admin.begin() as con:
            con.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Warehouse:
    """The demo company, small (250 accounts over 2 years, seed 7), generated and ingested once per session.

    A DuckDB file under pytest's tmp dir; treat it as read-only (it is shared by every test of the session).
    The generator's hidden truth (weekly health, churn days) is at ``demo_warehouse.demo_truth``.
    """
    from retain.demo import DemoSpec, build_demo

    folder = tmp_path_factory.mktemp("demo")
    warehouse = Warehouse.open(folder / "demo.duckdb")
    result = build_demo(warehouse, DemoSpec(accounts=250, years=2.0, seed=7), out_dir=folder / "parquet")
    warehouse.demo_truth = result.data.truth
    return warehouse
