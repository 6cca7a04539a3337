"""Writing the company to a folder of Parquet files and loading it through the ordinary ingestion path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from retain.demo.company import DemoData
from retain.warehouse import Warehouse

HIDDEN_DIR = "_hidden"  # truth files: a sub-folder, which `retain ingest FOLDER` never reads


def write_parquet(data: DemoData, out_dir: str | Path) -> dict[str, int]:
    """One ``<table>.parquet`` per table generated (usage streamed block by block) plus ``_hidden/*.parquet``.

    Returns rows written per table. Files are byte-identical for the same spec (no timestamps in metadata).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, table in data.tables.items():
        pq.write_table(table, out / f"{name}.parquet", compression="zstd")
        rows[name] = table.num_rows
    writer = None
    try:
        for block in data.usage_blocks():
            if writer is None:
                writer = pq.ParquetWriter(out / "usage.parquet", block.schema, compression="zstd")
                rows["usage"] = 0
            writer.write_table(block)
            rows["usage"] += block.num_rows
    finally:
        if writer is not None:
            writer.close()
    hidden = out / HIDDEN_DIR
    hidden.mkdir(exist_ok=True)
    for name, frame in data.truth.items():
        frame.to_parquet(hidden / f"{name}.parquet", index=False)
    return rows


def load_folder(wh: Warehouse, folder: str | Path, end: dt.date, progress=None):
    """Ingest the folder with :func:`retain.ingest.ingest_path`, the path user data takes.

    The load time is at least the day after ``end`` so a company ending in the future still passes the
    "no dates after the load" rule.
    """
    from retain.ingest import ingest_path

    now = max(dt.datetime.now(dt.UTC), dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC))
    return ingest_path(wh, folder, now=now, progress=progress)
