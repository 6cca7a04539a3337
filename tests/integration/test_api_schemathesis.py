"""Schemathesis against the API's own OpenAPI schema: no request, valid or malformed, gets a 500.

Every operation gets a bounded number of positive and negative (schema-violating) examples so the run stays
well under a minute; every 4xx must have the one error shape.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from retain.state import testing
from retain.warehouse import Warehouse

EXAMPLES = 25
INGEST_EXAMPLES = 8  # each valid batch opens the DuckDB warehouse and loads it


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schemathesis")
    warehouse = str(folder / "wh.duckdb")
    Warehouse.open(warehouse).con.disconnect()
    app, keys = testing.seeded_app(f"sqlite:///{folder / 'app.sqlite'}", warehouse=warehouse)
    return schemathesis.openapi.from_asgi("/api/openapi.json", app), keys["admin-write"]


def _check(case, key: str) -> None:
    response = case.call(headers={"X-API-Key": key})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    if "/api/" not in response.request.url:
        return  # the client resolved '..' in a generated path parameter out of /api: a page answered
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["status"] == response.status_code and error["code"] and error["message"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_500_and_one_error_shape(api, mode):
    schema, key = api
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    for operation in operations:
        examples = EXAMPLES if operation.method.upper() == "GET" else INGEST_EXAMPLES

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            _check(case, key)

        started = time.perf_counter()
        run()
        print(f"{mode.value} {operation.label}: {time.perf_counter() - started:.1f}s")
