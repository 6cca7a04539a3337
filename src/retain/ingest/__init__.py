"""Ingestion: files and frames into the canonical warehouse, validated in the engine, bad rows quarantined.

Public API: :func:`ingest_path`, :func:`ingest_frames`, :func:`status`, :func:`quarantined_rows`, :func:`loads`,
:class:`IngestReport`, :class:`LoadResult`, :class:`MappingSpec` / :func:`load_mapping`.
"""

from retain.ingest.ledger import loads, quarantined_rows, status
from retain.ingest.mapping import BUILT_IN, MappingSpec, load_mapping
from retain.ingest.pipeline import discover, ingest_frames, ingest_path
from retain.ingest.report import IngestReport, LoadResult

__all__ = [
    "BUILT_IN", "IngestReport", "LoadResult", "MappingSpec", "discover", "ingest_frames", "ingest_path",
    "load_mapping", "loads", "quarantined_rows", "status",
]
