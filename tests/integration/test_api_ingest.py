"""Batch ingestion through the API: same checks as file ingestion, per-row errors, nothing half-written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from retain.server.testing import seeded_app
from retain.warehouse import Warehouse

pytest.importorskip("retain.ingest")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("ingest")
    warehouse = str(tmp_path / "wh.duckdb")
    Warehouse.open(warehouse).con.disconnect()
    app, keys = seeded_app(f"sqlite:///{tmp_path / 'app.sqlite'}", warehouse=warehouse)
    return TestClient(app), keys, warehouse


def count(warehouse: str, table: str) -> int:
    wh = Warehouse.open(warehouse)
    try:
        return wh.count(table)
    finally:
        wh.con.disconnect()


GOOD = {"account_id": "n1", "name": "New Co", "created_at": "2024-06-01T00:00:00Z"}


def test_valid_rows_are_loaded(setup):
    client, keys, warehouse = setup
    r = client.post("/api/v1/ingest", headers={"X-API-Key": keys["admin-write"]},
                    json={"tables": {"accounts": [GOOD, {**GOOD, "account_id": "n2", "name": "二号公司"}]}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["committed"] and body["loaded"] == 2 and body["results"][0]["table"] == "accounts"
    assert count(warehouse, "accounts") >= 2


def test_one_bad_row_writes_nothing_and_is_reported(setup):
    client, keys, warehouse = setup
    bad = {"account_id": "n3", "name": "Bad Co", "created_at": "not a date"}
    before = count(warehouse, "accounts")
    r = client.post("/api/v1/ingest", headers={"X-API-Key": keys["admin-write"]},
                    json={"tables": {"accounts": [{**GOOD, "account_id": "n4"}, bad]}})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_rows" and err["details"] and err["details"][0]["table"] == "accounts"
    assert count(warehouse, "accounts") == before  # the good row n4 was not written either
    wh = Warehouse.open(warehouse)
    try:
        assert wh.raw("accounts").filter(wh.raw("accounts").account_id == "n4").count().execute() == 0
    finally:
        wh.con.disconnect()


def test_ingestion_needs_a_write_key_and_known_tables(setup):
    client, keys, _ = setup
    payload = {"tables": {"accounts": [GOOD]}}
    assert client.post("/api/v1/ingest", headers={"X-API-Key": keys["admin"]}, json=payload).status_code == 403
    r = client.post("/api/v1/ingest", headers={"X-API-Key": keys["admin-write"]}, json={"tables": {"nope": [GOOD]}})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["body", "tables", "nope"]
    r = client.post("/api/v1/ingest", headers={"X-API-Key": keys["admin-write"]}, json={"tables": {}})
    assert r.status_code == 422


def test_a_locked_warehouse_answers_503_with_retry_after(setup):
    import subprocess
    import sys

    client, keys, warehouse = setup
    code = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code, warehouse], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        r = client.post("/api/v1/ingest", headers={"X-API-Key": keys["admin-write"]},
                        json={"tables": {"accounts": [{**GOOD, "account_id": "n9"}]}})
        assert r.status_code == 503, r.text
        err = r.json()["error"]
        assert err["code"] == "warehouse_locked" and f"(PID {holder.pid})" in err["message"]
        assert r.headers["Retry-After"] == "5"
    finally:
        holder.kill()
        holder.wait()
