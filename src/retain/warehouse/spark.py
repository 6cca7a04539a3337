"""Spark through Ibis, with the two rules Retain's analytics and loads need there.

* Spark SQL reads a literal ``30.0`` as ``DECIMAL(3,1)``, so ``bigint / 30.0`` is decimal arithmetic rounded to six
  places (``usage_trend`` came out 3.0000024 instead of 3): every float literal is cast to ``DOUBLE``, as DuckDB and
  PostgreSQL read it.
* Ibis hands in-memory tables (loaded rows, stored results) to Spark through pandas; with pandas 3 a missing string
  is ``NaN`` there, which Spark stores as the text ``'NaN'``. Arrow goes in as it is instead (PySpark >= 4): nulls
  stay nulls.

Only the backends Retain opens use these; Ibis's own stay as they are.
"""

from __future__ import annotations

import math

from ibis.backends.pyspark import Backend
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


def spark_backend(session) -> RetainSparkBackend:
    """The Ibis backend over a Spark session (local, cluster or Spark Connect) with Retain's two rules."""
    import ibis

    _ = ibis.pyspark  # loading Ibis's backend registers its options (``ibis.options.pyspark``)
    return RetainSparkBackend().connect(session)
