"""Spark through Ibis, with the rules Retain's analytics and loads need there.

* Spark SQL reads a literal ``30.0`` as ``DECIMAL(3,1)``, so ``bigint / 30.0`` is decimal arithmetic rounded to six
  places (``usage_trend`` came out 3.0000024 instead of 3): every float literal is cast to ``DOUBLE``, as DuckDB and
  PostgreSQL read it.
* Ibis hands in-memory tables (loaded rows, stored results) to Spark through pandas; with pandas 3 a missing string
  is ``NaN`` there, which Spark stores as the text ``'NaN'``. Arrow goes in as it is instead (PySpark >= 4): nulls
  stay nulls.
* ``insert(..., overwrite=True)`` is one ``INSERT OVERWRITE`` statement (Ibis: ``TRUNCATE`` then ``INSERT``), which
  is also the only way to replace the rows of a table re-attached from its directory by a new local process
  (``retain.warehouse.connection.reattach_tables``): Spark does not truncate such external tables.

Only the backends Retain opens use these; Ibis's own stay as they are.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import sqlglot as sg
from ibis.backends.pyspark import Backend
from ibis.backends.pyspark.datatypes import PySparkSchema
from ibis.backends.sql.compilers.pyspark import PySparkCompiler


class RetainSparkCompiler(PySparkCompiler):
    def visit_NonNullLiteral(self, op, *, value, dtype):
        result = super().visit_NonNullLiteral(op, value=value, dtype=dtype)
        if dtype.is_floating() and math.isfinite(value):
            return self.cast(result, dtype)
        return result


class RetainSparkBackend(Backend):
    compiler = RetainSparkCompiler()

    def _register_in_memory_table(self, op) -> None:
        data = op.data.to_pyarrow(op.schema)
        self._session.createDataFrame(data).createOrReplaceTempView(op.name)

    def insert(self, name: str, /, obj, *, database: str | None = None, overwrite: bool = False) -> None:
        if not overwrite:
            return super().insert(name, obj, database=database)
        catalog, db = self._to_catalog_db_tuple(self._to_sqlglot_table(database))
        table = obj if isinstance(obj, ir.Table) else ibis.memtable(obj)
        self._run_pre_execute_hooks(table)
        query = self._build_insert_from_table(target=name, source=table, db=db, catalog=catalog)
        query.set("overwrite", True)  # INSERT OVERWRITE TABLE: one statement, allowed on external tables
        with self._safe_raw_sql(query):
            pass
        return None

    def rebuild_table(self, name: str, schema) -> None:
        """Drop table ``name`` and create it again, empty, with ``schema`` (a stored result of an older layout).

        A table re-attached from its directory is external: dropping it keeps its files, and a managed table cannot
        be created over them. It is created again at its location, with ``schema``, and emptied by an ``INSERT
        OVERWRITE`` of no rows, which removes the old files."""
        quoted = sg.to_identifier(name, quoted=True).sql(dialect=self.dialect)
        info = {r.col_name: r.data_type for r in self._session.sql(f"DESCRIBE TABLE EXTENDED {quoted}").collect()}
        self.raw_sql(f"DROP TABLE {quoted}")
        schema = ibis.schema(schema)
        if info.get("Type") != "EXTERNAL":
            self.create_table(name, schema=schema)
            return
        self._session.catalog.createTable(name, path=info["Location"], source="parquet",
                                          schema=PySparkSchema.from_ibis(schema))
        self.insert(name, ibis.memtable(schema.to_pyarrow().empty_table()), overwrite=True)


def spark_backend(session) -> RetainSparkBackend:
    """The Ibis backend over a Spark session (local, cluster or Spark Connect) with Retain's rules."""
    _ = ibis.pyspark  # loading Ibis's backend registers its options (``ibis.options.pyspark``)
    return RetainSparkBackend().connect(session)
