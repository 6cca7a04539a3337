"""The status section of the main job: what is loaded, its date range, what was quarantined, and what the data
supports (the data doctor's report, stored as the ``doctor`` result so the Admin page shows the same)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from retain import ingest
from retain.doctor import DoctorReport, examine
from retain.warehouse import Warehouse


@dataclass(frozen=True)
class StatusSection:
    """The warehouse's status: one row per table (only the tables holding rows, when any does)."""

    tables: pd.DataFrame
    doctor: DoctorReport | None = None


def status_section(wh: Warehouse, as_of: dt.date, reason: str = "the main job's day") -> StatusSection:
    """Tables, row counts, date ranges, quarantined rows and last loads (now), and the doctor's report as of
    ``as_of``, stored as the ``doctor`` result."""
    frame = ingest.status(wh)
    loaded = frame["rows"] > 0
    report = examine(wh, as_of, reason=reason)
    wh.store_result("doctor", pd.DataFrame(report.to_rows()), as_of)
    return StatusSection(frame[loaded] if loaded.any() else frame, report)
