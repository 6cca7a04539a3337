"""A warehouse an older Retain created gains the columns declared since, keeping its rows (DuckDB and PostgreSQL)."""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest

from retain.ingest.pipeline import ingest_frames
from retain.warehouse import Warehouse

OPPORTUNITY = {"opportunity_id": ["o1"], "created_at": [pd.Timestamp("2026-01-05", tz="UTC")],
               "opportunity_type": ["new_business"], "stage": ["proposal"], "amount": [1200.0]}


def _older(wh: Warehouse) -> Warehouse:
    """The warehouse as a Retain without ``opportunities.forecast_category`` left it, holding one deal."""
    ingest_frames(wh, {"opportunities": pd.DataFrame(OPPORTUNITY)})
    wh.con.raw_sql("ALTER TABLE opportunities DROP COLUMN forecast_category")
    assert "forecast_category" not in wh.con.table("opportunities").columns
    return wh


def _check_upgraded(wh: Warehouse) -> None:
    wh.ensure_tables()  # what opening it with this Retain does
    table = wh.con.table("opportunities")
    assert table.schema()["forecast_category"].is_string()
    rows = wh.execute(table)
    assert rows["opportunity_id"].tolist() == ["o1"] and rows["amount"].tolist() == [1200.0]
    assert rows["forecast_category"].isna().all()
    wh.ensure_tables()  # a second time changes nothing
    assert wh.con.table("opportunities").columns == table.columns


def test_duckdb_warehouse_gains_new_columns(tmp_path):
    _check_upgraded(_older(Warehouse.open(tmp_path / "old.duckdb")))


@pytest.mark.postgres
def test_postgres_warehouse_gains_new_columns(worker_id):
    db = f"retain_newcols_{worker_id}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{db}"')
    _check_upgraded(_older(Warehouse.open(f"postgres://postgres@127.0.0.1:5432/{db}")))
