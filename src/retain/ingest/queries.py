"""Transforms in the mapping: a canonical table defined as a DuckDB SQL query over named export files.

The queries run in their own in-memory DuckDB (:class:`QueryEngine`), where each source of the mapping is a view
over its file, so a source may be called anything (even ``accounts``) without hiding a warehouse table. Before
anything is written, every query's output is described (not run) and checked against its canonical table:
missing required columns (with the closest output column), and types that cannot become the column's type. Each
result then streams (Arrow batches) into the load's engine as a staged source and follows the normal path:
typing, checks, quarantine, upsert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

import duckdb

from retain.errors import IngestError, SchemaError
from retain.ingest.columns import normalise_name
from retain.ingest.defaults import absent_ok
from retain.ingest.mapping import MappingSpec
from retain.ingest.sources import Staged, _check_encoding, _describe, _head, file_format, lit, q
from retain.schema import TABLES, DType, Table

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
             "UHUGEINT"}
_NUMBERS = _INTEGERS | {"FLOAT", "DOUBLE", "REAL", "DECIMAL"}
_TIMES = {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}
_ACCEPTS: dict[DType, set[str]] = {
    DType.INT: _NUMBERS, DType.FLOAT: _NUMBERS, DType.BOOL: {"BOOLEAN"} | _INTEGERS,
    DType.DATE: _TIMES, DType.TIMESTAMP: _TIMES,
}
_EXAMPLE = {DType.INT: "CAST(x AS BIGINT)", DType.FLOAT: "CAST(x AS DOUBLE)", DType.BOOL: "x = 'Yes'",
            DType.DATE: "CAST(x AS DATE)", DType.TIMESTAMP: "CAST(x AS TIMESTAMP)", DType.STRING: "CAST(x AS VARCHAR)",
            DType.JSON: "to_json(x)"}
_NOT_FOUND = re.compile(r'column "?([^"\s]+)"? not found', re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One problem of a mapping's query: ``key`` is where in the mapping (``tables.accounts.query``)."""

    key: str
    message: str
    hint: str


def resolve_sources(spec: MappingSpec, where: str, bases: list[Path], *, required: bool = True) -> dict[str, Path]:
    """Source name -> file, looked up in each base folder in turn; an :class:`IngestError` for a missing one."""
    found: dict[str, Path] = {}
    for name, written in spec.source_files().items():
        candidates = [Path(written)] if Path(written).is_absolute() else [b / written for b in bases]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            if required:
                looked = " or ".join(str(c.parent) for c in candidates)
                raise IngestError(f"{where}: sources.{name}: file '{written}' not found (looked in {looked})",
                                  hint="give the path relative to the ingested folder or to the mapping file")
            continue
        found[name] = hit
    return found


class QueryEngine:
    """An in-memory DuckDB where each source of a mapping is a view over its file."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.columns: dict[str, list[str]] = {}
        for name, path in files.items():
            self.con.execute(f"CREATE VIEW {q(name)} AS SELECT * FROM {_reader(path)}")
            try:
                self.columns[name] = [r[0] for r in self.con.execute(f"DESCRIBE {q(name)}").fetchall()]
            except duckdb.Error as exc:
                first = str(exc).split("\n")[0]
                hint = "check the file (a CSV with a header row, Parquet, JSON or JSON lines)"
                raise IngestError(f"{path.name}: cannot be read: {first}", hint=hint) from None

    def close(self) -> None:
        self.con.close()

    def describe(self, sql: str) -> list[tuple[str, str]]:
        rows = self.con.execute(f"DESCRIBE SELECT * FROM ({_clean(sql)}) AS __q").fetchall()
        return [(r[0], r[1]) for r in rows]

    def stage(self, target: duckdb.DuckDBPyConnection, sql: str, name: str, label: str) -> Staged:
        """Run ``sql`` and copy its rows, in order, into the temporary table ``name`` of ``target``."""
        reader = self.con.execute(f"SELECT * FROM ({_clean(sql)}) AS __q").to_arrow_reader(1 << 17)
        feed = f"{name}__feed"
        target.register(feed, reader)
        try:
            target.execute(f"CREATE OR REPLACE TEMP TABLE {q(name)} AS SELECT * FROM {q(feed)}")
        finally:
            target.unregister(feed)
        return _describe(target, name, label)


def _clean(sql: str) -> str:
    """The query without a trailing ``;`` (it is wrapped in a subquery)."""
    return sql.strip().rstrip(";").strip()


def _reader(path: Path) -> str:
    fmt = file_format(path)
    head = _head(path)
    if not head.strip():
        raise IngestError(f"{path.name}: the file is empty (no header row, no data)",
                          hint="export it again, or remove it from the mapping's sources")
    if fmt == "parquet":
        return f"read_parquet({lit(path)})"
    _check_encoding(path, head)
    if fmt == "json":
        return f"read_json_auto({lit(path)})"
    return f"read_csv({lit(path)}, header=true)"


def check_queries(engine: QueryEngine, spec: MappingSpec, where: str) -> list[Problem]:
    """Every problem of every query of ``spec``, found by describing (not running) it."""
    problems = []
    for table, sql in spec.queries().items():
        key = f"tables.{table}.query"
        try:
            columns = engine.describe(sql)
        except duckdb.Error as exc:
            problems.append(_sql_problem(key, exc, engine.columns))
            continue
        problems += check_output(TABLES[table], columns, key, spec.tables[table].natural_key)
    return problems


def raise_problems(where: str, problems: list[Problem]) -> None:
    if problems:
        raise SchemaError(f"{where}: " + "; ".join(f"{p.key}: {p.message}" for p in problems), hint=problems[0].hint)


def check_output(table: Table, columns: list[tuple[str, str]], key: str,
                 natural_key: list[str] | tuple[str, ...] = ()) -> list[Problem]:
    """Problems of a query's output (name, DuckDB type) for ``table``: missing or untypable columns."""
    problems = []
    by_norm: dict[str, tuple[str, str]] = {}
    for name, sql_type in columns:
        norm = normalise_name(name)
        if norm in by_norm:
            problems.append(Problem(key, f"output columns '{by_norm[norm][0]}' and '{name}' have the same name",
                                    "give each output column its own alias (AS ...)"))
        by_norm[norm] = (name, sql_type)
    fillable = absent_ok(table)
    for col in table.columns:
        if col.name in by_norm or not col.required or col.default is not None or col.name in fillable:
            continue
        close = get_close_matches(col.name, list(by_norm), n=1, cutoff=0.5)
        near = f"; closest output column: '{by_norm[close[0]][0]}'" if close else ""
        problems.append(Problem(key, f"no output column '{col.name}' (required by {table.name}){near}",
                                f"add `... AS {col.name}` to the SELECT of the query"))
    for column in natural_key:
        if column not in by_norm:
            problems.append(Problem(key, f"natural_key column '{column}' is not an output column",
                                    f"add `... AS {column}` to the SELECT, or fix natural_key"))
    for norm, (name, sql_type) in by_norm.items():
        if not table.has(norm):
            continue
        col = table.column(norm)
        if not _castable(sql_type, col.dtype, bool(col.enum)):
            expected = "text" if col.enum else col.dtype.value
            problems.append(Problem(key, f"column '{name}' is {sql_type}, which cannot become {col.name} "
                                         f"({expected})",
                                    f"convert it in the query, e.g. {_EXAMPLE[col.dtype]} AS {col.name}"))
    return problems


def _castable(sql_type: str, dtype: DType, enum: bool) -> bool:
    base = sql_type.upper().split("(")[0].strip()
    if base == "VARCHAR" or base == "NULL" or base.startswith("ENUM"):
        return True
    if enum:
        return False
    if dtype in (DType.STRING, DType.JSON):
        return True
    return base in _ACCEPTS[dtype]


def _sql_problem(key: str, exc: duckdb.Error, source_columns: dict[str, list[str]]) -> Problem:
    text = str(exc).split("\n")[0].strip()
    for prefix in ("Binder Error: ", "Parser Error: ", "Catalog Error: ", "Conversion Error: "):
        text = text.replace(prefix, "")
    hit = _NOT_FOUND.search(text)
    if hit:
        known = {c: s for s, cols in source_columns.items() for c in cols}
        close = get_close_matches(hit.group(1), list(known), n=1, cutoff=0.5)
        if close:
            text += f" (closest source column: '{close[0]}' of {known[close[0]]})"
    names = ", ".join(source_columns) or "none"
    return Problem(key, text, f"fix the SQL (DuckDB) in the mapping; the sources it can read: {names}")


def check_offline(spec: MappingSpec) -> list[Problem]:
    """What can be checked without the files: SQL syntax, source names, and named output columns."""
    import sqlglot
    from sqlglot import exp

    problems = []
    parser = duckdb.connect()
    try:
        for table, sql in spec.queries().items():
            key = f"tables.{table}.query"
            try:
                statements = parser.extract_statements(sql)
            except duckdb.Error as exc:
                problems.append(_sql_problem(key, exc, {}))
                continue
            if len(statements) != 1:
                problems.append(Problem(key, f"holds {len(statements)} statements; give one SELECT",
                                        "remove the extra statements (a ';' ends one)"))
                continue
            try:
                tree = sqlglot.parse_one(sql, read="duckdb")
            except sqlglot.errors.ParseError:
                continue  # DuckDB accepts it; nothing more to say without the files
            ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
            for name in sorted({t.name for t in tree.find_all(exp.Table) if t.name} - ctes - set(spec.sources)):
                close = get_close_matches(name, list(spec.sources), n=1)
                problems.append(Problem(key, f"reads '{name}', which is not a source of the mapping"
                                        + (f" (did you mean '{close[0]}'?)" if close else ""),
                                        "name every file a query reads under `sources:`"))
            if isinstance(tree, exp.Query) and not tree.is_star:
                named = [(n, "VARCHAR") for n in tree.named_selects]
                problems += [p for p in check_output(TABLES[table], named, key, spec.tables[table].natural_key)
                             if "no output column" in p.message or "natural_key" in p.message]
    finally:
        parser.close()
    return problems


def check_mapping_queries(spec: MappingSpec, mapping_file: Path) -> list[tuple[bool, Problem]]:
    """``retain validate``: every problem of a mapping's queries as (is a warning, problem).

    With every source file present (next to the mapping) the queries are described against the files; else
    their SQL is parsed, their sources and named output columns checked, and the absent files are warnings."""
    if not spec.queries():
        return []
    where = str(mapping_file)
    files = resolve_sources(spec, where, [mapping_file.parent], required=False)
    absent = [n for n in spec.sources if n not in files]
    if not absent:
        try:
            engine = QueryEngine(files)
        except IngestError as exc:
            return [(False, Problem("sources", exc.message, exc.hint or ""))]
        try:
            return [(False, p) for p in check_queries(engine, spec, where)]
        finally:
            engine.close()
    out = [(True, Problem(f"sources.{n}", f"file '{spec.source_files()[n]}' not found next to the mapping; "
                          "queries checked without it (syntax, sources, output columns)",
                          "validate with the files beside the mapping to check types too")) for n in absent]
    return out + [(False, p) for p in check_offline(spec)]
