"""Column mappings: rename a CRM export's columns (and values) to the canonical model.

A mapping is a YAML file parsed into a frozen :class:`MappingSpec`::

    version: 1
    name: my-crm
    tables:
      accounts:
        files: [companies]            # file names (without extension) in a folder that hold this table
        columns:
          account_id: Record ID       # canonical column: source column
          name: [Company name, Name]  # alternatives: the first one present in the file is used
          created_at: {source: Since, format: "%m/%d/%Y"}   # dates written as 01/31/2024
          segment:
            source: Tier
            values: {Gold: enterprise, Silver: mid_market}   # value map (case-insensitive)
            other: keep               # unmapped values: keep (default) or null
            default: smb              # when the source column is absent or empty
      opportunities:
        columns:
          closed_at: {source: CloseDate, only_if: {IsClosed: true}}   # empty unless IsClosed is true

A table may instead be a DuckDB SQL query over named export files (``sources:``); see :mod:`retain.ingest.queries`::

    sources: {customers: telco_churn.csv, events: {file: events.parquet}}
    tables:
      accounts:
        query: SELECT customerID AS account_id, Contract AS contract FROM customers
      subscriptions:
        query: SELECT ...
        natural_key: [account_id, product_id, started_on]   # a stable generated key when the key is absent
        overlap: separate_licences                          # overlapping periods are separate licences
      survey_responses:
        files: [answers]
        scale: {csat: [5, 10]}                               # the export's scale of a survey type
        rescale: true                                        # mapped onto the canonical scale (csat 1-5)

Built-in mappings ship with Retain (``salesforce``, ``hubspot``); pass their name instead of a path.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from retain.errors import ConfigError
from retain.ingest.columns import normalise_name
from retain.schema import TABLES

BUILT_IN = ("salesforce", "hubspot")


class Unmapped(StrEnum):
    KEEP = "keep"
    NULL = "null"


class Overlap(StrEnum):
    """What to do with subscription rows of one account and product whose periods overlap."""

    QUARANTINE = "quarantine"  # the default: the later row is quarantined, so revenue is never counted twice
    SEPARATE_LICENCES = "separate_licences"  # both load: they are separate licences and are summed


class SurveyType(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"


CANONICAL_SCALES: dict[SurveyType, tuple[float, float]] = {
    SurveyType.NPS: (0, 10), SurveyType.CSAT: (1, 5), SurveyType.CES: (1, 7),
}


class SourceFileSpec(BaseModel):
    """An export file a query reads, by the name the query uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str = Field(description="Path relative to the ingested folder (or to the mapping file's folder).")


class ColumnMapSpec(BaseModel):
    """Where one canonical column comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: list[str] = Field(default_factory=list, description="Source column(s); the first present is used.")
    values: dict[str, str | None] = Field(default_factory=dict, description="Source value -> canonical value.")
    other: Unmapped = Unmapped.KEEP
    default: str | None = Field(None, description="Value used when the source column is absent or empty.")
    format: str | None = Field(
        None, description="strptime format of a date or time column, e.g. '%m/%d/%Y' (default: ISO 8601).",
    )
    only_if: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Keep the value only where these source columns hold one of these values (else empty).",
    )

    @field_validator("only_if", mode="before")
    @classmethod
    def _conditions(cls, value):
        if isinstance(value, dict):
            return {str(k): [_text(x) for x in (v if isinstance(v, list) else [v])] for k, v in value.items()}
        return value

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("values", mode="before")
    @classmethod
    def _stringify(cls, value):
        if isinstance(value, dict):
            return {str(k): (None if v is None else _text(v)) for k, v in value.items()}
        return value

    @field_validator("default", mode="before")
    @classmethod
    def _default_text(cls, value):
        return None if value is None else _text(value)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


ColumnEntry = Annotated[ColumnMapSpec | str | list[str], Field()]


class TableMapSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    files: list[str] = Field(default_factory=list, description="File names (no extension) holding this table.")
    columns: dict[str, ColumnEntry] = Field(default_factory=dict)
    query: str | None = Field(
        None, description="DuckDB SQL over the mapping's sources; its output columns are the table's columns "
                          "(extra ones go to attributes). Not with files/columns.",
    )
    natural_key: list[str] = Field(
        default_factory=list, description="Canonical columns whose values make a stable key when the key is absent.",
    )
    scale: dict[SurveyType, tuple[float, float]] = Field(
        default_factory=dict, description="survey_responses: the export's scale per survey type, e.g. {csat: [5, 10]}.",
    )
    rescale: bool = Field(False, description="survey_responses: map scores from `scale` onto the canonical scale.")
    overlap: Overlap | None = Field(
        None, description="subscriptions: overlapping periods of one account and product are quarantined "
                          "(default) or loaded as separate_licences.",
    )

    @model_validator(mode="after")
    def _query_or_columns(self) -> TableMapSpec:
        if self.query is not None and (self.files or self.columns):
            raise ValueError("give either query or files/columns, not both")
        if self.query is not None and not self.query.strip():
            raise ValueError("query is empty")
        for kind, (low, high) in self.scale.items():
            if not low < high:
                raise ValueError(f"scale.{kind}: the low end must be below the high end")
        return self

    def column_specs(self) -> dict[str, ColumnMapSpec]:
        out = {}
        for name, entry in self.columns.items():
            out[name] = entry if isinstance(entry, ColumnMapSpec) else ColumnMapSpec(source=entry)
        return out


class MappingSpec(BaseModel):
    """A column mapping for one source system (``version: 1``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(description="Format version of this file; only 1 exists.")
    name: str = "custom"
    description: str = ""
    sources: dict[str, SourceFileSpec | str] = Field(
        default_factory=dict, description="Names usable in queries -> export files.",
    )
    tables: dict[str, TableMapSpec]

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only version 1 exists")
        return value

    def for_table(self, table: str) -> dict[str, ColumnMapSpec]:
        entry = self.tables.get(table)
        return entry.column_specs() if entry else {}

    def entry(self, table: str) -> TableMapSpec | None:
        return self.tables.get(table)

    def source_files(self) -> dict[str, str]:
        """Source name -> file path as written in the mapping."""
        return {name: (f if isinstance(f, str) else f.file) for name, f in self.sources.items()}

    def queries(self) -> dict[str, str]:
        """Table -> SQL of every table defined by a query."""
        return {table: entry.query for table, entry in self.tables.items() if entry.query is not None}

    def table_for_file(self, stem: str) -> str | None:
        """The canonical table a file called ``stem`` holds under this mapping, if the mapping names it."""
        key = normalise_name(stem)
        for table, entry in self.tables.items():
            if key in {normalise_name(f) for f in entry.files}:
                return table
        return None


def load_mapping(mapping: str | Path | MappingSpec | None) -> MappingSpec | None:
    """A mapping from a built-in name (``salesforce``), a YAML path, or an already built spec."""
    if mapping is None or isinstance(mapping, MappingSpec):
        return mapping
    text_name = str(mapping)
    if text_name in BUILT_IN:
        path = resources.files("retain.ingest") / "mappings" / f"{text_name}.yaml"
        return _parse(path.read_text(encoding="utf-8"), f"built-in mapping '{text_name}'")
    path = Path(mapping)
    if not path.exists():
        raise ConfigError(f"mapping file '{path}' not found",
                          hint=f"give a YAML file path or a built-in mapping: {', '.join(BUILT_IN)}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"mapping file '{path}' is not UTF-8", hint="re-save it as UTF-8") from None
    return _parse(text, str(path))


def _parse(text: str, where: str) -> MappingSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({exc})".replace("\n", " "),
                          hint="check indentation and quoting at the line shown") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with 'version:' and 'tables:'",
                          hint="start the file with `version: 1` then `tables:`")
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            problems.append(f"{key}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError(f"{where}: invalid mapping: " + "; ".join(problems),
                          hint="see docs/ingest.md#mappings for the format (version, tables, columns)") from None
    issues = _check_names(spec)
    if issues:
        raise ConfigError(f"{where}: invalid mapping: " + "; ".join(issues),
                          hint="use table and column names from docs/data-model.md")
    return spec


def _check_names(spec: MappingSpec) -> list[str]:
    from difflib import get_close_matches

    issues = []
    for table, entry in spec.tables.items():
        if table not in TABLES:
            close = get_close_matches(table, TABLES, n=1)
            issues.append(f"tables.{table}: unknown table" + (f" (did you mean '{close[0]}'?)" if close else ""))
            continue
        names = TABLES[table].names
        issues += _check_options(table, entry, names)
        for column, col in entry.column_specs().items():
            if column not in names:
                close = get_close_matches(column, names, n=1)
                issues.append(f"tables.{table}.columns.{column}: unknown column of {table}"
                              + (f" (did you mean '{close[0]}'?)" if close else ""))
            elif not col.source and col.default is None:
                issues.append(f"tables.{table}.columns.{column}: give a source column or a default")
            elif col.format and TABLES[table].column(column).dtype.value not in ("date", "timestamp"):
                issues.append(f"tables.{table}.columns.{column}: format is only for date and time columns")
    return issues


def _check_options(table: str, entry: TableMapSpec, names: list[str]) -> list[str]:
    from difflib import get_close_matches

    issues = []
    for column in entry.natural_key:
        if column not in names:
            close = get_close_matches(column, names, n=1)
            issues.append(f"tables.{table}.natural_key: '{column}' is not a column of {table}"
                          + (f" (did you mean '{close[0]}'?)" if close else ""))
    if (entry.scale or entry.rescale) and table != "survey_responses":
        issues.append(f"tables.{table}.scale: scale and rescale are for survey_responses only")
    if entry.rescale and not entry.scale:
        issues.append(f"tables.{table}.rescale: declare the export's scale first, e.g. scale: {{csat: [5, 10]}}")
    if entry.overlap is not None and table != "subscriptions":
        issues.append(f"tables.{table}.overlap: overlap is for subscriptions only")
    return issues
