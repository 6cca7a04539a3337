"""Schemathesis against the API's own OpenAPI schema, with every one of its conformance checks.

Every operation gets a bounded number of positive and negative (schema-violating) examples, so the run stays well
under a minute, and every response must pass all of Schemathesis's checks (``case.call_and_validate``): not a server
error, a documented status code, the documented content type, headers and response schema, negative data rejected,
positive data accepted. Ours on top: every 4xx has the one error shape.

One exception, declared in the config below: a batch for ``POST /v1/ingest`` that fits the schema may still be refused
with 422, because rows are checked against the data model and the data (required columns per table, parseable
dates, references to other tables), which the request schema does not restate. Such a batch must never be refused
as a malformed request, though: that is checked here instead.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from retain.server.testing import seeded_app
from retain.warehouse import Warehouse

EXAMPLES = 100
OPERATIONS = 24  # the API's operations (accounts, metrics, ingest, CTAs, tasks, notes, plans, surveys, sales)
INGEST_EXAMPLES = 20  # each valid batch opens the DuckDB warehouse and loads it
INGEST = "ingest_rows"
INGEST_POSITIVE_STATUSES = ["2xx", "401", "403", "404", "409", "413", "422", "429"]  # see the module docstring
MALFORMED = "the request is not valid"  # the message of a request refused by the schema's validation
CONFIG = {
    "generation": {"with-security-parameters": False},  # the key is ours to send (the ignored_auth check tries without)
    "operations": [{"include-operation-id": INGEST,
                    "checks": {"positive_data_acceptance": {"expected-statuses": INGEST_POSITIVE_STATUSES}}}],
}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schemathesis")
    warehouse = str(folder / "wh.duckdb")
    Warehouse.open(warehouse).con.disconnect()
    app, keys = seeded_app(f"sqlite:///{folder / 'app.sqlite'}", warehouse=warehouse)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=SchemathesisConfig.from_dict(CONFIG))
    return schema, keys["admin-write"]


def _check(case, key: str) -> None:
    response = case.call_and_validate(headers={"X-API-Key": key})
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["status"] == response.status_code and error["code"] and error["message"]
        if case.operation.definition.raw.get("operationId") == INGEST and case.meta.generation.mode.is_positive:
            assert error["message"] != MALFORMED, f"a batch that fits the schema was refused: {response.text}"


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(api, mode):
    schema, key = api
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == OPERATIONS, "every API operation is exercised: update OPERATIONS when routes change"
    for operation in operations:
        if mode.is_negative and not list(operation.iter_parameters()) and not operation.body:
            continue  # GET /v1/me: no input to break
        examples = INGEST_EXAMPLES if operation.definition.raw.get("operationId") == INGEST else EXAMPLES

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            _check(case, key)

        started = time.perf_counter()
        run()
        print(f"{mode.value} {operation.label}: {time.perf_counter() - started:.1f}s")
