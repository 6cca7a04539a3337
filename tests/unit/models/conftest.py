"""A small synthetic company and its training frames, built once per session (read-only in every test)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pytest

from retain.models.dataset import TimeSplit, build_frame, time_split
from retain.warehouse import Warehouse

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import FAST_CHURN, START, build_company  # noqa: E402,F401


@pytest.fixture(scope="session")
def company() -> tuple[Warehouse, dt.date]:
    wh = Warehouse.open(":memory:")
    end = build_company(wh, n=200, days=900, seed=11)
    return wh, end


@pytest.fixture(scope="session")
def churn_split(company) -> TimeSplit:
    _, end = company
    return time_split(START, end, horizon_days=90, test_days=240, validation_days=120, step_days=60)


@pytest.fixture(scope="session")
def frames(company, churn_split) -> dict[str, pd.DataFrame]:
    """Features + labels at every date of the churn split: 'all', 'train', 'validation', 'test'."""
    wh, end = company
    s = churn_split
    frame = build_frame(wh, s.train + s.validation + s.test, end=end)
    out = {name: frame[frame["as_of"].isin(getattr(s, name))].reset_index(drop=True)
           for name in ("train", "validation", "test")}
    out["all"] = frame
    return out
