"""Ingestion: files or frames in, validated rows upserted, bad rows quarantined, one atomic load.

Every step runs in DuckDB SQL (:mod:`retain.ingest.load`, :mod:`retain.ingest.engine`); this module only decides
what to load (files, frames, a mapping's queries), in which order (references first, following
:data:`retain.schema.TABLES`), and keeps the load atomic (or rolls it back: strict loads with bad rows, dry runs).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import pandas as pd

from retain.errors import IngestError, SchemaError
from retain.ingest.columns import normalise_name
from retain.ingest.load import LoadContext, Source, load_one
from retain.ingest.mapping import BUILT_IN, MappingSpec, load_mapping
from retain.ingest.queries import QueryEngine, check_queries, raise_problems, resolve_sources
from retain.ingest.report import ERROR_COLUMNS, MAX_REPORTED_ERRORS, IngestReport
from retain.ingest.sources import FORMATS
from retain.schema import TABLES
from retain.schema import table as table_spec
from retain.warehouse import Warehouse

Progress = Callable[[int, int, str], None]  # (steps done, steps in total, what is being done)


def ingest_path(wh: Warehouse, path: str | Path | None, *, table: str | None = None,
                mapping: str | Path | None = None, now: dt.datetime | None = None, progress: Progress | None = None,
                strict: bool = False, dry_run: bool = False, merge: bool = False) -> IngestReport:
    """Load a folder of files named after tables (``accounts.csv``, ``usage.parquet``...) or one file.

    ``table`` names the table of a single file whose name is not a table; ``mapping`` is a YAML file or a
    built-in mapping name (``salesforce``, ``hubspot``). A mapping's queries run over the files it names
    (relative to the folder, or to the mapping's folder; ``path`` may then be None or the mapping itself).
    With ``strict`` a single bad row writes nothing; ``dry_run`` runs the whole load and writes nothing;
    ``merge`` keeps the stored values of columns a file does not have.
    """
    spec = load_mapping(mapping)
    mapping_file = Path(mapping) if spec is not None and str(mapping) not in BUILT_IN else None
    where = str(mapping_file) if mapping_file else f"mapping '{spec.name if spec else ''}'"
    only_mapping = path is None or (mapping_file is not None and Path(path).resolve() == mapping_file.resolve())
    if only_mapping and (spec is None or not spec.queries()):
        raise IngestError("give a file or folder to ingest",
                          hint="retain ingest PATH, or --mapping M.yaml alone when its queries name their files")
    bases = [] if only_mapping else ([Path(path)] if Path(path).is_dir() else [])
    if mapping_file is not None:
        bases.append(mapping_file.parent)
    engine_q, query_sources, consumed = None, [], set()
    if spec is not None and spec.queries() and (only_mapping or Path(path).is_dir()):
        files = resolve_sources(spec, where, bases)
        consumed = {f.resolve() for f in files.values()}
        engine_q = QueryEngine(files)
        try:
            raise_problems(where, check_queries(engine_q, spec, where))
        except BaseException:
            engine_q.close()
            raise
        name = mapping_file.name if mapping_file else spec.name
        query_sources = [Source(t, f"{name}/{t}", query=sql) for t, sql in spec.queries().items()]
    try:
        sources = [] if only_mapping else discover(Path(path), table, spec, consumed)
        return _run(wh, _ordered(sources + query_sources), spec, now, strict, progress, queries=engine_q,
                    dry_run=dry_run, merge=merge)
    finally:
        if engine_q is not None:
            engine_q.close()


def ingest_frames(wh: Warehouse, frames: Mapping[str, Any], *, source: str = "api", strict: bool = False,
                  now: dt.datetime | None = None, progress: Progress | None = None,
                  mapping: str | Path | None = None, dry_run: bool = False, merge: bool = False) -> IngestReport:
    """Load in-memory tables (pandas DataFrames or Arrow tables) keyed by table name, through the same checks.

    Frames go to DuckDB through Arrow; nothing is looped over in Python, so millions of rows are fine.
    With ``strict=True`` any invalid row means nothing is written and ``report.errors`` lists every problem.
    """
    sources = [Source(table_spec(name).name, f"{source}:{name}", frame=frame) for name, frame in frames.items()]
    return _run(wh, _ordered(sources), load_mapping(mapping), now, strict, progress, dry_run=dry_run, merge=merge)


def discover(path: Path, table: str | None, mapping: MappingSpec | None,
             consumed: set[Path] | frozenset[Path] = frozenset()) -> list[Source]:
    """The files to load and their tables, in reference order (``consumed``: files a mapping's queries read)."""
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder", hint="check the path")
    if path.is_dir():
        if table is not None:
            raise IngestError("--table is for a single file, not a folder",
                              hint="name each file in the folder after its table (accounts.csv, usage.parquet...)")
        files = sorted(p for p in path.iterdir()
                       if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in FORMATS)
        if consumed:
            files = [f for f in files if f.resolve() not in consumed]
            if not files:
                return []
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
         strict: bool, progress: Progress | None, *, queries: QueryEngine | None = None, dry_run: bool = False,
         merge: bool = False) -> IngestReport:
    load_now = _utc(now)
    report = IngestReport(load_id=uuid.uuid4().hex[:12])
    errors: list[pd.DataFrame] = []
    session = _session(wh)
    ctx = LoadContext(session, mapping, load_now, report.load_id, sources, queries, merge=merge, dry_run=dry_run)
    total = 3 * len(sources)
    step = 0

    def tick(message: str) -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(step, total, message)

    try:
        session.begin([table_spec(s.table) for s in sources])
        for i in range(len(sources)):
            result, derived, found = load_one(ctx, i, tick)
            report.results.append(result)
            report.derived.extend(derived)
            if found is not None:
                errors.append(found)
        if dry_run or (strict and report.quarantined):
            session.rollback()
            report.committed = False
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    report.dry_run, report.notes, report.samples = dry_run, ctx.notes, ctx.samples
    if errors:
        report.errors = pd.concat(errors, ignore_index=True).head(MAX_REPORTED_ERRORS)[ERROR_COLUMNS]
    return report
