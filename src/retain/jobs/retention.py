"""The retention section of the main job: the last four quarters decomposed, and every metric result stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from retain.metrics.periods import Grain
from retain.metrics.results import store_results
from retain.metrics.retention import decomposition
from retain.warehouse import Warehouse

PERIODS = 4


@dataclass(frozen=True)
class RetentionSection:
    """The decomposition (one row per quarter, the running one last and ``complete`` False) and the metric
    results stored for ``as_of`` (name: rows). Nothing is stored when no subscription is known yet."""

    as_of: dt.date
    decomposition: pd.DataFrame
    stored: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.decomposition.empty


def retention_section(wh: Warehouse, as_of: dt.date) -> RetentionSection:
    frame = wh.execute(decomposition(wh, as_of, Grain.QUARTER, PERIODS))
    if frame.empty:
        return RetentionSection(as_of, frame)
    return RetentionSection(as_of, frame, dict(store_results(wh, as_of)))


def store_metrics(wh: Warehouse, as_of: dt.date) -> dict[str, int]:
    """Compute every retention metric result as of ``as_of`` and store it (``retain store-metrics``); rows per name."""
    return dict(store_results(wh, as_of))
