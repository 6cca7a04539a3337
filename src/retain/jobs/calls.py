"""The calls section of the main job: calls analysed, QA per rep, behaviour findings, leads to recover."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from retain.conversations.service import main_summary
from retain.warehouse import Warehouse


@dataclass(frozen=True)
class CallsSection:
    """Counts and the short tables of the calls section; ``None`` tables when no call is recorded yet."""

    as_of: dt.date
    calls: int = 0
    hits: int = 0
    callbacks: int = 0
    missed_callbacks: int = 0
    qa: pd.DataFrame | None = None
    findings: pd.DataFrame | None = None
    leads: pd.DataFrame | None = None
    callbacks_missed: pd.DataFrame | None = None

    @property
    def empty(self) -> bool:
        return self.qa is None


def calls_section(wh: Warehouse, as_of: dt.date) -> CallsSection:
    """Analyse every call known by ``as_of`` and store the results (:func:`main_summary`)."""
    summary = main_summary(wh, as_of)
    return CallsSection(as_of) if summary is None else CallsSection(as_of, **summary)
