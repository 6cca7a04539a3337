"""Portability through the URL a user types: ``pyspark://local/DATABASE`` opens a warehouse whose metrics layer gives
the same numbers as DuckDB's.

The suite's one Spark session (the ``spark`` fixture) is active, so the URL attaches to it instead of starting
another (a second JVM session would cost ~20 s); the test runs on the Spark tests' xdist worker.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from retain.warehouse import Warehouse

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("backend-pyspark")]
URL = "pyspark://local/retention_by_url"  # its own database: the other Spark tests' tables stay apart
KEYS = ("retention", "revenue_retention", "cohorts_logo", "cohorts_revenue", "churn_reasons")


def test_retention_results_are_identical_on_spark(spark, monkeypatch):
    from metrics_book import AS_OF, accounts_frame, subs_frame

    # the URL attaches to the active session: make it a fresh session of the suite's Spark, so no temporary view
    # another test registered (named like a canonical table) shadows this warehouse's tables
    from pyspark.sql import SparkSession

    from retain.metrics.results import compute_results

    fresh = spark.newSession()
    monkeypatch.setattr(SparkSession, "_activeSession", fresh)
    spark._jvm.SparkSession.setActiveSession(fresh._jsparkSession)
    on_spark, duck = Warehouse.open(URL), Warehouse.open(":memory:")
    assert on_spark.con._session.sparkContext is spark.sparkContext  # attached to the suite's session
    assert spark.conf.get("spark.sql.shuffle.partitions") == "1"  # ... as it is configured
    assert on_spark.con._session.catalog.currentDatabase() == "retention_by_url"
    for wh in (on_spark, duck):
        wh.con.insert("accounts", accounts_frame())
        wh.con.insert("subscriptions", subs_frame())
    got, want = compute_results(on_spark, AS_OF), compute_results(duck, AS_OF)
    assert os.environ["SPARK_LOCAL_IP"] == "127.0.0.1"
    for key in KEYS:
        frame = want[key]
        assert len(frame), key
        order = list(frame.columns[:7])
        pd.testing.assert_frame_equal(
            got[key].sort_values(order).reset_index(drop=True), frame.sort_values(order).reset_index(drop=True),
            check_dtype=False, rtol=1e-9, obj=key,
        )
