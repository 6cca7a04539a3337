"""Loads into PostgreSQL: validated in DuckDB, written in one PostgreSQL transaction."""

from __future__ import annotations

import pytest
from tests.unit.ingest.conftest import ACCOUNTS_CSV, NOW

from retain.ingest import ingest_path, remote, status
from retain.warehouse import Warehouse

pytestmark = pytest.mark.postgres
DB = "retain_ingest_test"


@pytest.fixture
def pg(postgres_url, worker_id) -> Warehouse:
    """A warehouse in a PostgreSQL database of its own per xdist worker (emptied first): no other test's tables."""
    import psycopg

    db = f"{DB}_{worker_id}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
        if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
            con.execute(f"CREATE DATABASE {db}")
    with psycopg.connect(f"host=127.0.0.1 port=5432 dbname={db} user=postgres", autocommit=True) as con:
        con.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return Warehouse.open(f"postgres://postgres@127.0.0.1:5432/{db}")


def _count(wh, table: str) -> int:
    return int(wh.con.table(table).count().execute())


def test_postgres_load_upserts_and_quarantines(pg, write):
    write("accounts.csv", ACCOUNTS_CSV + "A3,,2024-03-01,smb\n")
    folder = write("usage.csv", "account_id,usage_on,feature,events\nA1,2024-03-01,all,4\nA9,2024-03-01,all,1\n").parent
    report = ingest_path(pg, folder, now=NOW)
    assert [(r.table, r.read, r.loaded, r.quarantined) for r in report.results] == [
        ("accounts", 3, 2, 1), ("usage", 2, 1, 1)]
    again = ingest_path(pg, folder, now=NOW)
    assert [(r.inserted, r.updated, r.unchanged) for r in again.results] == [(0, 0, 2), (0, 0, 1)]
    write("accounts.csv", ACCOUNTS_CSV.replace("Globex", "Globex Corp"))
    changed = ingest_path(pg, folder / "accounts.csv", now=NOW)
    assert changed.results[0].updated == 1
    assert sorted(pg.execute(pg.raw("accounts"))["name"]) == ["Acme", "Globex Corp"]
    frame = status(pg).set_index("table")
    assert frame.loc["accounts", "quarantined"] == 0  # the fixed file replaced its quarantined rows
    assert frame.loc["usage", "quarantined"] == 1


def test_postgres_write_failure_leaves_the_warehouse_as_before(pg, write, monkeypatch):
    write("accounts.csv", ACCOUNTS_CSV)
    folder = write("usage.csv", "account_id,usage_on,feature\nA1,2024-03-01,all\n").parent
    real = remote._copy

    def failing(cur, table, data):
        if table == "usage":
            raise RuntimeError("connection lost (simulated)")
        return real(cur, table, data)

    monkeypatch.setattr(remote, "_copy", failing)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest_path(pg, folder, now=NOW)
    assert _count(pg, "accounts") == 0 and _count(pg, "loads") == 0
