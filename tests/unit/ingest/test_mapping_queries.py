"""Transforms in the mapping: tables defined by DuckDB queries over named export files, checked before writing."""

from __future__ import annotations

import pytest
from tests.unit.ingest.conftest import NOW, rows, snapshot

from retain.configs import validate_config
from retain.errors import ConfigError, IngestError, SchemaError
from retain.ingest import ingest_path, load_mapping

TELCO = """customerID,tenure,PhoneService,InternetService,Contract,MonthlyCharges,Churn
C1,3,Yes,No,Month-to-month,20.5,Yes
C2,10,Yes,Yes,One year,70.0,No
C3,1,No,Yes,Month-to-month,50.25,No
"""

MAPPING = """version: 1
name: telco-export
sources:
  customers: telco_churn.csv
  plans: {file: plans.csv}
tables:
  accounts:
    query: |
      SELECT customerID AS account_id, DATE '2025-05-15' - INTERVAL (tenure) MONTH AS created_at,
             Contract AS contract
      FROM customers
  subscriptions:
    query: |
      SELECT c.customerID AS account_id, c.product_id, DATE '2025-05-15' - INTERVAL (c.tenure) MONTH AS started_on,
             p.price AS mrr
      FROM customers UNPIVOT (held FOR product_id IN (PhoneService, InternetService)) c
      JOIN plans p ON p.product = c.product_id
      WHERE held = 'Yes'
    natural_key: [account_id, product_id, started_on]
  outcome_labels:
    query: SELECT customerID AS account_id, DATE '2025-05-15' AS observed_on, Churn = 'Yes' AS happened FROM customers
"""


@pytest.fixture
def telco(write):
    write("telco_churn.csv", TELCO)
    write("plans.csv", "product,price\nPhoneService,20\nInternetService,45.5\n")
    return write("telco.yaml", MAPPING)


def test_one_export_feeds_several_tables_with_join_and_unpivot(wh, telco):
    report = ingest_path(wh, telco.parent, mapping=telco, now=NOW)
    assert [(r.table, r.source, r.read, r.loaded, r.quarantined) for r in report.results] == [
        ("accounts", "telco.yaml/accounts", 3, 3, 0),
        ("subscriptions", "telco.yaml/subscriptions", 4, 4, 0),
        ("outcome_labels", "telco.yaml/outcome_labels", 3, 3, 0),
    ]
    assert rows(wh, "SELECT account_id, name, created_at::DATE::VARCHAR, attributes FROM accounts ORDER BY 1") == [
        ("C1", "C1", "2025-02-15", '{"contract":"Month-to-month"}'),
        ("C2", "C2", "2024-07-15", '{"contract":"One year"}'),
        ("C3", "C3", "2025-04-15", '{"contract":"Month-to-month"}'),
    ]
    assert rows(wh, "SELECT account_id, product_id, mrr FROM subscriptions ORDER BY 1, 2") == [
        ("C1", "PhoneService", 20.0), ("C2", "InternetService", 45.5), ("C2", "PhoneService", 20.0),
        ("C3", "InternetService", 45.5)]
    assert rows(wh, "SELECT account_id, happened FROM outcome_labels ORDER BY 1") == [
        ("C1", True), ("C2", False), ("C3", False)]
    assert rows(wh, "SELECT product_id, name FROM products ORDER BY 1") == [
        ("InternetService", "InternetService"), ("PhoneService", "PhoneService")]
    kinds = {(n.table, n.kind.value) for n in report.notes}
    assert ("subscriptions", "generated_key") in kinds and ("subscriptions", "derived") in kinds

    again = ingest_path(wh, None, mapping=telco, now=NOW)  # the mapping alone: sources next to it
    assert again.inserted == 0 and again.updated == 0 and again.loaded == 10  # stable keys: nothing changes


def test_query_output_is_checked_before_anything_is_written(wh, telco, write):
    bad = write("bad.yaml", MAPPING.replace("Churn = 'Yes' AS happened", "Churn AS hapened")
                .replace("p.price AS mrr", "p.price > 0 AS mrr"))
    before = snapshot(wh)
    with pytest.raises(SchemaError) as info:
        ingest_path(wh, telco.parent, mapping=bad, now=NOW)
    message = info.value.message
    assert message.startswith(str(bad))
    assert "tables.outcome_labels.query: no output column 'happened' (required by outcome_labels); " \
           "closest output column: 'hapened'" in message
    assert "tables.subscriptions.query: column 'mrr' is BOOLEAN, which cannot become mrr (float64)" in message
    assert snapshot(wh) == before


def test_sql_errors_name_the_table_and_the_closest_source_column(wh, telco, write):
    bad = write("typo.yaml", MAPPING.replace("INTERVAL (tenure)", "INTERVAL (tenur)"))
    with pytest.raises(SchemaError) as info:
        ingest_path(wh, telco.parent, mapping=bad, now=NOW)
    assert "tables.accounts.query: " in info.value.message
    assert "(closest source column: 'tenure' of customers)" in info.value.message


def test_missing_source_file_and_query_with_files_are_refused(wh, telco, write):
    missing = write("m.yaml", MAPPING, folder="elsewhere")
    with pytest.raises(IngestError, match=r"sources\.customers: file 'telco_churn.csv' not found"):
        ingest_path(wh, None, mapping=missing, now=NOW)
    both = write("both.yaml", "version: 1\ntables:\n  accounts:\n    query: SELECT 1\n    files: [x]\n")
    with pytest.raises(ConfigError, match="give either query or files/columns, not both"):
        load_mapping(both)


def test_rows_from_a_query_are_quarantined_and_counted(wh, write):
    write("people.csv", "id,since\nA1,2024-01-01\nA2,not a date\n")
    mapping = write("m.yaml", "version: 1\nsources: {people: people.csv}\ntables:\n  accounts:\n"
                              "    query: SELECT id AS account_id, since AS created_at FROM people\n")
    report = ingest_path(wh, mapping.parent, mapping=mapping, now=NOW)
    result = report.result("accounts")
    assert (result.read, result.loaded, result.quarantined) == (2, 1, 1)
    assert report.errors[["row_number", "column_name", "reason"]].values.tolist() == [
        [2, "created_at", "'not a date' is not a date-time like 2024-01-31T09:30:00Z"]]


def test_validate_checks_queries_with_and_without_the_files(telco, write):
    assert validate_config(telco) == []
    bad = write("bad.yaml", MAPPING.replace("Churn = 'Yes' AS happened", "Churn AS hapened"))
    issues = validate_config(bad)
    assert [(i.level.value, i.key) for i in issues] == [("error", "tables.outcome_labels.query")]
    alone = write("bad.yaml", MAPPING.replace("Churn = 'Yes' AS happened", "Churn AS hapened")
                  .replace("FROM customers\n", "FROM customer\n"), folder="alone")
    issues = validate_config(alone)
    errors = [(i.key, i.message) for i in issues if i.level.value == "error"]
    assert ("tables.accounts.query", "reads 'customer', which is not a source of the mapping "
                                     "(did you mean 'customers'?)") in errors
    assert any("no output column 'happened'" in m for _, m in errors)
    assert {i.key for i in issues if i.level.value == "warning"} == {"sources.customers", "sources.plans"}
