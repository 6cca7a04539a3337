"""Batch ingestion through the API: JSON rows become frames for :func:`retain.ingest.ingest_frames` (strict)."""

from __future__ import annotations

import threading

import pandas as pd
from sqlalchemy.orm import Session

from retain.api import schemas as s
from retain.api.errors import ApiError
from retain.errors import RetainError, WarehouseError
from retain.ingest import ingest_frames
from retain.ingest.locks import RETRY_AFTER_SECONDS, locked_error
from retain.schema import TABLES
from retain.state import audit
from retain.warehouse import Warehouse

_lock = threading.Lock()  # one load at a time per process: DuckDB files take one writer


def ingest(runtime, body: s.IngestRequest, *, actor: str, db: Session) -> s.IngestPublic:
    unknown = sorted(set(body.tables) - set(TABLES))
    if unknown:
        raise ApiError(422, f"unknown table(s): {', '.join(unknown)}",
                       hint="use canonical table names (see docs/data-model.md)",
                       details=[{"loc": ["body", "tables", t], "message": "unknown table"} for t in unknown])
    frames = {name: pd.DataFrame.from_records(rows) for name, rows in body.tables.items()}
    with _lock:
        try:
            wh = Warehouse.open(runtime.settings.warehouse)
            try:
                report = ingest_frames(wh, frames, source="api", strict=True)
            finally:
                wh.con.disconnect()
        except WarehouseError as exc:  # the warehouse, not the request, is the problem: retry later
            locked = locked_error(exc)
            if locked is not None:
                raise ApiError(503, locked.message, code="warehouse_locked", hint=locked.hint,
                               headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from exc
            raise ApiError(503, exc.message, hint=exc.hint) from exc
        except RetainError as exc:
            raise ApiError(422, exc.message, hint=exc.hint) from exc
    if not report.committed:
        errors = report.errors.head(200).to_dict("records")
        details = [{"table": e.get("table_name"), "row": _int(e.get("row_number")),
                    "loc": [str(e.get("column_name") or "")], "message": str(e.get("reason"))} for e in errors]
        raise ApiError(422, f"{len(report.errors)} invalid row(s); nothing was written", code="invalid_rows",
                       hint="fix the rows listed in details and send the batch again", details=details)
    audit.record(db, "api.ingest", actor=actor, target=",".join(body.tables), detail={"rows": report.loaded})
    db.commit()
    return s.IngestPublic(load_id=report.load_id, committed=True, read=report.read, loaded=report.loaded,
                          results=[s.LoadPublic(table=r.table, read=r.read, loaded=r.loaded, inserted=r.inserted,
                                                updated=r.updated) for r in report.results])


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
