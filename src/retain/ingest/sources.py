"""Reading input into a DuckDB staging table: files (CSV, Parquet, JSON, JSONL) and in-memory frames.

Files are read by DuckDB itself (never row by row in Python). CSV and JSON values are staged as text, so a bad
value never stops the reader: typing and validation happen afterwards in SQL (:mod:`retain.ingest.rules`).
Rows keep their order, so a staged row's ``rowid + 1`` is its data row number in the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from retain.errors import IngestError, SchemaError

FORMATS = {
    ".csv": "csv", ".tsv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".json": "json", ".jsonl": "json", ".ndjson": "json",
}
MAX_LINE_BYTES = 32 * 1024 * 1024  # one CSV line / JSON record may be this long (a 10 MB cell is read, then judged)
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Staged:
    """A source staged in the engine as table ``name``; ``columns`` are the source's own column names."""

    name: str
    source: str
    columns: list[str]
    types: dict[str, str]
    rows: int
    first_rowid: int = 0  # rowids start high inside a transaction; row number = rowid - first_rowid + 1
    row_column: str | None = None  # a column holding the 1-based row number (views over Parquet and frames)
    kind: str = "table"  # "table" (a copy), "view" (over a Parquet file) or "registered" (an Arrow frame)

    @property
    def row_number(self) -> str:
        """SQL for the 1-based data row number of a staged row."""
        if self.row_column:
            return q(self.row_column)
        return f"(rowid - {self.first_rowid} + 1)"


ROW_COLUMN = "__retain_row"


def drop_staged(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    if staged.kind == "registered":
        con.unregister(staged.name)
    elif staged.kind == "view":
        con.execute(f"DROP VIEW IF EXISTS {q(staged.name)}")
    else:
        con.execute(f"DROP TABLE IF EXISTS {q(staged.name)}")


def q(identifier: str) -> str:
    """Quote a SQL identifier."""
    return '"' + str(identifier).replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(f"{path.name}: unsupported file type '{path.suffix}'",
                          hint="use .csv, .parquet, .json (array of objects) or .jsonl (one object per line)")
    return fmt


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> Staged:
    """Read ``path`` into the temporary table ``name``; clear errors for empty files and wrong encodings."""
    if not path.is_file():
        raise IngestError(f"{path}: file not found", hint="check the path")
    fmt = file_format(path)
    head = _head(path)
    if not head.strip():
        raise IngestError(f"{path.name}: the file is empty (no header row, no data)",
                          hint="export the table again, or remove the empty file from the folder")
    if fmt != "parquet":
        _check_encoding(path, head)
    try:
        if fmt == "csv":
            _stage_csv(con, path, name, head)
        elif fmt == "parquet":
            # no copy: Parquet is typed and numbers its rows itself
            con.execute(f"CREATE OR REPLACE TEMP VIEW {q(name)} AS SELECT * EXCLUDE (file_row_number), "
                        f"file_row_number + 1 AS {ROW_COLUMN} FROM read_parquet({lit(path)}, file_row_number=true)")
            return _describe(con, name, path.name, kind="view")
        else:
            _stage_json(con, path, name)
    except duckdb.Error as exc:
        raise _read_error(path, exc) from None
    return _describe(con, name, path.name)


def stage_frame(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame | pa.Table, name: str, source: str) -> Staged:
    """Register an in-memory frame as ``name`` through Arrow, with its row numbers (no copy, no Python loop)."""
    table = frame if isinstance(frame, pa.Table) else _arrow(frame)
    table = table.append_column(ROW_COLUMN, pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)))
    con.register(name, table)
    return _describe(con, name, source, kind="registered")


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """A pandas frame as Arrow; a column mixing types (JSON rows: 3 and "3") is staged as text."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    arrays = {}
    for name in frame.columns:
        try:
            arrays[str(name)] = pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            arrays[str(name)] = pa.array(frame[name].astype("string"), from_pandas=True)
    return pa.table(arrays)


def _describe(con: duckdb.DuckDBPyConnection, name: str, source: str, kind: str = "table") -> Staged:
    described = [r for r in con.execute(f"DESCRIBE {q(name)}").fetchall() if r[0] != ROW_COLUMN]
    columns, types = [r[0] for r in described], {r[0]: r[1] for r in described}
    if kind != "table":
        rows = con.execute(f"SELECT count(*) FROM {q(name)}").fetchone()[0]
        return Staged(name, source, columns, types, rows, row_column=ROW_COLUMN, kind=kind)
    rows, first = con.execute(f"SELECT count(*), coalesce(min(rowid), 0) FROM {q(name)}").fetchone()
    return Staged(name, source, columns, types, rows, first)


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, name: str, head: bytes) -> None:
    """CSV with the header read here and the dialect fixed (RFC 4180 quoting), every value as text.

    DuckDB's sniffer is not used: on a ragged file it may silently pick a later line as the header.
    """
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    first_line = text.splitlines()[0] if text else ""
    delim = "\t" if path.suffix.lower() == ".tsv" else max((",", ";", "\t", "|"), key=first_line.count)
    header = next(csv.reader(io.StringIO(text), delimiter=delim), [])
    header = [h.strip() for h in header]
    if not any(header):
        raise IngestError(f"{path.name}: the first line holds no column names",
                          hint="the first line of a CSV file must name its columns")
    blank = [i + 1 for i, h in enumerate(header) if not h]
    if blank:
        raise IngestError(f"{path.name}: column {blank[0]} of the header has no name",
                          hint="name every column in the first line (or delete the empty column)")
    seen = {h for h in header if header.count(h) > 1}
    if seen:
        raise SchemaError(f"{path.name}: the header names {', '.join(sorted(seen))} more than once",
                          hint="rename or remove the repeated columns")
    columns = "{" + ", ".join(f"{lit(h)}: 'VARCHAR'" for h in header) + "}"
    delim_sql = "'\t'" if delim == "\t" else lit(delim)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(name)} AS SELECT * FROM read_csv({lit(path)}, header=false, skip=1, "
        f"delim={delim_sql}, quote='\"', escape='\"', columns={columns}, auto_detect=false, strict_mode=true, "
        f"max_line_size={MAX_LINE_BYTES}, buffer_size={2 * MAX_LINE_BYTES})"
    )


def _stage_json(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> None:
    """JSON array or JSON lines, every value staged as text (nested values as JSON text)."""
    objects = f"{name}__objects"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(objects)} AS SELECT json AS j FROM read_json_objects({lit(path)}, "
        f"format='auto', maximum_object_size={MAX_LINE_BYTES})"
    )
    not_objects = con.execute(
        f"SELECT min(rowid) - (SELECT min(rowid) FROM {q(objects)}) + 1 FROM {q(objects)} "
        f"WHERE json_type(j) <> 'OBJECT'"
    ).fetchone()[0]
    if not_objects is not None:
        raise IngestError(f"{path.name}: record {not_objects} is not a JSON object",
                          hint="give an array of objects ([{...}, {...}]) or one object per line (JSON lines)")
    keys = [r[0] for r in con.execute(
        f"SELECT k FROM (SELECT rowid AS r, unnest(json_keys(j)) AS k, generate_subscripts(json_keys(j), 1) AS p "
        f"FROM {q(objects)}) GROUP BY k ORDER BY min(r), min(p)"
    ).fetchall()]
    if not keys:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {q(name)} AS SELECT * FROM {q(objects)} WHERE false")
        con.execute(f"DROP TABLE {q(objects)}")
        raise IngestError(f"{path.name}: no records with fields found", hint="check the file holds JSON objects")
    cols = ", ".join(f"json_extract_string(j, {lit(_json_path(k))}) AS {q(k)}" for k in keys)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {q(name)} AS SELECT {cols} FROM {q(objects)}")
    con.execute(f"DROP TABLE {q(objects)}")


def _json_path(key: str) -> str:
    return '$."' + key.replace('"', '\\"') + '"'


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(_SNIFF_BYTES)


def _check_encoding(path: Path, head: bytes) -> None:
    """Refuse UTF-16/32 up front (the CSV reader would misread it); other bad bytes are caught while reading."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _encoding_error(path, "UTF-16")
    trimmed = head[: len(head) - 4] if len(head) == _SNIFF_BYTES else head  # a character may straddle the cut
    try:
        trimmed.decode("utf-8")
    except UnicodeDecodeError:
        raise _encoding_error(path, _guess_encoding(head)) from None


def _guess_encoding(sample: bytes) -> str | None:
    for encoding in ("gb18030", "big5", "shift_jis", "cp1252"):
        try:
            sample.decode(encoding)
            return encoding.upper().replace("_", "-")
        except UnicodeDecodeError:
            continue
    return None


def _encoding_error(path: Path, guess: str | None) -> IngestError:
    seen = f" (it looks like {guess})" if guess else ""
    source = guess or "<its encoding>"
    return IngestError(
        f"{path.name}: the file is not UTF-8 encoded{seen}; nothing was loaded",
        hint=f"re-save it as UTF-8 (Excel: Save As > 'CSV UTF-8'; or `iconv -f {source} -t UTF-8 "
             f"{path.name} > utf8-{path.name}`)",
    )


def _read_error(path: Path, exc: duckdb.Error) -> IngestError:
    text = str(exc)
    if "unicode" in text.lower() or "utf-8" in text.lower() or "utf8" in text.lower():
        with path.open("rb") as fh:
            return _encoding_error(path, _guess_encoding(fh.read(1 << 20)))
    if "maximum line size" in text.lower() or "maximum_object_size" in text.lower():
        return IngestError(f"{path.name}: a line or record is longer than {MAX_LINE_BYTES // 2**20} MB; nothing was "
                           "loaded", hint="remove or shorten the oversized value (Retain keeps values up to 1 MB)")
    first = text.split("Possible fixes")[0].split("\n\n")[0].replace("\n", " ").strip()
    first = first.removeprefix("Invalid Input Error: ")
    if file_format(path) == "json":
        hint = "fix the JSON at the place shown (a JSON validator such as `python -m json.tool` helps)"
    elif file_format(path) == "parquet":
        hint = "export the Parquet file again; it may be truncated or not Parquet at all"
    else:
        hint = "fix the line shown (unbalanced quotes, wrong number of fields) and ingest again"
    return IngestError(f"{path.name}: cannot be read: {first}", hint=hint)
