"""The backend suite's engines: DuckDB, the real PostgreSQL on 127.0.0.1:5432 and PySpark in local mode.

As in Ibis's own suite, every test takes ``backend`` (parametrised over the three engines) and a data set name, runs
one analytic on that engine and compares it with DuckDB's answer (``backend_data.assert_same``). Each engine is
opened once per session and holds both data sets: DuckDB in memory; PostgreSQL in two fresh databases dropped at
the end; Spark in one local session (started once: it is the slow part) with a child session per data set whose
tables are views over the Parquet files the data set was exported to. Under ``CI=true`` a missing PostgreSQL or
PySpark fails the suite instead of skipping it. All tests of one engine run on one xdist worker (``xdist_group``),
so ``make test -n 2`` starts Spark once: every Spark test of the suite (the engines, the main job, the warehouse on
``pyspark://local``) takes the one session from the ``spark`` fixture and marks itself with :data:`SPARK_MARKS`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from backend_data import DATASETS, fill_demo, fill_small

from retain.schema import TABLES
from retain.warehouse import Warehouse
from retain.warehouse.spark import spark_backend

ENGINES = ("duckdb", "postgres", "pyspark")
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


SPARK_MARKS = (pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("backend-pyspark"))


def _engine_param(name: str):
    marks = [pytest.mark.xdist_group(f"backend-{name}")]
    if name == "pyspark":
        marks += [pytest.mark.spark, pytest.mark.slow]
    if name == "postgres":
        marks.append(pytest.mark.postgres)
    return pytest.param(name, marks=marks, id=name)


ENGINE_PARAMS = [_engine_param(n) for n in ENGINES]


def _unavailable(message: str) -> None:
    if IN_CI:
        pytest.fail(message + " (CI=true: every engine of the backend suite must run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def backend_files(tmp_path_factory) -> dict[str, Path]:
    """Each data set built once in DuckDB (the canonical loaders) and exported as one Parquet file per table."""
    folders = {}
    for name, fill in (("small", fill_small), ("demo", None)):
        root = tmp_path_factory.mktemp(f"backend-{name}")
        wh = Warehouse.open(root / "source.duckdb")
        if fill is None:
            fill_demo(wh, root / "demo-files")
        else:
            fill(wh)
        out = root / "tables"
        out.mkdir()
        for table, spec in TABLES.items():
            if not spec.input_only:
                wh.con.to_parquet(wh.raw(table), out / f"{table}.parquet")
        wh.con.disconnect()
        folders[name] = out
    return folders


def _tables(folder: Path) -> Iterator[tuple[str, Path]]:
    for table, spec in TABLES.items():
        if not spec.input_only:
            yield table, folder / f"{table}.parquet"


@dataclass
class Engine:
    """One engine holding every data set: ``engine[dataset]`` is that data set's warehouse on it."""

    name: str
    warehouses: dict[str, Warehouse] = field(default_factory=dict)
    close: list[Callable[[], None]] = field(default_factory=list)

    def __getitem__(self, dataset: str) -> Warehouse:
        return self.warehouses[dataset]


def _load_arrow(wh: Warehouse, folder: Path) -> Warehouse:
    for table, path in _tables(folder):
        data = pq.read_table(path)
        if data.num_rows:
            wh.con.insert(table, data)
    return wh


def _duckdb(files: dict[str, Path]) -> Engine:
    return Engine("duckdb", {name: _load_arrow(Warehouse.open(":memory:"), folder) for name, folder in files.items()})


def _postgres(files: dict[str, Path]) -> Engine:
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        _unavailable(f"PostgreSQL on 127.0.0.1:5432 (database test) is not reachable: {exc}")
    engine = Engine("postgres")
    for name, folder in files.items():
        db = f"retain_backend_{uuid.uuid4().hex[:10]}_{name}"
        admin.execute(f'CREATE DATABASE "{db}"')
        wh = Warehouse.open(f"postgres://postgres@127.0.0.1:5432/{db}")
        engine.warehouses[name] = _load_arrow(wh, folder)

        def drop(wh=wh, db=db) -> None:
            wh.con.disconnect()
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

        engine.close.append(drop)
    engine.close.append(admin.close)
    return engine


def spark_session(warehouse_dir: Path):
    """The suite's local Spark: loopback only, quiet logs; tuned for tiny data, where compiling and planning cost
    more than running (one shuffle partition, no whole-stage code generation, no adaptive re-planning)."""
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]").appName("retain-backend-suite")
        .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "2").config("spark.sql.warehouse.dir", str(warehouse_dir))
        .config("spark.sql.codegen.wholeStage", "false").config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse_dir}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The suite's one local Spark session (started on first use, stopped after the session); ``pyspark://local``
    URLs opened by the code under test attach to it as it is configured (``retain.warehouse.connection``)."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        _unavailable(f"PySpark is not installed ({exc}): pip install 'retain[spark]'")
    root = tmp_path_factory.mktemp("spark")
    os.environ["RETAIN_SPARK_WAREHOUSE"] = str(root / "spark-warehouse")
    session = spark_session(root / "spark-warehouse")
    yield session
    session.stop()


def _pyspark(files: dict[str, Path], session) -> Engine:
    engine = Engine("pyspark")
    for name, folder in files.items():
        child = session.newSession()  # its own temporary views and database: one data set per child session
        child.sql(f"CREATE DATABASE IF NOT EXISTS backend_{name}")
        child.catalog.setCurrentDatabase(f"backend_{name}")  # stored results stay out of the main job's `default`
        for table, path in _tables(folder):
            child.read.parquet(str(path)).cache().createOrReplaceTempView(table)
        engine.warehouses[name] = Warehouse(spark_backend(child))
    return engine


@pytest.fixture(scope="session")
def engines(backend_files, request) -> Iterator[dict[str, Engine]]:
    """Engines opened on first use and closed (PostgreSQL databases dropped) after the session; Spark's session
    is the ``spark`` fixture's (stopped after this one closes, as it is requested from here)."""
    opened: dict[str, Engine] = {}

    class Opener(dict):
        def __missing__(self, name: str) -> Engine:
            if name == "duckdb":
                engine = _duckdb(backend_files)
            elif name == "postgres":
                engine = _postgres(backend_files)
            else:
                engine = _pyspark(backend_files, request.getfixturevalue("spark"))
            opened[name] = self[name] = engine
            return engine

    yield Opener()
    for engine in opened.values():
        for close in engine.close:
            close()


@pytest.fixture(params=ENGINE_PARAMS)
def backend(request, engines) -> Engine:
    return engines[request.param]


@pytest.fixture
def duck(engines) -> Engine:
    """DuckDB: the reference every engine is compared with."""
    return engines["duckdb"]


@pytest.fixture(scope="session")
def reference() -> dict:
    """DuckDB's answers, computed once per (analytic, data set) and shared by the engines' tests."""
    return {}


@pytest.fixture
def same_as_duckdb(backend, duck, reference):
    """``check(name, dataset, compute)``: ``compute(wh, DataSet)`` on this engine equals it on DuckDB; returns it."""
    from backend_data import assert_same

    def check(name: str, dataset: str, compute):
        data = DATASETS[dataset]
        key = (name, dataset)
        if key not in reference:
            reference[key] = compute(duck[dataset], data)
        got = compute(backend[dataset], data)
        want = reference[key]
        if isinstance(want, dict):
            for part, frame in want.items():
                assert_same(got[part], frame, f"{name}[{part}] on {backend.name}/{dataset}")
        else:
            assert_same(got, want, f"{name} on {backend.name}/{dataset}")
        return got

    return check
