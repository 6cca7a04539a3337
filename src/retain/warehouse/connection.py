"""Connecting to the analytics warehouse: a DuckDB file by default, any Ibis backend by URL."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import ibis
from ibis.backends import BaseBackend

from retain.errors import WarehouseError

DEFAULT_DB = "retain.duckdb"
ENV_URL = "RETAIN_WAREHOUSE"
TABLE_DIR = re.compile(r"[A-Za-z0-9_]+")  # a table's directory (other databases' are ``<name>.db``)


def resolve_url(db: str | Path | None = None) -> str:
    """``--db`` wins, then ``$RETAIN_WAREHOUSE``, then ``./retain.duckdb``. A bare path means a DuckDB file."""
    target = str(db) if db is not None else os.environ.get(ENV_URL) or DEFAULT_DB
    if "://" in target:
        return target
    if target == ":memory:":
        return "duckdb://"
    return f"duckdb://{Path(target).resolve()}"


def missing_duckdb_file(db: str | Path | None = None) -> Path | None:
    """The DuckDB file ``db`` names when it does not exist yet (connecting would create it empty), else ``None``.

    URLs of servers (``postgres://``, ``pyspark://``) and ``:memory:`` are never "missing"."""
    url = resolve_url(db)
    path = url.removeprefix("duckdb://") if url.startswith("duckdb://") else ""
    return Path(path) if path and not Path(path).exists() else None


def connect(db: str | Path | None = None) -> BaseBackend:
    url = resolve_url(db)
    try:
        if url.startswith(("pyspark://", "sc://")):
            return _connect_spark(url)
        if url.startswith("duckdb://"):
            path = url.removeprefix("duckdb://")
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            return ibis.duckdb.connect(path or ":memory:")
        return ibis.connect(url)
    except WarehouseError:
        raise
    except Exception as exc:  # third-party errors mapped into ours
        raise WarehouseError(
            f"cannot open the warehouse at {url}: {exc}",
            hint=f"check --db or ${ENV_URL} (e.g. duckdb:///data/retain.duckdb, postgres://user@host/db)",
        ) from exc


def _connect_spark(url: str) -> BaseBackend:
    """A Spark session (``pip install 'retain[spark]'``); see docs/scale.md.

    ``pyspark://local`` is local mode bound to loopback, ``pyspark://HOST:PORT`` a standalone cluster's master
    (``spark://HOST:PORT``), ``sc://HOST:PORT`` a Spark Connect server. A path names the database the canonical
    and result tables live in (``pyspark://local/retain``; created when missing; default: ``default``). An active
    session (a notebook's, a test's) is reused as it is configured, and its current database set by the URL.
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise WarehouseError("PySpark is not installed", hint="pip install 'retain[spark]'") from exc
    scheme, rest = url.split("://", 1)
    host, _, database = rest.partition("/")
    if scheme == "sc":
        builder = SparkSession.builder.remote(f"sc://{host}")
    else:
        local = host in ("", "local")
        builder = SparkSession.builder.master("local[2]" if local else f"spark://{host}")
        if local:
            builder = builder.config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
        builder = (  # tables live under $RETAIN_SPARK_WAREHOUSE (default ./spark-warehouse)
            builder.config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.warehouse.dir", os.environ.get("RETAIN_SPARK_WAREHOUSE", "spark-warehouse"))
        )
    # an active session as it is configured (getOrCreate would impose this builder's runtime settings on it, e.g.
    # its shuffle partitions); Ibis's connect sets its time zone to UTC either way
    active = SparkSession.getActiveSession() if scheme != "sc" else None
    session = active or builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    if database:
        session.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    session.catalog.setCurrentDatabase(database or "default")  # the session's one current database: by URL
    if scheme != "sc":
        reattach_tables(session, database or "default")
    from retain.warehouse.spark import spark_backend

    return spark_backend(session)


def reattach_tables(session, database: str) -> list[str]:
    """Register the tables an earlier process left in ``database``'s directory; returns their names.

    A local session's catalog lives in memory (no Hive metastore), so a new process knows none of the Parquet
    tables an earlier ``retain ingest`` or ``retain run`` wrote under ``spark.sql.warehouse.dir``. Each table
    directory holding Parquet files the catalog does not know is registered as a Parquet table at that location,
    its schema read from the files (which carry Spark's own types). Such a table is *external*: reads, ``INSERT``
    and ``INSERT OVERWRITE`` work as on the table the earlier process created; dropping it keeps its files
    (``Warehouse.store_result`` rebuilds a result table over them instead). A directory without Parquet files (a
    table created but never written) is left for ``Warehouse.ensure_tables`` to create again. Sessions with a
    persistent catalog (Hive, a cluster's, Spark Connect) and warehouses outside the local file system are left
    as they are.
    """
    if not session.sparkContext.master.startswith("local"):
        return []
    if session.conf.get("spark.sql.catalogImplementation", "in-memory") != "in-memory":
        return []
    where = urlparse(session.catalog.getDatabase(database).locationUri)
    root = Path(url2pathname(where.path))
    if where.scheme not in ("", "file") or not root.is_dir():
        return []
    known = {row.tableName.lower() for row in session.sql(f"SHOW TABLES IN `{database}`").collect()}
    found = [d for d in sorted(root.iterdir())
             if d.is_dir() and TABLE_DIR.fullmatch(d.name) and d.name.lower() not in known]
    attached = []
    for folder in found:
        if not any(f.suffix == ".parquet" and f.is_file() for f in folder.iterdir()):
            continue
        try:
            session.catalog.createTable(f"`{database}`.`{folder.name}`", path=str(folder), source="parquet")
        except Exception as exc:
            raise WarehouseError(
                f"cannot re-attach Spark table '{folder.name}' from {folder}: {exc}",
                hint="move the directory out of the warehouse if it is not a table Retain wrote",
            ) from exc
        attached.append(folder.name)
    return attached
