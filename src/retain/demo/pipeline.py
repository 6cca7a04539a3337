"""Generate, write and ingest the demo company in one call (what `retain demo` and the test fixture use)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retain.demo.company import STEPS, DemoData, generate
from retain.demo.spec import DemoSpec
from retain.demo.writer import load_folder, write_parquet
from retain.errors import IngestError
from retain.warehouse import Warehouse


@dataclass
class DemoResult:
    data: DemoData
    out_dir: Path
    rows: dict[str, int]
    report: object  # retain.ingest.IngestReport
    seconds: dict[str, float] = field(default_factory=dict)


def build_demo(wh: Warehouse, spec: DemoSpec | None = None, out_dir: str | Path | None = None,
               step: Callable[[str], None] | None = None) -> DemoResult:
    """Generate the company, write it as Parquet to ``out_dir`` (a temporary folder when None) and ingest it.

    Raises :class:`~retain.errors.IngestError` if any generated row is quarantined (a generator bug).
    """
    spec = spec or DemoSpec()
    seconds = {}
    t0 = time.perf_counter()
    data = generate(spec, step)
    seconds["generate"] = time.perf_counter() - t0
    tmp = None
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="retain-demo-")
        out_dir = tmp.name
    try:
        if step:
            step("write")
        t0 = time.perf_counter()
        rows = write_parquet(data, out_dir)
        seconds["write"] = time.perf_counter() - t0
        if step:
            step("ingest")
        t0 = time.perf_counter()
        report = load_folder(wh, out_dir, spec.end)
        seconds["ingest"] = time.perf_counter() - t0
    finally:
        if tmp is not None:
            tmp.cleanup()
    if report.quarantined:
        raise IngestError(
            f"the demo generator produced {report.quarantined:,} rows that ingestion quarantined",
            hint="this is a bug in retain.demo; see the `quarantine` table for the reasons",
        )
    return DemoResult(data, Path(out_dir), rows, report, seconds)


__all__ = ["STEPS", "DemoResult", "build_demo"]
