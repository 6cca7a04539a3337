"""Loading one staged source into one table, all in DuckDB SQL: validate, quarantine, upsert.

The engine is a DuckDB connection on which every canonical table the load touches is visible by its name: the
warehouse's own connection for a DuckDB warehouse, or an in-process DuckDB holding copies for other backends
(:mod:`retain.ingest.remote`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from retain.ingest.columns import ColumnPlan
from retain.ingest.report import ERROR_COLUMNS, MAX_REPORTED_ERRORS, LoadResult
from retain.ingest.rules import typed_select
from retain.ingest.sources import Staged, lit, q
from retain.schema import TABLES, Table


def build_typed(con: duckdb.DuckDBPyConnection, plan: ColumnPlan, staged: Staged, now: dt.datetime,
                prefix: str) -> str:
    """Create ``{prefix}_typed``: typed rows with their own problems (and source JSON when they have some)."""
    typed = f"{prefix}_typed"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {q(typed)} AS {typed_select(plan, staged, now)}")
    return typed


def find_errors(con: duckdb.DuckDBPyConnection, table: Table, typed: str, prefix: str,
                extra: list[str] | None = None) -> str:
    """Create ``{prefix}_err``: one row per problem, adding repeated keys and unresolved references.

    ``extra`` are more SQL queries giving ``__row, column_name, reason`` (overlaps, conflicts across files)."""
    err = f"{prefix}_err"
    parts = [f"SELECT __row, e.column_name, e.reason FROM (SELECT __row, unnest(__errs) AS e FROM {q(typed)} "
             f"WHERE __errs IS NOT NULL)"]
    parts.append(_duplicates_sql(table, typed))
    parts += _references_sql(table, typed)
    parts += extra or []
    con.execute(f"CREATE OR REPLACE TEMP TABLE {q(err)} AS " + " UNION ALL ".join(f"({p})" for p in parts))
    return err


def _duplicates_sql(table: Table, typed: str) -> str:
    """Rows whose key repeats an earlier row. Keys are grouped by a 64-bit hash first (cheap, usually no
    repeats at all); only rows sharing a hash are grouped by their real key."""
    keys = [q(k) for k in table.key]
    on = " AND ".join(f"t.{k} = d.{k}" for k in keys)
    label = ", ".join(table.key)
    shown = " || ', ' || ".join(f"{lit(k + '=')} || CAST(t.{q(k)} AS VARCHAR)" for k in table.key)
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    hashed = f"hash({', '.join(keys)})"
    candidates = (f"SELECT {hashed} AS h FROM {q(typed)} WHERE {not_null} GROUP BY ALL HAVING count(*) > 1")
    repeats = (f"SELECT {', '.join(keys)}, min(__row) AS __first FROM {q(typed)} WHERE {not_null} "
               f"AND {hashed} IN ({candidates}) GROUP BY ALL HAVING count(*) > 1")
    return (
        f"SELECT t.__row, {lit(label)} AS column_name, "
        f"printf('duplicate key (%s): the same key is first at row %d', {shown}, d.__first) AS reason "
        f"FROM {q(typed)} t JOIN ({repeats}) d ON {on} WHERE t.__row > d.__first"
    )


def _references_sql(table: Table, typed: str) -> list[str]:
    out = []
    for col in table.columns:
        if not col.references:
            continue
        ref_table, ref_col = col.references.split(".")
        c = q(col.name)
        where = f"t.{c} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {q(ref_table)} x WHERE x.{q(ref_col)} = t.{c})"
        also = ""
        if ref_table == table.name:  # self-reference: rows of the same load count too
            where += (f" AND NOT EXISTS (SELECT 1 FROM {q(typed)} v WHERE v.{q(ref_col)} = t.{c} "
                      f"AND v.__errs IS NULL)")
            also = " nor in this file"
        reason = f"printf('''%s'' not found in {ref_table}.{ref_col}{also}', left(t.{c}, 60))"
        out.append(f"SELECT t.__row, {lit(col.name)} AS column_name, {reason} AS reason FROM {q(typed)} t "
                   f"WHERE {where}")
    return out


def count_bad(con: duckdb.DuckDBPyConnection, err: str) -> int:
    """Rows with at least one problem."""
    return int(con.execute(f"SELECT count(DISTINCT __row) FROM {q(err)}").fetchone()[0])


def first_errors(con: duckdb.DuckDBPyConnection, table: str, source: str, err: str,
                 limit: int = MAX_REPORTED_ERRORS) -> pd.DataFrame:
    frame = con.execute(
        f"SELECT {lit(table)} AS table_name, {lit(source)} AS file, __row AS row_number, column_name, reason "
        f"FROM {q(err)} ORDER BY __row, column_name LIMIT {int(limit)}"
    ).df()
    return frame[ERROR_COLUMNS]


def quarantine(con: duckdb.DuckDBPyConnection, load_id: str, table: Table, source: str, typed: str, err: str,
               at: dt.datetime, quarantine_table: str = "quarantine", *, replace_file: bool = False,
               any_bad: bool = True) -> None:
    """Write every problem with the row it came from (as JSON) to the quarantine table.

    The row is the source row; for a row whose only problem is a repeated key or a missing reference it is
    the typed row (the source is gone by then). With ``replace_file`` the problems an earlier load of the same
    file (same table and file name) left are replaced: the quarantine shows each file's latest state, so
    re-ingesting a file changes nothing.
    """
    if replace_file:
        con.execute(f"DELETE FROM {q(quarantine_table)} WHERE table_name = {lit(table.name)} "
                    f"AND file = {lit(source)}")
    if not any_bad:
        return
    typed_json = "CAST(json_object(" + ", ".join(f"{lit(c)}, t.{q(c)}" for c in table.stored_names) + ") AS VARCHAR)"
    con.execute(
        f"INSERT INTO {q(quarantine_table)} BY NAME "
        f"SELECT {lit(load_id)} AS load_id, {lit(table.name)} AS table_name, {lit(source)} AS file, "
        f"e.__row AS row_number, e.column_name, e.reason, COALESCE(t.__raw, {typed_json}) AS raw_row, "
        f"TIMESTAMPTZ {lit(at.isoformat())} AS quarantined_at "
        f"FROM {q(err)} e JOIN {q(typed)} t USING (__row)"
    )


@dataclass(frozen=True)
class Delta:
    """What an upsert changed in one table.

    ``changed`` holds the new versions of rows whose key existed with other values, ``replaced`` their old
    versions, and ``new`` the rows with new keys (only materialised when asked: the DuckDB path inserts them
    straight from the validated rows).
    """

    table: str
    changed: str
    new: str | None
    replaced: str | None
    inserted: int
    updated: int

    @property
    def temp_tables(self) -> list[str]:
        return [t for t in (self.changed, self.new, self.replaced) if t]


def upsert(con: duckdb.DuckDBPyConnection, table: Table, typed: str, err: str | None, prefix: str,
           *, keep_rows: bool = False) -> Delta:
    """Replace changed rows and add new ones by key; identical rows are left alone (idempotent re-ingest).

    ``keep_rows`` materialises the new rows and the old versions of replaced rows (for the product-event
    rollup and for copying the change to a non-DuckDB warehouse).
    """
    cols = table.stored_names
    select = ", ".join(f"n.{q(c)}" for c in cols)
    on = " AND ".join(f"n.{q(k)} = o.{q(k)}" for k in table.key)
    differs = " OR ".join(f"n.{q(c)} IS DISTINCT FROM o.{q(c)}" for c in cols)
    valid = f"(SELECT * FROM {q(typed)} t"
    valid += f" WHERE NOT EXISTS (SELECT 1 FROM {q(err)} e WHERE e.__row = t.__row))" if err else ")"
    target = q(table.name)
    changed, new, replaced = f"{prefix}_changed", None, None
    empty = con.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {target})").fetchone()[0]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {q(changed)} AS SELECT {select} FROM {valid} n "
                f"JOIN {target} o ON {on} WHERE {differs}" + (" AND false" if empty else ""))
    updated = con.execute(f"SELECT count(*) FROM {q(changed)}").fetchone()[0]
    fresh = f"SELECT {select} FROM {valid} n"
    if not empty:  # a first load into an empty table skips the key lookups
        fresh += f" WHERE NOT EXISTS (SELECT 1 FROM {target} o WHERE {on})"
    if keep_rows:
        new, replaced = f"{prefix}_new", f"{prefix}_replaced"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {q(new)} AS {fresh}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {q(replaced)} AS SELECT o.* FROM {target} o "
                    f"JOIN {q(changed)} n ON {on}")
        inserted = con.execute(f"INSERT INTO {target} ({', '.join(q(c) for c in cols)}) "
                               f"SELECT * FROM {q(new)}").fetchone()[0]
    else:
        inserted = con.execute(f"INSERT INTO {target} ({', '.join(q(c) for c in cols)}) {fresh}").fetchone()[0]
    if updated:
        replace_rows(con, table, changed)
    return Delta(table.name, changed, new, replaced, int(inserted), int(updated))


def replace_rows(con: duckdb.DuckDBPyConnection, table: Table, rows: str) -> None:
    """Delete the rows of ``table`` whose keys are in ``rows`` and insert ``rows`` instead."""
    cols = ", ".join(q(c) for c in table.stored_names)
    on = " AND ".join(f"{q(table.name)}.{q(k)} = d.{q(k)}" for k in table.key)
    con.execute(f"DELETE FROM {q(table.name)} USING {q(rows)} d WHERE {on}")
    con.execute(f"INSERT INTO {q(table.name)} ({cols}) SELECT {cols} FROM {q(rows)}")


def rollup_events(con: duckdb.DuckDBPyConnection, delta: Delta, prefix: str) -> str:
    """Usage rows rebuilt from stored product events for every (account, day, event type) the load touched."""
    usage = TABLES["usage"]
    keys = f"{prefix}_rollup_keys"
    touched = [f"SELECT account_id, CAST(occurred_at AS DATE) AS usage_on, event_type AS feature FROM {q(t)}"
               for t in delta.temp_tables]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {q(keys)} AS SELECT DISTINCT * FROM ({' UNION ALL '.join(touched)})")
    rolled = f"{prefix}_rollup"
    extra = [c.name for c in usage.columns if c.name not in {"account_id", "usage_on", "feature", "active_users",
                                                              "events"}]
    nulls = "".join(f", CAST(NULL AS {usage.column(c).dtype.sql}) AS {q(c)}" for c in extra)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(rolled)} AS SELECT e.account_id, CAST(e.occurred_at AS DATE) AS usage_on, "
        f"e.event_type AS feature, count(DISTINCT e.user_id) AS active_users, CAST(sum(e.value) AS DOUBLE) AS events"
        f"{nulls}, NULL::VARCHAR AS attributes "
        f"FROM product_events e JOIN {q(keys)} k ON e.account_id = k.account_id "
        f"AND CAST(e.occurred_at AS DATE) = k.usage_on AND e.event_type = k.feature GROUP BY ALL"
    )
    con.execute(f"DROP TABLE {q(keys)}")
    return rolled


def result(table: str, source: str, read: int, quarantined: int, delta: Delta | None) -> LoadResult:
    return LoadResult(table, source, read, read - quarantined, quarantined,
                      delta.inserted if delta else 0, delta.updated if delta else 0)
