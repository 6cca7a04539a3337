"""Portability: the metrics layer gives the same numbers on PySpark (local mode, loopback) as on DuckDB."""

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from retain.warehouse import Warehouse

pytest.importorskip("pyspark", reason="pip install 'retain[spark]'")
sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "metrics"))


@pytest.mark.spark
@pytest.mark.slow
def test_retention_results_are_identical_on_spark(tmp_path, monkeypatch):
    from metrics_book import AS_OF, accounts_frame, subs_frame

    from retain.metrics.results import compute_results

    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    monkeypatch.setenv("RETAIN_SPARK_WAREHOUSE", str(tmp_path / "spark-warehouse"))
    monkeypatch.chdir(tmp_path)  # Derby/metastore files stay out of the repository
    spark, duck = Warehouse.open("pyspark://local"), Warehouse.open(":memory:")
    for wh in (spark, duck):
        wh.con.insert("accounts", accounts_frame())
        wh.con.insert("subscriptions", subs_frame())
    got, want = compute_results(spark, AS_OF), compute_results(duck, AS_OF)
    assert os.environ["SPARK_LOCAL_IP"] == "127.0.0.1"
    for key in ("retention", "revenue_retention", "cohorts_logo", "cohorts_revenue", "churn_reasons"):
        frame = want[key]
        order = list(frame.columns[:7])
        pd.testing.assert_frame_equal(
            got[key].sort_values(order).reset_index(drop=True), frame.sort_values(order).reset_index(drop=True),
            check_dtype=False, rtol=1e-9, obj=key,
        )
