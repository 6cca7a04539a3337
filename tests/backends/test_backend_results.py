"""The results layer on every engine: a declared result stored per day, replaced for the same day, kept for the
others, and read back with exactly its declared columns."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from backend_data import SMALL, assert_same

from retain.errors import ResultError
from retain.health.history import score, store
from retain.metrics.periods import Grain
from retain.metrics.retention import LOGO_COLUMNS, decomposition

DAY, NEXT = SMALL.as_of, SMALL.as_of + dt.timedelta(days=1)


def _read(wh, name: str, day: dt.date) -> pd.DataFrame:
    return wh.execute(wh.result(name, day))


def test_results_store_replace_and_read_back(backend):
    wh = backend["small"]
    frame = wh.execute(decomposition(wh, DAY, Grain.QUARTER, 2))[LOGO_COLUMNS].assign(grain="quarter")
    for day in (DAY, NEXT, DAY):  # the second store of DAY replaces it; NEXT stays
        table = wh.store_result("retention", frame, day)
    assert table == "result_retention"
    stored = _read(wh, "retention", DAY).drop(columns="as_of")
    assert_same(stored, frame[list(stored.columns)], "result_retention")
    assert len(_read(wh, "retention", NEXT)) == len(frame)
    assert wh.execute(wh.raw_result("retention")).shape[0] == 2 * len(frame)


def test_health_results_round_trip(backend):
    """Scores, components and measures stored by the health domain read back as computed (the dashboard's input)."""
    wh = backend["small"]
    result = score(wh, DAY)
    store(wh, result, DAY)
    stored = _read(wh, "health_scores", DAY)
    want = result.scores[[c for c in stored.columns if c in result.scores.columns]]
    assert_same(stored[want.columns].drop(columns="as_of"), want.drop(columns="as_of"), "health_scores")


def test_a_result_that_does_not_fit_its_declaration_is_refused(backend):
    with pytest.raises(ResultError, match="does not fit its spec"):
        backend["small"].store_result("churn_reasons", pd.DataFrame({"account_id": ["a"]}), DAY)
