"""Loading one source (a file, a frame or a mapping's query) into its table, inside a load's session.

Steps, all in DuckDB SQL: stage, match columns (and fill what Retain may fill: :mod:`retain.ingest.defaults`),
type and check every row, add the checks across rows and sources (:mod:`retain.ingest.checks`), quarantine,
report what would be overwritten (or keep it, with ``merge``), upsert, and derive what the table implies
(products from subscriptions, usage from product events).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from retain.ingest import checks, defaults, engine
from retain.ingest.columns import ColumnPlan, plan_columns
from retain.ingest.ledger import record_load_sql
from retain.ingest.mapping import MappingSpec, Overlap
from retain.ingest.queries import QueryEngine
from retain.ingest.report import LoadResult, Note, NoteKind
from retain.ingest.sources import Staged, drop_staged, q, stage_file, stage_frame
from retain.schema import TABLES, Table
from retain.schema import table as table_spec

SAMPLE_ROWS = 3


@dataclass(frozen=True)
class Source:
    table: str
    label: str
    path: Path | None = None
    frame: Any = None
    query: str | None = None  # SQL over the mapping's sources

    @property
    def stable_rows(self) -> bool:
        """Row numbers identify rows across loads (a file's, not a query's or a frame's)."""
        return self.path is not None


@dataclass
class LoadContext:
    session: Any
    mapping: MappingSpec | None
    now: dt.datetime
    load_id: str
    sources: list[Source]
    queries: QueryEngine | None = None
    merge: bool = False
    dry_run: bool = False
    notes: list[Note] = field(default_factory=list)
    samples: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def con(self):
        return self.session.con

    def note(self, src: Source, kind: NoteKind, message: str, examples: list[str] | tuple[str, ...] = ()) -> None:
        self.notes.append(Note(src.table, src.label, kind, message, tuple(str(e) for e in examples)))


def stage(ctx: LoadContext, src: Source, name: str) -> Staged:
    if src.query is not None:
        return ctx.queries.stage(ctx.con, src.query, name, src.label)
    if src.path is not None:
        return stage_file(ctx.con, src.path, name)
    return stage_frame(ctx.con, src.frame, name, src.label)


def plan(ctx: LoadContext, src: Source, staged: Staged, first_seen: str | None = None) -> ColumnPlan:
    spec = table_spec(src.table)
    entry = ctx.mapping.entry(spec.name) if ctx.mapping else None
    maps = ctx.mapping.for_table(spec.name) if ctx.mapping else None
    found = plan_columns(spec, staged.columns, src.label, maps, defaults.absent_ok(spec))
    found = defaults.complete(found, staged, src.label, natural_key=entry.natural_key if entry else [],
                              row_order_stable=src.stable_rows, first_seen=first_seen)
    if entry is not None and entry.scale:
        found = replace(found, scale={str(k): v for k, v in entry.scale.items()}, rescale=entry.rescale)
    return found


def load_one(ctx: LoadContext, i: int, tick: Callable[[str], None]
             ) -> tuple[LoadResult, list[LoadResult], pd.DataFrame | None]:
    src = ctx.sources[i]
    con = ctx.con
    spec: Table = table_spec(src.table)
    prefix = f"_ri_{i}"
    started = dt.datetime.now(dt.UTC)
    tick(f"reading {src.label}")
    con.execute("SET preserve_insertion_order = true")  # staged row order = the file's row order
    staged = stage(ctx, src, f"{prefix}_stage")
    con.execute("SET preserve_insertion_order = false")  # rows carry their number from here on
    col_plan = plan(ctx, src, staged)
    first_seen = None
    if spec.name == "accounts" and "created_at" in col_plan.absent:
        first_seen = _first_seen(ctx, i, prefix)
        col_plan = plan(ctx, src, staged, first_seen)
    _note_generated(ctx, src, col_plan)
    tick(f"validating {src.label}")
    typed = engine.build_typed(con, col_plan, staged, ctx.now, prefix)
    read = staged.rows
    drop_staged(con, staged)  # typed rows keep the source JSON of rows with problems
    derived = _derive_products(ctx, src, typed, prefix, started)
    err = engine.find_errors(con, spec, typed, prefix, _extra_checks(ctx, src, spec, typed, i))
    bad = engine.count_bad(con, err)
    found = engine.first_errors(con, spec.name, src.label, err) if bad else None
    if bad or src.path is not None or src.query is not None:
        engine.quarantine(con, ctx.load_id, spec, src.label, typed, err, started,
                          replace_file=src.path is not None or src.query is not None, any_bad=bad > 0)
    if first_seen is not None:
        _note_created_at(ctx, src, typed, err)
    _overwrites(ctx, src, spec, col_plan, typed, err if bad else None)
    if ctx.dry_run:
        ctx.samples[src.label] = _sample(ctx, spec, typed, err if bad else None)
    tick(f"writing {src.label}")
    delta = engine.upsert(con, spec, typed, err if bad else None, prefix,
                          keep_rows=spec.input_only or ctx.session.keep_rows)
    if any(s.table == spec.name for s in ctx.sources[i + 1:]):
        checks.record_keys(con, spec, typed, err if bad else None, src.label)
    ctx.session.drop(typed, err)
    ctx.session.written(spec, delta)
    if spec.name == "product_events":
        derived.append(_roll_up(ctx.session, delta, prefix, src.label))
    result = engine.result(spec.name, src.label, read, bad, delta)
    for done in (result, *derived):
        con.execute(record_load_sql(ctx.load_id, done, started, dt.datetime.now(dt.UTC)))
    ctx.session.drop(*delta.temp_tables)
    if first_seen is not None:
        ctx.session.drop(first_seen)
    return result, derived, found


def _extra_checks(ctx: LoadContext, src: Source, spec: Table, typed: str, i: int) -> list[str]:
    extra = []
    if spec.name == "subscriptions":
        entry = ctx.mapping.entry("subscriptions") if ctx.mapping else None
        mode = entry.overlap if entry is not None and entry.overlap else Overlap.QUARANTINE
        n, examples = checks.overlaps(ctx.con, typed)
        if n and mode is Overlap.QUARANTINE:
            extra.append(checks.overlap_errors_sql(typed))
            ctx.note(src, NoteKind.OVERLAP, f"{n:,} subscription row(s) overlap an earlier period of the same account "
                                            "and product: quarantined (declare overlap: separate_licences in the "
                                            "mapping if they are separate licences)", examples)
        elif n:
            ctx.note(src, NoteKind.OVERLAP, f"{n:,} subscription row(s) overlap an earlier period of the same account "
                                            "and product: loaded as separate licences (summed)", examples)
    if any(s.table == spec.name for s in ctx.sources[:i]):
        extra.append(checks.conflict_errors_sql(spec, typed))
    return extra


def _note_generated(ctx: LoadContext, src: Source, col_plan: ColumnPlan) -> None:
    if "name" in col_plan.fallbacks:
        ctx.note(src, NoteKind.DERIVED, "name is absent: each account's name is its id")
    key = defaults.generated_key(col_plan.table)
    if key is None or key not in col_plan.generated:
        return
    entry = ctx.mapping.entry(src.table) if ctx.mapping else None
    if entry is not None and entry.natural_key:
        how = f"from the natural key ({', '.join(entry.natural_key)})"
    elif src.stable_rows:
        how = f"from the file name and row number ({src.label}:1, ...)"
    else:
        how = "from each row's values and its occurrence among identical rows"
    ctx.note(src, NoteKind.GENERATED_KEY, f"{key} is absent: generated {how}")


def _first_seen(ctx: LoadContext, i: int, prefix: str) -> str:
    """A temp table: each account's first subscription start or transaction, stored or in this load's sources."""
    con = ctx.con
    name = f"{prefix}_first_seen"
    parts = [f"SELECT account_id, CAST({col} AS TIMESTAMPTZ) AS seen_at FROM {q(table)}"
             for table, col in defaults.FIRST_SEEN.items()]
    raw = f"{name}_raw"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {q(raw)} AS {' UNION ALL '.join(parts)}")
    for j, src in enumerate(ctx.sources):
        if j <= i or src.table not in defaults.FIRST_SEEN:
            continue
        look = f"{prefix}_look{j}"
        con.execute("SET preserve_insertion_order = true")
        staged = stage(ctx, src, f"{look}_stage")
        con.execute("SET preserve_insertion_order = false")
        typed = engine.build_typed(con, plan(ctx, src, staged), staged, ctx.now, look)
        drop_staged(con, staged)
        col = defaults.FIRST_SEEN[src.table]
        con.execute(f"INSERT INTO {q(raw)} SELECT account_id, CAST({q(col)} AS TIMESTAMPTZ) FROM {q(typed)} "
                    f"WHERE __errs IS NULL")
        ctx.session.drop(typed)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {q(name)} AS SELECT account_id AS __fs_account, "
                f"min(seen_at) AS first_at FROM {q(raw)} WHERE account_id IS NOT NULL AND seen_at IS NOT NULL "
                f"GROUP BY account_id")
    ctx.session.drop(raw)
    return name


def _note_created_at(ctx: LoadContext, src: Source, typed: str, err: str) -> None:
    derived, missing = ctx.con.execute(
        f"SELECT count_if(created_at IS NOT NULL), count_if(created_at IS NULL) FROM {q(typed)}").fetchone()
    message = (f"created_at is absent: derived for {derived:,} account(s) from their first subscription or "
               f"transaction")
    if missing:
        message += f"; {missing:,} account(s) had neither and were quarantined (created_at: required value is missing)"
    ctx.note(src, NoteKind.DERIVED, message)


def _overwrites(ctx: LoadContext, src: Source, spec: Table, col_plan: ColumnPlan, typed: str, err: str | None) -> None:
    columns = checks.absent_columns(spec, col_plan.absent, bool(col_plan.extras or col_plan.attributes_source))
    lost = checks.overwrites(ctx.con, spec, typed, err, columns)
    if not lost:
        return
    per_column = ", ".join(f"{c} ({n:,} row{'s' if n > 1 else ''})" for c, n in lost.items())
    if ctx.merge:
        checks.keep_stored(ctx.con, spec, typed, list(lost))
        ctx.note(src, NoteKind.MERGED, f"columns absent from {src.label} kept their stored values (--merge): "
                                       f"{per_column}")
    else:
        ctx.note(src, NoteKind.OVERWRITE, f"stored values replaced by defaults because these columns are absent from "
                                          f"{src.label}: {per_column}; use --merge to keep the stored values")


def _derive_products(ctx: LoadContext, src: Source, typed: str, prefix: str, started: dt.datetime) -> list[LoadResult]:
    """Products named by subscriptions or transactions, when this load brings no products table (name = id)."""
    if src.table not in ("subscriptions", "transactions") or any(s.table == "products" for s in ctx.sources):
        return []
    rows, examples = checks.derive_products(ctx.con, typed, f"{prefix}_products")
    products = TABLES["products"]
    delta = engine.upsert(ctx.con, products, rows, None, f"{prefix}_p", keep_rows=ctx.session.keep_rows)
    ctx.session.written(products, delta)
    ctx.session.drop(rows, *delta.temp_tables)
    if delta.inserted:
        ctx.note(src, NoteKind.DERIVED, f"{delta.inserted:,} product(s) derived from the product ids in {src.label} "
                                        "(name = id; load a products file to name them)", examples)
    label = f"derived from {src.label}"
    return [LoadResult("products", label, delta.inserted, delta.inserted, 0, delta.inserted, 0)] if delta.inserted \
        else []


def _sample(ctx: LoadContext, spec: Table, typed: str, err: str | None) -> pd.DataFrame:
    cols = ", ".join(q(c) for c in spec.stored_names)
    valid = f" WHERE NOT EXISTS (SELECT 1 FROM {q(err)} e WHERE e.__row = t.__row)" if err else ""
    return ctx.con.execute(f"SELECT {cols} FROM {q(typed)} t{valid} ORDER BY __row LIMIT {SAMPLE_ROWS}").df()


def _roll_up(session, delta: engine.Delta, prefix: str, label: str) -> LoadResult:
    con = session.con
    rolled = engine.rollup_events(con, delta, prefix)
    n = con.execute(f'SELECT count(*) FROM "{rolled}"').fetchone()[0]
    usage = TABLES["usage"]
    udelta = engine.upsert(con, usage, rolled, None, f"{prefix}_usage", keep_rows=session.keep_rows)
    session.written(usage, udelta)
    session.drop(rolled, *udelta.temp_tables)
    return LoadResult("usage", f"rollup of {label}", n, n, 0, udelta.inserted, udelta.updated)
