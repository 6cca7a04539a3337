"""Render the canonical data model as Markdown (``docs/data-model.md``; a test keeps them in step)."""

from __future__ import annotations

from retain.schema.model import Column, Table
from retain.schema.tables import TABLES

INTRO = """# Retain data model

Generated from `retain.schema` by `make docs` (`python -m retain.schema.docs`); a test fails when this file and
the code disagree. Load files named after a table (`accounts.csv`, `usage.parquet`, `leads.jsonl`...) with
`retain ingest FOLDER`, or one file with `retain ingest --table TABLE FILE`.

Conventions: `*_id` keys, `*_at` timestamps (normalised to UTC; a value without an offset is read as UTC),
`*_on` dates, money as an amount column plus `currency`. Columns not in the model are kept, as JSON, in the
`attributes` column. Bad rows are quarantined (table `quarantine`: file, row number, column, reason), never dropped.

**Point in time.** Every computation runs *as of* a date and sees a row only once its *known at* column is on or
before that date; a value marked *revealed by* another column (an end date, a cancel reason, a payment date) stays
hidden until that column's date has passed. Tables without a *known at* column are reference data.
"""


def _column_row(col: Column) -> str:
    rules = []
    if col.enum:
        rules.append("one of " + ", ".join(f"`{v}`" for v in col.enum))
    if col.references:
        rules.append(f"references `{col.references}`")
    if col.minimum is not None:
        rules.append(f">= {col.minimum:g}")
    if col.maximum is not None:
        rules.append(f"<= {col.maximum:g}")
    if col.revealed_by:
        rules.append(f"revealed by `{col.revealed_by}`")
    if col.default is not None:
        rules.append(f"default `{col.default}`")
    return (f"| `{col.name}` | {col.dtype.value} | {'yes' if col.required else ''} | {col.description} | "
            f"{'; '.join(rules)} |")


def render_table(table: Table) -> str:
    lines = [f"## `{table.name}`", "", table.description, ""]
    lines.append(f"- Key: {', '.join(f'`{k}`' for k in table.key)}")
    if table.known_at:
        lines.append(f"- Known at: `{table.known_at}`")
    elif table.parent:
        lines.append(f"- Known at: that of its `{table.parent[0]}` row")
    else:
        lines.append("- Known at: always (reference data)")
    for order in table.date_orders:
        lines.append(f"- `{order.later}` must not be before `{order.earlier}`")
    if table.input_only:
        lines.append("- Input only: rolled up into `usage` on load")
    lines += ["", "| column | type | required | meaning | rules |", "|---|---|---|---|---|"]
    lines += [_column_row(c) for c in table.columns]
    return "\n".join(lines)


def render() -> str:
    return INTRO + "\n" + "\n\n".join(render_table(t) for t in TABLES.values()) + "\n"


if __name__ == "__main__":
    print(render(), end="")
