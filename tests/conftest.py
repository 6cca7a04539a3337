"""Fixtures shared by every test: in-memory warehouses and the PostgreSQL rule."""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from retain.warehouse import Warehouse

IN_CI = os.environ.get("CI", "").lower() == "true"


SHARED_SCOPES = ("package", "module", "class")


def _setup_group(item: pytest.Item) -> str | None:
    """What a test shares costly setup with: the directory of a session fixture from a sub-directory's conftest
    (the browser, the models' company), else its module when it uses a module- or class-scoped fixture."""
    info = getattr(item, "_fixtureinfo", None)
    group = None
    for name in info.names_closure if info else ():
        fixture = info.name2fixturedefs.get(name, (None,))[-1]
        if fixture is None:
            continue
        if fixture.scope == "session" and fixture.baseid not in ("", "tests"):
            return fixture.baseid
        if fixture.scope in SHARED_SCOPES:
            group = item.nodeid.split("::")[0]
    return group


def _send_to_group(item: pytest.Item) -> None:
    """Give a test its ``@group`` node id suffix, which is what ``--dist loadgroup`` schedules by.

    pytest-xdist's worker writes the suffix to ``item._nodeid``, which pytest 9.2 no longer reads (the id is
    ``item._id``): without this, every ``xdist_group`` (one Spark session per run, too) is silently ignored."""
    names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
    if names and hasattr(item, "_id") and "@" not in item.nodeid.rsplit("]", 1)[-1]:
        item._id = type(item._id).parse(f"{item.nodeid}@{'_'.join(sorted(names))}")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` an ungrouped test goes to any worker, so a module fixture (a demo company, a
    seeded app, a Chromium) was built once per worker: group such tests by what they share so it is built once.
    Tests with their own group keep it."""
    for item in items:
        group = None if item.get_closest_marker("xdist_group") else _setup_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
        if getattr(config.option, "loadgroup", False):  # set on xdist's workers under --dist loadgroup
            _send_to_group(item)


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


DEMO_SPEC = {"accounts": 250, "years": 2.0, "seed": 7}


@dataclass(frozen=True)
class DemoFile:
    """The small demo company in a closed DuckDB file, built once per test run and shared by every xdist worker.

    Never open ``path`` itself: :meth:`copy_to` gives a test (or module) a file of its own to read or write, which
    costs a file copy instead of generating and ingesting the company again.
    """

    path: Path
    truth: dict

    def copy_to(self, folder: Path) -> Path:
        target = Path(folder) / "demo.duckdb"
        shutil.copyfile(self.path, target)
        return target


def _shared_root(tmp_path_factory) -> Path:
    """This run's temporary root: shared by the xdist workers of one run (never by two runs)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> DemoFile:
    """The demo company (250 accounts over 2 years, seed 7) generated and ingested once per run, under a file lock
    so the second xdist worker waits for the first one's file rather than building the same company again."""
    from retain.demo import DemoSpec, build_demo

    folder = _shared_root(tmp_path_factory) / "demo-small"
    folder.mkdir(exist_ok=True)
    path, done = folder / "demo.duckdb", folder / "truth.pickle"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                warehouse = Warehouse.open(path)
                result = build_demo(warehouse, DemoSpec(**DEMO_SPEC), out_dir=folder / "parquet")
                warehouse.con.con.execute("CHECKPOINT")  # everything in the file, no write-ahead log to copy
                warehouse.con.disconnect()
                done.write_bytes(pickle.dumps(result.data.truth))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return DemoFile(path, pickle.loads(done.read_bytes()))


@pytest.fixture(scope="session")
def demo_warehouse(demo_file, tmp_path_factory) -> Warehouse:
    """The demo company, small (250 accounts over 2 years, seed 7): a copy of ``demo_file`` opened once per session.

    A DuckDB file under pytest's tmp dir; treat it as read-only (it is shared by every test of the session).
    The generator's hidden truth (weekly health, churn days) is at ``demo_warehouse.demo_truth``.
    """
    warehouse = Warehouse.open(demo_file.copy_to(tmp_path_factory.mktemp("demo")))
    warehouse.demo_truth = demo_file.truth
    return warehouse
