"""Building blocks of the results layer: a stored result's columns, key, grain and the closed vocabularies.

The results are declared once, in :mod:`retain.results.specs`; the warehouse validates every stored frame against
its spec (:func:`conform`), ``retain publish`` reads columns by the names declared here, and ``docs/results.md`` is
rendered from them. Column types are the canonical model's :class:`~retain.schema.DType` (one vocabulary for what
is loaded and what is computed); the one thing results add is a timestamp without a zone, the first moment of a
calendar period (``zoned=False``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import ibis.expr.datatypes as dt

from retain.schema.model import DType


class Grain(StrEnum):
    """What one row of a result is about, within one ``as_of``."""

    ACCOUNT = "per account"
    ACCOUNT_COMPONENT = "per account and health component"
    ACCOUNT_MEASURE = "per account and health measure"
    OWNER = "per owner"
    PERIOD = "per period and dimension value"
    COHORT = "per cohort and month since start"
    CURVE = "per point of a curve"
    GROUP = "per group"
    CALL = "per call"
    CALL_MOMENT = "per moment in a call"
    LEAD = "per lead"
    ENTITY = "per lead or account"
    COMPANY = "one row for the company"
    OPPORTUNITY = "per opportunity"


class HealthGrade(StrEnum):
    """The scorecard's grade of an account's health total (``grades`` in the scorecard YAML)."""

    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"


class AdoptionTier(StrEnum):
    """How deeply an account uses the product: learned cut points of an adoption index (:mod:`retain.models.adoption`);
    without a model, days active in the last 30 (20+ high, 10+ medium, else low)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


NAIVE_TIMESTAMP = "timestamp (no zone)"  # how a period start's type reads in messages and docs/results.md


@dataclass(frozen=True)
class ResultColumn:
    name: str
    type: DType
    meaning: str
    nullable: bool = True
    vocabulary: type[StrEnum] | None = None  # the closed set of values this column holds
    zoned: bool = True  # a TIMESTAMP is an instant in UTC; False: the first moment of a period, without a zone

    def __post_init__(self) -> None:
        if not self.zoned and self.type is not DType.TIMESTAMP:
            raise ValueError(f"result column '{self.name}': only a timestamp can be declared without a zone")

    @property
    def values(self) -> tuple[str, ...] | None:
        return tuple(v.value for v in self.vocabulary) if self.vocabulary else None

    @property
    def type_name(self) -> str:
        """The declared type as messages and ``docs/results.md`` print it."""
        return self.type.value if self.zoned else NAIVE_TIMESTAMP

    @property
    def ibis(self) -> dt.DataType:
        """The Ibis type the warehouse stores this column as."""
        return self.type.ibis if self.zoned else dt.Timestamp()

    def accepts(self, source: dt.DataType) -> bool:
        """Whether a column of type ``source`` casts to this column's type without losing meaning."""
        if source.is_null():
            return True
        kind = self.type
        if kind in (DType.STRING, DType.JSON):
            return source.is_string()
        if kind in (DType.FLOAT, DType.INT):  # an integer column with nulls arrives from pandas as float
            return source.is_numeric() or source.is_boolean()
        if kind is DType.BOOL:
            return source.is_boolean()
        if kind is DType.DATE:
            return source.is_date()
        return source.is_timestamp()


@dataclass(frozen=True)
class ResultSpec:
    """One stored result: ``result_<name>`` in the warehouse, one row per :attr:`grain` (per ``as_of`` when
    :attr:`dated`), unique on :attr:`key`."""

    name: str
    meaning: str
    grain: Grain
    key: tuple[str, ...]
    producer: str  # dotted path of the function that computes it
    columns: tuple[ResultColumn, ...]
    dated: bool = True  # stored per ``as_of`` (an ``as_of`` date column is added by the warehouse)
    _by_name: dict[str, ResultColumn] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ResultColumn:
        """The column ``name``; a ``KeyError`` naming the result otherwise (readers fail at import, not later)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"result '{self.name}' declares no column '{name}'") from None

    def has(self, name: str) -> bool:
        return name in self._by_name

    def ibis_schema(self):
        import ibis

        pairs = [(c.name, c.ibis) for c in self.columns]
        if self.dated:
            pairs.append(("as_of", dt.date))
        return ibis.schema(pairs)
