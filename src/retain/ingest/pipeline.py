"""Ingestion: files or frames in, validated rows upserted, bad rows quarantined, one atomic load.

Every step runs in DuckDB SQL (:mod:`retain.ingest.engine`); this module only decides what to load, in which
order (references first, following :data:`retain.schema.TABLES`), and keeps the load atomic.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import pandas as pd

from retain.errors import IngestError, SchemaError
from retain.ingest import engine
from retain.ingest.columns import normalise_name, plan_columns
from retain.ingest.ledger import record_load_sql
from retain.ingest.mapping import MappingSpec, load_mapping
from retain.ingest.report import ERROR_COLUMNS, MAX_REPORTED_ERRORS, IngestReport, LoadResult
from retain.ingest.sources import FORMATS, drop_staged, stage_file, stage_frame
from retain.schema import TABLES, Table
from retain.schema import table as table_spec
from retain.warehouse import Warehouse

Progress = Callable[[int, int, str], None]  # (steps done, steps in total, what is being done)


@dataclass(frozen=True)
class Source:
    table: str
    label: str
    path: Path | None = None
    frame: Any = None


def ingest_path(wh: Warehouse, path: str | Path, *, table: str | None = None, mapping: str | Path | None = None,
                now: dt.datetime | None = None, progress: Progress | None = None,
                strict: bool = False) -> IngestReport:
    """Load a folder of files named after tables (``accounts.csv``, ``usage.parquet``...) or one file.

    ``table`` names the table of a single file whose name is not a table; ``mapping`` is a YAML file or a
    built-in mapping name (``salesforce``, ``hubspot``). With ``strict`` a single bad row writes nothing.
    """
    spec = load_mapping(mapping)
    sources = discover(Path(path), table, spec)
    return _run(wh, sources, spec, now, strict, progress)


def ingest_frames(wh: Warehouse, frames: Mapping[str, Any], *, source: str = "api", strict: bool = False,
                  now: dt.datetime | None = None, progress: Progress | None = None,
                  mapping: str | Path | None = None) -> IngestReport:
    """Load in-memory tables (pandas DataFrames or Arrow tables) keyed by table name, through the same checks.

    Frames go to DuckDB through Arrow; nothing is looped over in Python, so millions of rows are fine.
    With ``strict=True`` any invalid row means nothing is written and ``report.errors`` lists every problem.
    """
    sources = [Source(table_spec(name).name, f"{source}:{name}", frame=frame) for name, frame in frames.items()]
    return _run(wh, _ordered(sources), load_mapping(mapping), now, strict, progress)


def discover(path: Path, table: str | None, mapping: MappingSpec | None) -> list[Source]:
    """The files to load and their tables, in reference order."""
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder", hint="check the path")
    if path.is_dir():
        if table is not None:
            raise IngestError("--table is for a single file, not a folder",
                              hint="name each file in the folder after its table (accounts.csv, usage.parquet...)")
        files = sorted(p for p in path.iterdir()
                       if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in FORMATS)
        if not files:
            raise IngestError(f"{path}: no .csv, .parquet, .json or .jsonl files in this folder",
                              hint="put one file per table in the folder, named after the table")
        sources, unknown = [], []
        for f in files:
            name = _table_for(f.stem, mapping)
            if name is None:
                unknown.append(f.name)
            else:
                sources.append(Source(name, f.name, path=f))
        if unknown:
            raise SchemaError(f"{path}: cannot tell which table these files hold: "
                              + "; ".join(_unknown_file(u) for u in unknown),
                              hint="name each file after its table, or give --mapping with `files:` for them")
        return _ordered(sources)
    if table is not None:
        return [Source(table_spec(table).name, path.name, path=path)]
    name = _table_for(path.stem, mapping)
    if name is None:
        raise SchemaError(f"cannot tell which table {_unknown_file(path.name)}",
                          hint="pass --table TABLE, or name the file after its table (e.g. accounts.csv)")
    return [Source(name, path.name, path=path)]


def _table_for(stem: str, mapping: MappingSpec | None) -> str | None:
    key = normalise_name(stem)
    if key in TABLES:
        return key
    return mapping.table_for_file(stem) if mapping else None


def _unknown_file(name: str) -> str:
    close = get_close_matches(normalise_name(Path(name).stem), TABLES, n=1, cutoff=0.5)
    return f"'{name}'" + (f" (did you mean {close[0]}?)" if close else "")


def _ordered(sources: list[Source]) -> list[Source]:
    order = {name: i for i, name in enumerate(TABLES)}
    return sorted(sources, key=lambda s: order[s.table])


def _session(wh: Warehouse):
    if wh.is_duckdb:
        from retain.ingest.session import DuckDBSession

        return DuckDBSession(wh)
    from retain.ingest.remote import RemoteSession

    return RemoteSession(wh)


def _utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)


def _run(wh: Warehouse, sources: list[Source], mapping: MappingSpec | None, now: dt.datetime | None,
         strict: bool, progress: Progress | None) -> IngestReport:
    load_now = _utc(now)
    report = IngestReport(load_id=uuid.uuid4().hex[:12])
    errors: list[pd.DataFrame] = []
    session = _session(wh)
    total = 3 * len(sources)
    step = 0

    def tick(message: str) -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(step, total, message)

    try:
        session.begin([table_spec(s.table) for s in sources])
        for i, src in enumerate(sources):
            result, derived, found = _load_one(session, src, i, mapping, load_now, report.load_id, tick)
            report.results.append(result)
            report.derived.extend(derived)
            if found is not None:
                errors.append(found)
        if strict and report.quarantined:
            session.rollback()
            report.committed = False
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    if errors:
        report.errors = pd.concat(errors, ignore_index=True).head(MAX_REPORTED_ERRORS)[ERROR_COLUMNS]
    return report


def _load_one(session, src: Source, i: int, mapping: MappingSpec | None, now: dt.datetime, load_id: str,
              tick: Callable[[str], None]) -> tuple[LoadResult, list[LoadResult], pd.DataFrame | None]:
    con = session.con
    spec: Table = table_spec(src.table)
    prefix = f"_ri_{i}"
    started = dt.datetime.now(dt.UTC)
    tick(f"reading {src.label}")
    con.execute("SET preserve_insertion_order = true")  # staged row order = the file's row order
    if src.path is not None:
        staged = stage_file(con, src.path, f"{prefix}_stage")
    else:
        staged = stage_frame(con, src.frame, f"{prefix}_stage", src.label)
    con.execute("SET preserve_insertion_order = false")  # rows carry their number from here on
    plan = plan_columns(spec, staged.columns, src.label, mapping.for_table(spec.name) if mapping else None)
    tick(f"validating {src.label}")
    typed = engine.build_typed(con, plan, staged, now, prefix)
    read = staged.rows
    drop_staged(con, staged)  # typed rows keep the source JSON of rows with problems
    err = engine.find_errors(con, spec, typed, prefix)
    bad = engine.count_bad(con, err)
    found = None
    if bad:
        found = engine.first_errors(con, spec.name, src.label, err)
    if bad or src.path is not None:
        engine.quarantine(con, load_id, spec, src.label, typed, err, started, replace_file=src.path is not None,
                          any_bad=bad > 0)
    tick(f"writing {src.label}")
    derived: list[LoadResult] = []
    delta = engine.upsert(con, spec, typed, err if bad else None, prefix,
                          keep_rows=spec.input_only or session.keep_rows)
    session.drop(typed, err)
    session.written(spec, delta)
    if spec.name == "product_events":
        derived.append(_roll_up(session, delta, prefix, src.label))
    result = engine.result(spec.name, src.label, read, bad, delta)
    for done in (result, *derived):
        con.execute(record_load_sql(load_id, done, started, dt.datetime.now(dt.UTC)))
    session.drop(*delta.temp_tables)
    return result, derived, found


def _roll_up(session, delta: engine.Delta, prefix: str, label: str) -> LoadResult:
    con = session.con
    rolled = engine.rollup_events(con, delta, prefix)
    n = con.execute(f'SELECT count(*) FROM "{rolled}"').fetchone()[0]
    usage = TABLES["usage"]
    udelta = engine.upsert(con, usage, rolled, None, f"{prefix}_usage", keep_rows=session.keep_rows)
    session.written(usage, udelta)
    session.drop(rolled, *udelta.temp_tables)
    return LoadResult("usage", f"rollup of {label}", n, n, 0, udelta.inserted, udelta.updated)
