import pytest
from metrics_book import AS_OF

from retain.errors import RetainError
from retain.metrics.dimensions import Dimension
from retain.metrics.periods import Grain
from retain.metrics.results import QUERIES, STORED_NAMES, compute_results, metric_query, store_results


def test_every_result_is_stored_per_as_of(saas):
    results = compute_results(saas, AS_OF)
    counts = store_results(saas, AS_OF, results)
    assert set(counts) == set(STORED_NAMES)
    retention = saas.execute(saas.result("retention", AS_OF))
    assert set(retention.grain) == {"month", "quarter", "year"}
    assert set(retention.dimension) == {"all", "segment", "region", "acquisition_channel", "product"}
    q2 = retention[(retention.grain == "quarter") & (retention.dimension == "all") & (retention.period == "2024-Q2")]
    assert q2.iloc[0].end == 3
    # storing again for the same day replaces, another day adds
    store_results(saas, AS_OF, results)
    assert len(saas.execute(saas.result("pareto", AS_OF))) == counts["pareto"]
    store_results(saas, "2024-03-31", {"pareto": results["pareto"]})
    assert saas.execute(saas.raw_result("pareto")).as_of.nunique() == 2


def test_sql_of_every_metric_is_inspectable(saas):
    for name in QUERIES:
        sql = saas.sql(metric_query(name).build(saas, AS_OF, Grain.QUARTER, Dimension.ALL))
        assert "SELECT" in sql and "subscriptions" in sql
    with pytest.raises(RetainError, match="unknown metric"):
        metric_query("nps")


def test_empty_warehouse_gives_empty_results(wh):
    counts = store_results(wh, AS_OF)
    assert counts["retention"] == 0 and counts["survival"] == 0
