"""The load ledger: a ``loads`` row per file/table loaded and a ``quarantine`` row per problem found.

These are operational tables next to the canonical ones; :func:`status` summarises the warehouse for
``retain status``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.datatypes as dt_
import pandas as pd

from retain.ingest.report import LoadResult
from retain.ingest.sources import lit, q
from retain.schema import TABLES
from retain.warehouse import Warehouse

LOADS = "loads"
QUARANTINE = "quarantine"

LOADS_SCHEMA = ibis.schema({
    "load_id": dt_.string, "table_name": dt_.string, "source": dt_.string, "read": dt_.int64,
    "loaded": dt_.int64, "quarantined": dt_.int64, "inserted": dt_.int64, "updated": dt_.int64,
    "started_at": dt_.Timestamp(timezone="UTC"), "finished_at": dt_.Timestamp(timezone="UTC"),
})
QUARANTINE_SCHEMA = ibis.schema({
    "load_id": dt_.string, "table_name": dt_.string, "file": dt_.string, "row_number": dt_.int64,
    "column_name": dt_.string, "reason": dt_.string, "raw_row": dt_.string,
    "quarantined_at": dt_.Timestamp(timezone="UTC"),
})
LEDGER = {LOADS: LOADS_SCHEMA, QUARANTINE: QUARANTINE_SCHEMA}


def ddl(name: str) -> str:
    """DuckDB ``CREATE TABLE IF NOT EXISTS`` for a ledger table."""
    types = {"string": "VARCHAR", "int64": "BIGINT", "timestamp('UTC')": "TIMESTAMPTZ"}
    cols = ", ".join(f"{q(c)} {types[str(t).removesuffix('!')]}" for c, t in LEDGER[name].items())
    return f"CREATE TABLE IF NOT EXISTS {q(name)} ({cols})"


def record_load_sql(load_id: str, result: LoadResult, started: dt.datetime, finished: dt.datetime) -> str:
    return (
        f"INSERT INTO {q(LOADS)} VALUES ({lit(load_id)}, {lit(result.table)}, {lit(result.source)}, {result.read}, "
        f"{result.loaded}, {result.quarantined}, {result.inserted}, {result.updated}, "
        f"TIMESTAMPTZ {lit(started.isoformat())}, TIMESTAMPTZ {lit(finished.isoformat())})"
    )


def _ledger(wh: Warehouse, name: str):
    if name not in wh.con.list_tables():
        return None
    return wh.con.table(name)


def quarantined_rows(wh: Warehouse, table: str | None = None, load_id: str | None = None) -> pd.DataFrame:
    """Every quarantined problem (newest load first), optionally for one table or load."""
    t = _ledger(wh, QUARANTINE)
    if t is None:
        return pd.DataFrame(columns=list(QUARANTINE_SCHEMA.names))
    if table is not None:
        t = t.filter(t.table_name == table)
    if load_id is not None:
        t = t.filter(t.load_id == load_id)
    return wh.execute(t.order_by([ibis.desc("quarantined_at"), "table_name", "file", "row_number", "column_name"]))


def loads(wh: Warehouse, limit: int | None = 50) -> pd.DataFrame:
    """The load ledger, newest first."""
    t = _ledger(wh, LOADS)
    if t is None:
        return pd.DataFrame(columns=list(LOADS_SCHEMA.names))
    expr = t.order_by([ibis.desc("finished_at"), "table_name"])
    return wh.execute(expr.limit(limit) if limit else expr)


def status(wh: Warehouse) -> pd.DataFrame:
    """Per canonical table: rows, known-at date range, rows quarantined and the last load."""
    existing = set(wh.con.list_tables())
    parts = []
    for name, spec in TABLES.items():
        if name not in existing:
            continue
        t = wh.con.table(name)
        if spec.known_at:
            col = t[spec.known_at].cast("date")
            agg = t.aggregate(rows=t.count(), first_on=col.min(), last_on=col.max())
        else:
            agg = t.aggregate(rows=t.count(), first_on=ibis.null("date"), last_on=ibis.null("date"))
        parts.append(agg.mutate(table=ibis.literal(name)))
    frame = wh.execute(ibis.union(*parts)) if parts else pd.DataFrame(columns=["table", "rows", "first_on", "last_on"])
    frame = frame[["table", "rows", "first_on", "last_on"]]
    quarantine = _ledger(wh, QUARANTINE)
    loads_t = _ledger(wh, LOADS)
    if quarantine is not None:
        # rows, not problems: one row can have several reasons
        qa = wh.execute(quarantine.select("table_name", "load_id", "file", "row_number").distinct()
                        .group_by(table=lambda s: s.table_name).aggregate(quarantined=lambda s: s.count()))
        frame = frame.merge(qa, on="table", how="left")
    else:
        frame["quarantined"] = 0
    if loads_t is not None:
        la = wh.execute(loads_t.group_by(table=loads_t.table_name).aggregate(last_load=loads_t.finished_at.max()))
        frame = frame.merge(la, on="table", how="left")
    else:
        frame["last_load"] = pd.NaT
    frame["quarantined"] = frame["quarantined"].fillna(0).astype("int64")
    order = {name: i for i, name in enumerate(TABLES)}
    return frame.sort_values("table", key=lambda s: s.map(order)).reset_index(drop=True)
