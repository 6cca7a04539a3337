"""Loads into a non-DuckDB warehouse (PostgreSQL, any Ibis backend): stage and validate in DuckDB, then write.

The whole load first runs in an in-process DuckDB holding copies of the tables it touches (the target tables
and the tables their references point to), exactly as for a DuckDB warehouse. Only then are the changes (new
rows, replaced rows, load ledger, quarantine) written to the warehouse:

* PostgreSQL: in one PostgreSQL transaction, through ``COPY`` of CSV written by Arrow: atomic, a failure
  anywhere leaves the warehouse as before.
* other Ibis backends: table by table through Ibis; not atomic across tables. Every check has passed before
  the first write, and re-running the same load is safe (upsert by key), which is the recovery path.

Copying the touched tables into DuckDB costs a read of each; fine up to a few million rows per table.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from retain.ingest.ledger import LEDGER, LOADS, QUARANTINE, ddl
from retain.ingest.session import create_sql
from retain.ingest.sources import q
from retain.schema import TABLES, Table

if TYPE_CHECKING:
    from retain.ingest.engine import Delta
    from retain.warehouse import Warehouse


@dataclass
class _Change:
    table: Table
    rows: pa.Table  # new and changed rows
    keys: pa.Table  # keys of changed rows (to delete first)


@dataclass
class RemoteSession:
    wh: Warehouse
    con: duckdb.DuckDBPyConnection = field(default_factory=duckdb.connect)
    changes: list[_Change] = field(default_factory=list)
    keep_rows = True  # the rows to write must be kept until commit

    def begin(self, tables: list[Table]) -> None:
        self.wh.ensure_tables()
        existing = set(self.wh.con.list_tables())
        for name, schema in LEDGER.items():
            if name not in existing:
                self.wh.con.create_table(name, schema=schema)
        for spec in tables:
            if spec.input_only and spec.name not in existing:
                self.wh.con.create_table(spec.name, schema=spec.ibis_schema())
        self.con.execute("SET TimeZone = 'UTC'")
        needed = set()
        for spec in tables:
            needed.add(spec.name)
            needed.update(c.references.split(".")[0] for c in spec.columns if c.references)
            if spec.name == "product_events":
                needed.add("usage")
            if spec.name == "accounts":  # created_at may be derived from first subscriptions or transactions
                needed.update(("subscriptions", "transactions"))
        for name in [n for n in TABLES if n in needed]:
            self.con.execute(create_sql(TABLES[name]))
            data = self.wh.con.table(name).to_pyarrow()
            if data.num_rows:
                self.con.register("_ri_copy", data)
                self.con.execute(f"INSERT INTO {q(name)} BY NAME SELECT * FROM _ri_copy")
                self.con.unregister("_ri_copy")
        for name in LEDGER:
            self.con.execute(ddl(name))
        self._quarantine_files: list[tuple[str, str]] = []
        self.con.begin()

    def written(self, spec: Table, delta: Delta) -> None:
        cols = ", ".join(q(c) for c in spec.stored_names)
        parts = [f"SELECT {cols} FROM {q(t)}" for t in (delta.new, delta.changed) if t]
        rows = self.con.execute(" UNION ALL ".join(parts)).arrow().read_all()
        key_cols = ", ".join(q(k) for k in spec.key)
        keys = self.con.execute(f"SELECT {key_cols} FROM {q(delta.changed)}").arrow().read_all()
        if rows.num_rows:
            self.changes.append(_Change(spec, rows, keys))

    def drop(self, *names: str) -> None:
        for name in names:
            self.con.execute(f"DROP TABLE IF EXISTS {q(name)}")

    def rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.rollback()
        self.con.close()

    def commit(self) -> None:
        loads = self.con.execute(f"SELECT * FROM {q(LOADS)}").arrow().read_all()
        quarantine = self.con.execute(f"SELECT * FROM {q(QUARANTINE)}").arrow().read_all()
        replaced_files = self._files(loads)
        self.con.rollback()
        self.con.close()
        raw = getattr(self.wh.con, "con", None)
        if self.wh.con.name == "postgres" and hasattr(raw, "transaction"):
            self._write_postgres(raw, loads, quarantine, replaced_files)
        else:
            self._write_ibis(loads, quarantine, replaced_files)

    @staticmethod
    def _files(loads: pa.Table) -> list[tuple[str, str]]:
        frame = loads.select(["table_name", "source"]).to_pandas()
        files = frame[~frame["source"].str.contains(":", regex=False)].drop_duplicates()
        return list(files.itertuples(index=False, name=None))

    # -- PostgreSQL: one transaction ------------------------------------------------------------------

    def _write_postgres(self, raw, loads: pa.Table, quarantine: pa.Table, files: list[tuple[str, str]]) -> None:
        with raw.transaction(), raw.cursor() as cur:
            for change in self.changes:
                spec = change.table
                if change.keys.num_rows:
                    keys = ", ".join(q(k) for k in spec.key)
                    cur.execute(f"CREATE TEMP TABLE _ri_keys ON COMMIT DROP AS SELECT {keys} FROM {q(spec.name)} "
                                "WITH NO DATA")
                    _copy(cur, "_ri_keys", change.keys)
                    on = " AND ".join(f"t.{q(k)} = k.{q(k)}" for k in spec.key)
                    cur.execute(f"DELETE FROM {q(spec.name)} t USING _ri_keys k WHERE {on}")
                    cur.execute("DROP TABLE _ri_keys")
                _copy(cur, spec.name, change.rows)
            for table_name, file in files:
                cur.execute(f"DELETE FROM {q(QUARANTINE)} WHERE table_name = %s AND file = %s", (table_name, file))
            _copy(cur, QUARANTINE, quarantine)
            _copy(cur, LOADS, loads)

    # -- any other Ibis backend: table by table -------------------------------------------------------

    def _write_ibis(self, loads: pa.Table, quarantine: pa.Table, files: list[tuple[str, str]]) -> None:
        import ibis

        con = self.wh.con
        for change in self.changes:
            spec = change.table
            if change.keys.num_rows:
                current = con.table(spec.name)
                keys = ibis.memtable(change.keys)
                keep = current.anti_join(keys, list(spec.key))
                kept = keep.to_pyarrow()
                con.insert(spec.name, kept, overwrite=True)
            con.insert(spec.name, ibis.memtable(change.rows))
        if files:
            current = con.table(QUARANTINE)
            drop = ibis.memtable(pa.table({"table_name": [f[0] for f in files], "file": [f[1] for f in files]}))
            con.insert(QUARANTINE, current.anti_join(drop, ["table_name", "file"]).to_pyarrow(), overwrite=True)
        if quarantine.num_rows:
            con.insert(QUARANTINE, ibis.memtable(quarantine))
        con.insert(LOADS, ibis.memtable(loads))


def _copy(cur, table: str, data: pa.Table) -> None:
    """Bulk-load an Arrow table with PostgreSQL ``COPY`` (CSV written by Arrow, no Python row loop)."""
    if data.num_rows == 0:
        return
    buffer = io.BytesIO()
    pacsv.write_csv(data, buffer, pacsv.WriteOptions(include_header=False))
    cols = ", ".join(q(c) for c in data.column_names)
    with cur.copy(f"COPY {q(table)} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())
