import re
from pathlib import Path

import pytest
from metrics_book import AS_OF, accounts_frame, subs_frame

from retain.errors import RetainError
from retain.metrics.dimensions import Dimension
from retain.metrics.periods import Grain
from retain.metrics.results import QUERIES, STORED_NAMES, compute_results, metric_query, store_results
from retain.warehouse import Warehouse


@pytest.fixture(scope="module")
def book():
    wh = Warehouse.open(":memory:")
    wh.con.insert("accounts", accounts_frame())
    wh.con.insert("subscriptions", subs_frame())
    return wh, compute_results(wh, AS_OF)


def test_every_result_is_stored_per_as_of(book):
    saas, results = book
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


def _documented_results() -> dict[str, list[str]]:
    """Stored-result table of docs/metrics.md: name -> documented columns."""
    text = (Path(__file__).parents[3] / "docs" / "metrics.md").read_text()
    section = text.split("## Stored results", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| `")]
    return {row[0].strip("| `"): re.findall(r"`([a-z_]+)`", row[2]) for row in rows}


def test_docs_list_every_stored_result_and_command(book):
    documented = _documented_results()
    assert set(documented) == set(STORED_NAMES)
    _, results = book
    for name, frame in results.items():
        columns = [c for c in documented[name] if c in frame.columns]
        assert columns == list(frame.columns), name
    text = (Path(__file__).parents[3] / "docs" / "metrics.md").read_text()
    for command in ("retention", "cohorts", "survival", "products-held", "pareto", "profitability",
                    "churn-reasons", "rfm", "sql", "store-metrics"):
        assert f"`retain {command}" in text, command


def test_committed_json_schemas_are_up_to_date():
    from retain.metrics import spec_schemas

    for name in spec_schemas.SPECS:
        committed = spec_schemas.path(name).read_text()
        assert committed == spec_schemas.json_schema(name), "run python -m retain.metrics.spec_schemas"
