"""Where a load runs: a DuckDB engine plus the transaction that makes a whole load atomic.

For a DuckDB warehouse the engine is the warehouse's own connection and the load is one DuckDB transaction:
a failure anywhere leaves the warehouse exactly as before. Other backends are handled by
:class:`retain.ingest.remote.RemoteSession`.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

import duckdb

from retain.ingest.ledger import LEDGER, ddl
from retain.ingest.sources import q
from retain.schema import Table

if TYPE_CHECKING:
    from retain.ingest.engine import Delta
    from retain.warehouse import Warehouse


def create_sql(spec: Table) -> str:
    cols = [f"{q(c.name)} {c.dtype.sql}" for c in spec.columns]
    if spec.attributes:
        cols.append('"attributes" VARCHAR')
    return f"CREATE TABLE IF NOT EXISTS {q(spec.name)} ({', '.join(cols)})"


MEMORY_ENV = "RETAIN_INGEST_MEMORY"
DEFAULT_MEMORY = "1GB"  # DuckDB spills staging tables to disk beyond this: a 10M-row load stays under 2 GB RSS


class DuckDBSession:
    """Runs a load inside one transaction on the warehouse's own DuckDB connection."""

    keep_rows = False  # new rows go straight from the validated rows into the warehouse tables

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self.con: duckdb.DuckDBPyConnection = wh.con.con
        self._settings: dict[str, str] = {}

    def _set(self, name: str, value: str) -> None:
        self._settings.setdefault(name, self.con.execute(f"SELECT current_setting('{name}')").fetchone()[0])
        self.con.execute(f"SET {name} = '{value}'")

    def _restore(self) -> None:
        for name, value in self._settings.items():
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f"SET {name} = '{value}'")
        self._settings.clear()

    def begin(self, tables: list[Table]) -> None:
        self._set("TimeZone", "UTC")
        self._set("memory_limit", os.environ.get(MEMORY_ENV, DEFAULT_MEMORY))
        self._set("preserve_insertion_order", "true")
        self.con.begin()
        self.wh.ensure_tables()  # inside the transaction: a dry run or a failed load creates nothing either
        for name in LEDGER:
            self.con.execute(ddl(name))
        for spec in tables:
            if spec.input_only:
                self.con.execute(create_sql(spec))

    def written(self, spec: Table, delta: Delta) -> None:
        """Called after each upsert; the rows are already in the warehouse tables."""

    def commit(self) -> None:
        try:
            self.con.commit()
        finally:
            self._restore()

    def rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):  # no transaction open (it failed before BEGIN)
            self.con.rollback()
        self._restore()

    def drop(self, *names: str) -> None:
        for name in names:
            self.con.execute(f"DROP TABLE IF EXISTS {q(name)}")
