"""Generate, write and ingest the demo company in one call (what `retain demo` and the test fixture use).

A warehouse remembers which demo it holds (stored result ``demo_spec``): running the same demo again skips the
load; a warehouse that holds anything else is left alone unless ``replace=True`` empties it first.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from retain.demo.company import STEPS, DemoData, generate
from retain.demo.spec import DemoSpec
from retain.demo.writer import load_folder, write_parquet
from retain.errors import IngestError, WarehouseError
from retain.schema import TABLES
from retain.warehouse import Warehouse
from retain.warehouse.store import RESULT_PREFIX

SPEC_RESULT = "demo_spec"


@dataclass
class DemoResult:
    data: DemoData | None  # None when the warehouse already held this demo (nothing generated)
    out_dir: Path | None
    rows: dict[str, int]
    report: object  # retain.ingest.IngestReport, None when skipped
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        return self.report is None


def held_spec(wh: Warehouse) -> str | None:
    """The JSON of the demo spec this warehouse was loaded with, if any."""
    if RESULT_PREFIX + SPEC_RESULT not in wh.con.list_tables():
        return None
    frame = wh.execute(wh.raw_result(SPEC_RESULT))
    return str(frame["spec"].iloc[0]) if len(frame) else None


def _same_spec(held: str | None, spec: DemoSpec) -> bool:
    """True when the stored spec JSON is ``spec`` (a spec stored before a field existed reads as its default)."""
    if held is None:
        return False
    try:
        return DemoSpec.model_validate_json(held) == spec
    except ValueError:
        return False


def _has_data(wh: Warehouse) -> bool:
    return any(wh.count(name) for name in ("accounts", "subscriptions", "leads"))


def empty_warehouse(wh: Warehouse) -> None:
    """Delete every canonical row, the load ledger and every stored result (``--replace``)."""
    existing = set(wh.con.list_tables())
    for name, spec in TABLES.items():
        if not spec.input_only and name in existing:
            wh.con.truncate_table(name)
    for name in existing:
        if name in ("loads", "quarantine"):  # the ingestion ledger: keep the tables, forget the rows
            wh.con.raw_sql(f'DELETE FROM "{name}"')
        elif name.startswith(RESULT_PREFIX):
            wh.con.raw_sql(f'DROP TABLE "{name}"')


def build_demo(wh: Warehouse, spec: DemoSpec | None = None, out_dir: str | Path | None = None,
               step: Callable[[str], None] | None = None, *, replace: bool = False) -> DemoResult:
    """Generate the company, write it as Parquet to ``out_dir`` (a temporary folder when None) and ingest it.

    Raises :class:`~retain.errors.WarehouseError` when the warehouse holds other data and ``replace`` is False,
    and :class:`~retain.errors.IngestError` if any generated row is quarantined (a generator bug).
    """
    spec = spec or DemoSpec()
    wanted = spec.model_dump_json()
    if not replace and _has_data(wh):
        held = held_spec(wh)
        if not _same_spec(held, spec):
            raise WarehouseError(
                "this warehouse already holds data" + (" from another demo" if held else " (not the demo company)"),
                hint="use another --db, or pass --replace to empty it first (deletes every row in it)",
            )
        if out_dir is None:  # the same demo again: nothing to do (with out_dir: rewrite files, re-ingest = no-op)
            return DemoResult(None, None, {}, None)
    if replace:
        empty_warehouse(wh)
    seconds = {}
    t0 = time.perf_counter()
    data = generate(spec, step)
    seconds["generate"] = time.perf_counter() - t0
    tmp = None
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="retain-demo-")
    folder = Path(tmp.name if tmp else out_dir)
    try:
        if step:
            step("write")
        t0 = time.perf_counter()
        rows = write_parquet(data, folder)
        seconds["write"] = time.perf_counter() - t0
        if step:
            step("ingest")
        t0 = time.perf_counter()
        report = load_folder(wh, folder, spec.end)
        seconds["ingest"] = time.perf_counter() - t0
    finally:
        if tmp is not None:
            tmp.cleanup()
    if report.quarantined:
        raise IngestError(
            f"the demo generator produced {report.quarantined:,} rows that ingestion quarantined",
            hint="this is a bug in retain.demo; see the `quarantine` table for the reasons",
        )
    wh.store_result(SPEC_RESULT, pd.DataFrame({"spec": [wanted]}))
    return DemoResult(data, None if tmp else folder, rows, report, seconds)


__all__ = ["STEPS", "DemoResult", "build_demo", "empty_warehouse", "held_spec"]
