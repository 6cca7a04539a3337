"""One vocabulary of column types: stored results are declared with the canonical model's DType (issue 11)."""

from __future__ import annotations

import ibis.expr.datatypes as dt
import pytest

from retain.results import RESULTS, ResultColumn
from retain.schema import DType


def test_every_result_column_is_a_schema_dtype():
    columns = [c for r in RESULTS.values() for c in r.columns]
    assert all(isinstance(c.type, DType) for c in columns)
    naive = {c.name for c in columns if not c.zoned}
    assert naive == {"period_start", "cohort_start", "month_start"}  # the first moments of calendar periods


def test_a_period_start_is_a_timestamp_without_a_zone():
    start = ResultColumn("period_start", DType.TIMESTAMP, "First day.", zoned=False)
    instant = ResultColumn("scored_at", DType.TIMESTAMP, "When.")
    assert start.ibis == dt.Timestamp() and instant.ibis == dt.Timestamp(timezone="UTC")
    assert (start.type_name, instant.type_name) == ("timestamp (no zone)", "timestamp")
    assert start.accepts(dt.Timestamp()) and not start.accepts(dt.string)
    with pytest.raises(ValueError, match="only a timestamp"):
        ResultColumn("day", DType.DATE, "A day.", zoned=False)


@pytest.mark.parametrize(("dtype", "source", "fits"), [
    (DType.INT, dt.float64, True),  # integers with nulls arrive from pandas as floats
    (DType.FLOAT, dt.boolean, True),
    (DType.STRING, dt.int64, False),
    (DType.JSON, dt.string, True),
    (DType.BOOL, dt.int64, False),
    (DType.DATE, dt.Timestamp(), False),
    (DType.TIMESTAMP, dt.null, True),
])
def test_what_casts_without_losing_meaning(dtype, source, fits):
    assert ResultColumn("x", dtype, "x").accepts(source) is fits
