"""The warehouse: canonical tables, point-in-time reads, stored results and the SQL behind any expression."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt_
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import sqlglot as sg
from ibis.backends import BaseBackend

from retain import results
from retain.errors import ResultError, WarehouseError
from retain.schema import TABLES
from retain.schema import table as table_spec
from retain.warehouse.connection import connect
from retain.warehouse.point_in_time import AsOf, as_of_date, snapshot

RESULT_PREFIX = "result_"


class Warehouse:
    """Thin wrapper over an Ibis backend that knows the canonical model.

    Analytics receive ``Warehouse`` and return unexecuted Ibis expressions; only faces and the pipeline
    execute them (``execute``), so the same code runs on DuckDB, PostgreSQL or Spark.
    """

    def __init__(self, con: BaseBackend) -> None:
        self.con = con

    @classmethod
    def open(cls, db: str | Path | None = None, *, create: bool = True) -> Warehouse:
        wh = cls(connect(db))
        if create:
            wh.ensure_tables()
        return wh

    @property
    def is_duckdb(self) -> bool:
        return self.con.name == "duckdb"

    def ensure_tables(self, names: Iterable[str] | None = None) -> None:
        """Create every missing canonical table (empty), and add to a table an older Retain created the columns
        declared since (empty for the rows it holds), so analytics never meet a missing table or column."""
        existing = set(self.con.list_tables())
        for name in names or TABLES:
            spec = table_spec(name)
            if spec.input_only:
                continue
            if name in existing:
                self._add_missing_columns(name, spec.ibis_schema())
            else:
                self.con.create_table(name, schema=spec.ibis_schema())

    def _add_missing_columns(self, name: str, schema: ibis.Schema) -> None:
        have = set(self.con.table(name).columns)
        missing = [(column, dtype) for column, dtype in schema.items() if column not in have]
        if not missing:
            return
        compiler = self.con.compiler
        columns = [f"{self._quoted(column)} {compiler.type_mapper.from_ibis(dtype).sql(dialect=compiler.dialect)}"
                   for column, dtype in missing]
        if self.con.name == "pyspark":  # Spark SQL adds several at once, in parentheses
            self.con.raw_sql(f"ALTER TABLE {self._quoted(name)} ADD COLUMNS ({', '.join(columns)})")
            return
        for column in columns:
            self.con.raw_sql(f"ALTER TABLE {self._quoted(name)} ADD COLUMN {column}")

    def raw(self, name: str) -> ir.Table:
        """The table as stored, with every row ever loaded. Analytics should use :meth:`as_of`."""
        table_spec(name)
        try:
            return self.con.table(name)
        except Exception as exc:
            raise WarehouseError(f"table '{name}' is missing from the warehouse", hint="run `retain init`") from exc

    def as_of(self, name: str, as_of: AsOf) -> ir.Table:
        """Table ``name`` as known at the end of day ``as_of``."""
        spec = table_spec(name)
        parent = None
        if spec.known_at is None and spec.parent is not None:
            parent = self.as_of(spec.parent[0], as_of)
        return snapshot(self.raw(name), spec, as_of, parent)

    def execute(self, expr: ir.Expr, **kwargs) -> pd.DataFrame:
        return self.con.execute(expr, **kwargs)

    def sql(self, expr: ir.Expr, *, pretty: bool = True) -> str:
        """The SQL an expression compiles to on this backend (MetricFlow's rule: never a black box)."""
        compiler = self.con.compiler  # this backend's (Spark's casts float literals: retain.warehouse.spark)
        out = compiler.to_sqlglot(expr.unbind())
        queries = out if isinstance(out, list) else [out]
        return ";\n".join(q.sql(dialect=compiler.dialect, pretty=pretty) for q in queries)

    def count(self, name: str) -> int:
        return int(self.raw(name).count().execute())

    # -- stored results ---------------------------------------------------------------------------------

    def store_result(self, name: str, data: pd.DataFrame | pa.Table | ir.Table, as_of: AsOf | None = None) -> str:
        """Store a computed result (per ``as_of`` when given) for the dashboard; replaces the same ``as_of``.

        ``name`` must be declared in :mod:`retain.results`; the frame is checked against that spec (columns,
        castable types, no null in a key) and stored with exactly its columns. A stored table with another
        layout (an older Retain's) is rebuilt here, so no caller drops tables.
        """
        result = results.spec(name)
        if result.dated != (as_of is not None):
            raise ResultError(f"result '{name}' is stored {'per' if result.dated else 'without a'} date",
                              hint="give the as_of it was computed for" if result.dated else "give no as_of")
        if not isinstance(data, ir.Table):
            if as_of is not None and "as_of" in (data.columns if isinstance(data, pd.DataFrame) else data.column_names):
                data = data.drop(columns="as_of") if isinstance(data, pd.DataFrame) else data.drop_columns("as_of")
            if isinstance(data, pd.DataFrame) and data.empty:  # no values: its types say nothing, the spec's rule
                data = data.astype(object)
            if nulls := results.null_keys(result, data):
                raise ResultError(f"result '{name}' has nulls in its never-null column(s) {', '.join(nulls)}",
                                  hint=f"every row of '{name}' needs its key: {', '.join(result.key)}")
        frame = data if isinstance(data, ir.Table) else ibis.memtable(data)
        if as_of is not None and "as_of" in frame.columns:
            frame = frame.drop("as_of")
        frame = results.conform(result, frame)
        if as_of is not None:
            frame = frame.mutate(as_of=ibis.literal(as_of_date(as_of), type="date"))
        table_name = RESULT_PREFIX + name
        if table_name in self.con.list_tables() and _layout(self.con.table(table_name)) != _layout(frame):
            if hasattr(self.con, "rebuild_table"):  # Spark: a re-attached (external) table's files outlive a DROP
                self.con.rebuild_table(table_name, frame.schema())
            else:
                self.con.raw_sql(f"DROP TABLE {self._quoted(table_name)}")  # an older layout: rebuilt as declared
        overwrite = False
        if table_name not in self.con.list_tables():
            self.con.create_table(table_name, schema=frame.schema())
        elif as_of is not None and self.con.name == "pyspark":
            frame, overwrite = self._other_days(table_name, as_of_date(as_of)).cast(frame.schema()).union(frame), True
        elif as_of is not None:
            self._delete_as_of(table_name, as_of_date(as_of))
        else:
            overwrite = True
        try:
            self.con.insert(table_name, frame, overwrite=overwrite)
        except Exception as exc:
            raise ResultError(f"result '{name}' could not be stored: {exc}",
                              hint=f"check the values against the types declared for '{name}'") from exc
        return table_name

    def result(self, name: str, as_of: AsOf | None = None) -> ir.Table:
        t = self.raw_result(name)
        if as_of is None:
            return t
        return t.filter(t.as_of == ibis.literal(as_of_date(as_of), type="date"))

    def raw_result(self, name: str) -> ir.Table:
        try:
            return self.con.table(RESULT_PREFIX + name)
        except Exception as exc:
            raise WarehouseError(f"no stored result '{name}'", hint="run the command that computes it") from exc

    def _other_days(self, table_name: str, day: dt.date) -> ir.Table:
        """Spark: the stored rows of every other day, read now (a Parquet table has no DELETE, and Spark cannot
        overwrite a table it reads from), so one ``INSERT OVERWRITE`` replaces the day: one write per table."""
        t = self.con.table(table_name)
        return ibis.memtable(t.filter(t.as_of != ibis.literal(day, type="date")).to_pyarrow())

    def _delete_as_of(self, table_name: str, day: dt.date) -> None:
        self.con.raw_sql(f"DELETE FROM {self._quoted(table_name)} WHERE as_of = DATE '{day.isoformat()}'")

    def _quoted(self, name: str) -> str:
        """``name`` quoted for this backend's SQL (Spark quotes with backticks; ``"x"`` is a string there)."""
        return sg.to_identifier(name, quoted=True).sql(dialect=self.con.compiler.dialect)


def _layout(table: ir.Table) -> list[tuple[str, str]]:
    """Column names and types, nullability and timestamp precision aside (backends report them differently)."""
    return [(n, str(dt_.Timestamp(timezone=t.timezone) if t.is_timestamp() else t.copy(nullable=True)))
            for n, t in table.schema().items()]
