"""Checks and derivations across rows, sources and the warehouse, in DuckDB SQL over a load's typed rows.

* overlapping subscription periods of one account and product (quarantined, or reported as separate licences);
* keys given by two sources of one load with other values (a conflict: the later row is quarantined);
* stored values a later file would overwrite with defaults because its columns are absent (reported per
  column; with ``merge`` they keep their stored values);
* products derived from the product ids seen in subscriptions or transactions (name = id);
* each account's first subscription start or transaction, to derive ``accounts.created_at``.
"""

from __future__ import annotations

import duckdb

from retain.ingest.sources import lit, q
from retain.schema import TABLES, Table

EXAMPLES = 3
_FOREVER = "DATE '9999-12-31'"


def _overlap_pairs(typed: str) -> str:
    """SQL: (new row, earlier overlapping row) pairs of subscriptions; stored rows count as earlier (row 0)."""
    cols = "subscription_id, account_id, product_id, started_on, ended_on"
    return (
        f"WITH cand AS (SELECT {cols}, __row FROM {q(typed)} WHERE __errs IS NULL UNION ALL "
        f"SELECT {', '.join('s.' + c for c in cols.split(', '))}, 0 FROM subscriptions s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {q(typed)} t WHERE t.subscription_id = s.subscription_id) "
        f"AND EXISTS (SELECT 1 FROM {q(typed)} t WHERE t.account_id = s.account_id AND t.product_id = s.product_id)) "
        f"SELECT t.__row, t.subscription_id AS sid, t.account_id, t.product_id, t.started_on, t.ended_on, "
        f"o.subscription_id AS other, o.started_on AS other_start, o.ended_on AS other_end FROM cand t JOIN cand o "
        f"ON t.account_id = o.account_id AND t.product_id = o.product_id AND t.subscription_id <> o.subscription_id "
        f"AND t.started_on < coalesce(o.ended_on, {_FOREVER}) AND o.started_on < coalesce(t.ended_on, {_FOREVER}) "
        f"AND (o.started_on < t.started_on OR (o.started_on = t.started_on AND o.__row < t.__row)) "
        f"WHERE t.__row > 0 QUALIFY row_number() OVER (PARTITION BY t.__row ORDER BY o.started_on, o.__row) = 1"
    )


def _period(start: str, end: str) -> str:
    return f"CAST({start} AS VARCHAR) || ' to ' || coalesce(CAST({end} AS VARCHAR), 'open')"


def overlap_errors_sql(typed: str) -> str:
    """Error rows (``__row, column_name, reason``) for subscriptions overlapping an earlier one."""
    reason = (f"printf('period %s overlaps subscription %s (%s) of the same account and product; if both are "
              f"licences, declare overlap: separate_licences for subscriptions in the mapping', "
              f"{_period('started_on', 'ended_on')}, other, {_period('other_start', 'other_end')})")
    return f"SELECT __row, 'started_on' AS column_name, {reason} AS reason FROM ({_overlap_pairs(typed)})"


def overlaps(con: duckdb.DuckDBPyConnection, typed: str) -> tuple[int, list[str]]:
    """How many valid new rows overlap an earlier one, with a few examples."""
    pairs = _overlap_pairs(typed)
    n = con.execute(f"SELECT count(*) FROM ({pairs})").fetchone()[0]
    shown = con.execute(
        f"SELECT printf('%s and %s (account %s, product %s)', sid, other, account_id, product_id) FROM ({pairs}) "
        f"ORDER BY __row LIMIT {EXAMPLES}").fetchall()
    return int(n), [r[0] for r in shown]


def _key_on(table: Table, a: str, b: str) -> str:
    return " AND ".join(f"{a}.{q(k)} = {b}.{q(k)}" for k in table.key)


def _differs(table: Table, a: str, b: str) -> str:
    return "(" + " OR ".join(f"{a}.{q(c)} IS DISTINCT FROM {b}.{q(c)}" for c in table.stored_names) + ")"


def keys_table(table: Table) -> str:
    return f"_ri_keys_{table.name}"


def conflict_errors_sql(table: Table, typed: str) -> str:
    """Rows whose key an earlier source of this load gave with other values (that row is already stored)."""
    shown = " || ', ' || ".join(f"{lit(k + '=')} || CAST(t.{q(k)} AS VARCHAR)" for k in table.key)
    reason = (f"printf('conflict: key (%s) is also in %s (row %d) with other values; that row is kept', "
              f"{shown}, k.__source, k.__srow)")
    return (f"SELECT t.__row, {lit(', '.join(table.key))} AS column_name, {reason} AS reason "
            f"FROM {q(typed)} t JOIN {q(keys_table(table))} k ON {_key_on(table, 't', 'k')} "
            f"JOIN {q(table.name)} o ON {_key_on(table, 't', 'o')} "
            f"WHERE t.__errs IS NULL AND {_differs(table, 't', 'o')}")


def record_keys(con: duckdb.DuckDBPyConnection, table: Table, typed: str, err: str | None, source: str) -> None:
    """Remember the keys this source loaded, for the conflict check of a later source of the same table."""
    keys = ", ".join(q(k) for k in table.key)
    name = q(keys_table(table))
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} AS SELECT {keys}, ''::VARCHAR AS __source, "
                f"0::BIGINT AS __srow FROM {q(typed)} WHERE false")
    valid = f" WHERE NOT EXISTS (SELECT 1 FROM {q(err)} e WHERE e.__row = t.__row)" if err else ""
    con.execute(f"INSERT INTO {name} SELECT {keys}, {lit(source)}, __row FROM {q(typed)} t{valid}")


def absent_columns(table: Table, absent: list[str], has_extras: bool) -> list[str]:
    """Stored columns a source does not give (``attributes`` when it brings no extra column)."""
    out = [c for c in absent if table.has(c) and c not in table.key]
    if table.attributes and not has_extras:
        out.append("attributes")
    return out


def overwrites(con: duckdb.DuckDBPyConnection, table: Table, typed: str, err: str | None,
               columns: list[str]) -> dict[str, int]:
    """Per absent column: stored rows whose non-empty value the load would replace (by a default or empty)."""
    if not columns:
        return {}
    valid = f" AND NOT EXISTS (SELECT 1 FROM {q(err)} e WHERE e.__row = n.__row)" if err else ""
    counts = ", ".join(f"count_if(o.{q(c)} IS NOT NULL AND n.{q(c)} IS DISTINCT FROM o.{q(c)})" for c in columns)
    row = con.execute(f"SELECT {counts} FROM {q(typed)} n JOIN {q(table.name)} o ON {_key_on(table, 'n', 'o')} "
                      f"WHERE true{valid}").fetchone()
    return {c: int(v) for c, v in zip(columns, row, strict=True) if v}


def keep_stored(con: duckdb.DuckDBPyConnection, table: Table, typed: str, columns: list[str]) -> None:
    """``--merge``: rows whose key is stored keep the stored values of the absent columns (attributes merged)."""
    sets = []
    for c in columns:
        if c == "attributes":
            sets.append(f"attributes = CASE WHEN {q(typed)}.attributes IS NULL THEN o.attributes "
                        f"WHEN o.attributes IS NULL THEN {q(typed)}.attributes ELSE CAST(json_merge_patch("
                        f"o.attributes::JSON, {q(typed)}.attributes::JSON) AS VARCHAR) END")
        else:
            sets.append(f"{q(c)} = o.{q(c)}")
    if sets:
        con.execute(f"UPDATE {q(typed)} SET {', '.join(sets)} FROM {q(table.name)} o "
                    f"WHERE {_key_on(table, q(typed), 'o')}")


def derive_products(con: duckdb.DuckDBPyConnection, typed: str, name: str) -> tuple[str, list[str]]:
    """A temp table ``name`` of products (name = id) for product ids of valid rows not in ``products``."""
    spec = TABLES["products"]
    cols = []
    for c in spec.columns:
        if c.name in ("product_id", "name"):
            cols.append(f"t.product_id AS {q(c.name)}")
        else:
            cols.append(f"CAST({c.default or 'NULL'} AS {c.dtype.sql}) AS {q(c.name)}")
    cols.append("NULL::VARCHAR AS attributes")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {q(name)} AS SELECT DISTINCT {', '.join(cols)} FROM {q(typed)} t "
                f"WHERE t.__errs IS NULL AND t.product_id IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM products x WHERE x.product_id = t.product_id)")
    ids = con.execute(f"SELECT product_id FROM {q(name)} ORDER BY 1 LIMIT {EXAMPLES}").fetchall()
    return name, [r[0] for r in ids]
