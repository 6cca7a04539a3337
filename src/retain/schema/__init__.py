"""The canonical data model: one declaration that ingestion, the warehouse, analytics and docs all read."""

from retain.schema.model import Column, DateOrder, DType, Table
from retain.schema.tables import TABLES

__all__ = ["TABLES", "Column", "DType", "DateOrder", "Table", "table"]


def table(name: str) -> Table:
    """The table called ``name``; a :class:`~retain.errors.SchemaError` naming the closest match otherwise."""
    from difflib import get_close_matches

    from retain.errors import SchemaError

    try:
        return TABLES[name]
    except KeyError:
        close = get_close_matches(name, TABLES, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"tables are: {', '.join(TABLES)}"
        raise SchemaError(f"unknown table '{name}'", hint=hint) from None
