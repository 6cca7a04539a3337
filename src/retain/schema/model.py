"""Building blocks of the canonical data model: columns, tables and their point-in-time rules.

The model is declared once, in :mod:`retain.schema.tables`; ingestion validates against it, the warehouse
creates tables from it, ``docs/data-model.md`` is rendered from it, and analytics read it to know which
column says when a row became known (``known_at``) and which columns are only known later (``revealed_by``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import ibis.expr.datatypes as dt


class DType(StrEnum):
    STRING = "string"
    INT = "int64"
    FLOAT = "float64"
    BOOL = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    JSON = "json"

    @property
    def ibis(self) -> dt.DataType:
        return {
            DType.STRING: dt.string,
            DType.INT: dt.int64,
            DType.FLOAT: dt.float64,
            DType.BOOL: dt.boolean,
            DType.DATE: dt.date,
            DType.TIMESTAMP: dt.Timestamp(timezone="UTC"),
            DType.JSON: dt.string,  # JSON text: portable across every Ibis backend
        }[self]

    @property
    def sql(self) -> str:
        """DuckDB type used when staging and validating input."""
        return {
            DType.STRING: "VARCHAR",
            DType.INT: "BIGINT",
            DType.FLOAT: "DOUBLE",
            DType.BOOL: "BOOLEAN",
            DType.DATE: "DATE",
            DType.TIMESTAMP: "TIMESTAMPTZ",
            DType.JSON: "VARCHAR",
        }[self]


@dataclass(frozen=True)
class Column:
    name: str
    dtype: DType
    description: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    references: str | None = None  # "table.column" this column must match when it is not null
    minimum: float | None = None
    maximum: float | None = None
    revealed_by: str | None = None  # this value is only known once that date/time column is <= as_of
    default: str | None = None  # SQL literal used when the column is absent or null


@dataclass(frozen=True)
class DateOrder:
    """``later`` must not be before ``earlier`` when both are present."""

    earlier: str
    later: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    known_at: str | None  # column giving when a row became known; None means "via parent"
    parent: tuple[str, str] | None = None  # (table, column) whose known_at a row inherits
    date_orders: tuple[DateOrder, ...] = ()
    input_only: bool = False  # rolled up into another table on load (raw product events)
    attributes: bool = True  # keeps unknown extra columns as JSON in ``attributes``
    _by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self._by_name[name]

    def has(self, name: str) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def stored_names(self) -> list[str]:
        """Columns as stored in the warehouse, ``attributes`` included."""
        return self.names + (["attributes"] if self.attributes else [])

    def ibis_schema(self):
        import ibis

        pairs = [(c.name, c.dtype.ibis) for c in self.columns]
        if self.attributes:
            pairs.append(("attributes", dt.string))
        return ibis.schema(pairs)
