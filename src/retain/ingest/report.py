"""What a load did: per file/table counts, and the rows it quarantined with their reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd

ERROR_COLUMNS = ["table_name", "file", "row_number", "column_name", "reason"]
MAX_REPORTED_ERRORS = 1000  # the report keeps the first reasons; the warehouse's `quarantine` table keeps all


@dataclass(frozen=True)
class LoadResult:
    """One file (or frame) loaded into one table. ``read == loaded + quarantined`` always holds.

    ``inserted`` counts new keys, ``updated`` keys whose row changed; ``loaded - inserted - updated`` rows were
    already in the warehouse unchanged (re-ingesting the same file loads them again and changes nothing).
    """

    table: str
    source: str
    read: int
    loaded: int
    quarantined: int
    inserted: int = 0
    updated: int = 0

    def __post_init__(self) -> None:
        if self.read != self.loaded + self.quarantined:
            raise AssertionError(f"{self.source}: read {self.read} != loaded {self.loaded} + quarantined "
                                 f"{self.quarantined}")

    @property
    def unchanged(self) -> int:
        return self.loaded - self.inserted - self.updated


class NoteKind(StrEnum):
    """Things a load did or found beside loading rows, each reported with a count and examples."""

    GENERATED_KEY = "generated_key"  # the key was absent: generated (natural key, file and row, or content)
    DERIVED = "derived"  # values Retain filled in: created_at from first purchases, products from subscriptions
    OVERLAP = "overlap"  # subscription periods of one account and product overlap
    OVERWRITE = "overwrite"  # stored values replaced by defaults because the column is absent from this file
    MERGED = "merged"  # --merge: absent columns kept their stored values
    CONFLICT = "conflict"  # two sources of one load give the same key with other values


@dataclass(frozen=True)
class Note:
    table: str
    source: str
    kind: NoteKind
    message: str
    examples: tuple[str, ...] = ()


@dataclass
class IngestReport:
    """Everything one call of :func:`retain.ingest.ingest_path` / :func:`retain.ingest.ingest_frames` did.

    ``errors`` holds the first :data:`MAX_REPORTED_ERRORS` quarantine reasons (table, file, row_number,
    column, reason); ``committed`` is False when nothing was written (``strict=True`` with invalid rows).
    """

    load_id: str
    results: list[LoadResult] = field(default_factory=list)
    derived: list[LoadResult] = field(default_factory=list)  # tables rebuilt from input-only ones (usage)
    errors: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ERROR_COLUMNS))
    committed: bool = True
    dry_run: bool = False  # nothing was written: the load ran and was rolled back
    notes: list[Note] = field(default_factory=list)
    samples: dict[str, pd.DataFrame] = field(default_factory=dict)  # source -> a few rows that load (dry run)

    @property
    def all_quarantined(self) -> list[LoadResult]:
        """Sources that had rows and loaded none of them."""
        return [r for r in self.results if r.read > 0 and r.loaded == 0]

    @property
    def read(self) -> int:
        return sum(r.read for r in self.results)

    @property
    def loaded(self) -> int:
        return sum(r.loaded for r in self.results)

    @property
    def quarantined(self) -> int:
        return sum(r.quarantined for r in self.results)

    @property
    def inserted(self) -> int:
        return sum(r.inserted for r in self.results)

    @property
    def updated(self) -> int:
        return sum(r.updated for r in self.results)

    @property
    def ok(self) -> bool:
        """True when every row read was loaded."""
        return self.quarantined == 0 and self.committed

    def table(self) -> pd.DataFrame:
        """One row per file/table: the figures the CLI prints."""
        rows = [
            {"table": r.table, "file": r.source, "read": r.read, "loaded": r.loaded, "quarantined": r.quarantined,
             "inserted": r.inserted, "updated": r.updated, "unchanged": r.unchanged}
            for r in self.results
        ]
        return pd.DataFrame(rows, columns=["table", "file", "read", "loaded", "quarantined", "inserted", "updated",
                                           "unchanged"])

    def result(self, table: str) -> LoadResult:
        """The (summed) result for ``table``."""
        found = [r for r in self.results if r.table == table]
        if not found:
            raise KeyError(table)
        return LoadResult(
            table, ", ".join(r.source for r in found), sum(r.read for r in found), sum(r.loaded for r in found),
            sum(r.quarantined for r in found), sum(r.inserted for r in found), sum(r.updated for r in found),
        )
