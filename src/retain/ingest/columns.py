"""Matching a file's columns to a canonical table: names, mappings, missing columns and extras."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import TYPE_CHECKING

from retain.errors import SchemaError
from retain.schema import Table

if TYPE_CHECKING:
    from retain.ingest.mapping import ColumnMapSpec

_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_name(name: str) -> str:
    """Column names match case-insensitively, with spaces and dashes read as underscores."""
    return _SEPARATORS.sub("_", str(name).replace("\ufeff", "").strip().lower())


@dataclass(frozen=True)
class ColumnPlan:
    """Where each canonical column of ``table`` comes from in one staged source."""

    table: Table
    sources: dict[str, str]  # canonical column -> source column (original name)
    maps: dict[str, ColumnMapSpec] = field(default_factory=dict)  # value maps and mapping defaults
    extras: dict[str, str] = field(default_factory=dict)  # attributes key -> source column
    attributes_source: str | None = None  # a source column called `attributes` (JSON) merged with extras
    all_sources: tuple[str, ...] = ()
    generated: dict[str, tuple[str, str]] = field(default_factory=dict)  # absent column -> (SQL, DuckDB type)
    fallbacks: dict[str, str] = field(default_factory=dict)  # column -> column whose value fills its empty values
    scale: dict[str, tuple[float, float]] = field(default_factory=dict)  # survey type -> the export's scale
    rescale: bool = False  # scores mapped from `scale` onto the canonical scale

    @property
    def absent(self) -> list[str]:
        """Canonical columns this source does not give (they take their default, or a generated value)."""
        return [c for c in self.table.names if c not in self.sources and c not in self.generated
                and c not in self.fallbacks and (c not in self.maps or self.maps[c].default is None)]


def plan_columns(table: Table, found: list[str], source: str,
                 maps: dict[str, ColumnMapSpec] | None = None, absent_ok: frozenset[str] = frozenset()) -> ColumnPlan:
    """Match ``found`` columns of ``source`` to ``table``; a :class:`SchemaError` when required ones are missing.

    ``absent_ok`` names required columns Retain can fill itself (a generated key, a name from the id...)."""
    maps = maps or {}
    by_norm: dict[str, str] = {}
    for name in found:
        key = normalise_name(name)
        if key in by_norm:
            raise SchemaError(f"{source}: columns '{by_norm[key]}' and '{name}' have the same name",
                              hint="rename or remove one of them")
        by_norm[key] = name

    sources: dict[str, str] = {}
    used: set[str] = set()
    for column, spec in maps.items():
        for candidate in spec.source:
            hit = by_norm.get(normalise_name(candidate))
            if hit is not None:
                sources[column] = hit
                used.add(hit)
                break
    for column in table.names:
        if column not in sources and column in by_norm and column not in maps:
            sources[column] = by_norm[column]
            used.add(by_norm[column])

    missing = [c.name for c in table.columns  # a column the mapping names is never filled by Retain
               if c.required and c.default is None and c.name not in sources
               and (c.name not in absent_ok or c.name in maps)
               and (c.name not in maps or maps[c.name].default is None)]
    if missing:
        raise SchemaError(_missing_message(table, source, found, missing, maps), hint=_missing_hint(maps))

    attributes_source = by_norm.get("attributes") if table.attributes else None
    if attributes_source:
        used.add(attributes_source)
    extras = {normalise_name(n): n for n in found if n not in used}
    if extras and not table.attributes:
        raise SchemaError(f"{source}: unknown columns {', '.join(extras.values())} for table {table.name}",
                          hint=f"{table.name} keeps no extra columns; expected: {', '.join(table.names)}")
    return ColumnPlan(table, sources, maps, extras, attributes_source, tuple(found))


def _missing_message(table: Table, source: str, found: list[str], missing: list[str],
                     maps: dict[str, ColumnMapSpec]) -> str:
    lines = [f"{source}: missing required column{'s' if len(missing) > 1 else ''} for table '{table.name}': "
             f"{', '.join(missing)}"]
    lines.append(f"  expected: {', '.join(table.required)} (optional: "
                 f"{', '.join(c for c in table.names if c not in table.required)})")
    lines.append(f"  found:    {', '.join(found) or '(no columns)'}")
    normalised = {normalise_name(f): f for f in found}
    for column in missing:
        wanted = [column] + (maps[column].source if column in maps else [])
        close = []
        for name in wanted:
            close += get_close_matches(normalise_name(name), list(normalised), n=1, cutoff=0.5)
        if close:
            lines.append(f"  '{column}': closest found column is '{normalised[close[0]]}'")
        else:
            lines.append(f"  '{column}': no similar column found")
    return "\n".join(lines)


def _missing_hint(maps: dict) -> str:
    if maps:
        return "fix the source column names in the mapping file, or rename the columns in the file"
    return "rename the columns in the file, or pass --mapping FILE (see docs/ingest.md#mappings)"
