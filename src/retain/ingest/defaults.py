"""Defaults real exports need: generated keys, an account's name from its id, ``created_at`` from first purchases.

Rules (each one is SQL over the staged source, added to the :class:`~retain.ingest.columns.ColumnPlan`):

* A table with a one-column key that no required reference points to (subscriptions, transactions, invoices,
  tickets, survey answers, events, activities...) may come without its key. The key is then generated:
  from the ``natural_key`` the mapping declares (an md5 of those values: stable across exports, a repeat is a
  duplicate key), else from the file name and row number (``events.csv:17``: two identical events both load),
  else, for a query or an in-memory frame whose row order is not stable, from the row's content and its
  occurrence number among identical rows (``<md5>:2``), so re-loading the same rows changes nothing.
* ``accounts.name`` absent: the account's id.
* ``accounts.created_at`` absent: the account's first subscription start or transaction, from this load's files
  and the warehouse (the load report says so); an account with neither is quarantined.
"""

from __future__ import annotations

from dataclasses import replace

from retain.ingest.columns import ColumnPlan
from retain.ingest.sources import Staged, lit, q
from retain.schema import TABLES, Table

FIRST_SEEN = {"subscriptions": "started_on", "transactions": "occurred_at"}  # tables giving an account's start


def generated_key(table: Table) -> str | None:
    """The key column Retain may generate for ``table``, if any."""
    if len(table.key) != 1:
        return None
    target = f"{table.name}.{table.key[0]}"
    for other in TABLES.values():
        if any(c.references == target and c.required for c in other.columns):
            return None  # accounts, products, opportunities, conversations: other rows need their real ids
    return table.key[0]


def absent_ok(table: Table) -> frozenset[str]:
    """Required columns of ``table`` a source may leave out because Retain fills them."""
    out = set()
    if (key := generated_key(table)) is not None:
        out.add(key)
    if table.name == "accounts":
        out |= {"name", "created_at"}
    return frozenset(out)


def complete(plan: ColumnPlan, staged: Staged, label: str, *, natural_key: list[str], row_order_stable: bool,
             first_seen: str | None = None) -> ColumnPlan:
    """``plan`` with the generated values of the columns the source leaves out."""
    from retain.ingest.rules import source_value

    table = plan.table
    generated: dict[str, tuple[str, str]] = {}
    fallbacks: dict[str, str] = {}
    key = generated_key(table)
    if key is not None and key in plan.absent:
        if natural_key:
            parts = [_text(*source_value(plan, staged, c)) for c in natural_key]
            generated[key] = (f"md5(concat_ws('|', {', '.join(parts)}))", "VARCHAR")
        elif row_order_stable:
            generated[key] = (f"({lit(label + ':')} || CAST({staged.row_number} AS VARCHAR))", "VARCHAR")
        else:
            content = "md5(concat_ws('|', " + ", ".join(_text(q(c), staged.types[c]) for c in staged.columns) + "))"
            generated[key] = (f"({content} || ':' || CAST(row_number() OVER (PARTITION BY {content} "
                              f"ORDER BY {staged.row_number}) AS VARCHAR))", "VARCHAR")
    if table.name == "accounts" and "name" in plan.absent:
        fallbacks["name"] = "account_id"
        if "created_at" in plan.absent and first_seen is not None:
            account = source_value(plan, staged, "account_id")[0]
            generated["created_at"] = (f"(SELECT f.first_at FROM {q(first_seen)} f WHERE f.__fs_account = {account})",
                                       "TIMESTAMPTZ")
    return replace(plan, generated={**plan.generated, **generated}, fallbacks={**plan.fallbacks, **fallbacks})


def _text(expr: str, sql_type: str) -> str:
    value = expr if sql_type.upper() == "VARCHAR" else f"CAST({expr} AS VARCHAR)"
    return f"coalesce({value}, '')"
