"""Property: ingesting the same (partly invalid) file twice leaves the warehouse exactly as after the first time."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.ingest.conftest import NOW, snapshot

from retain.ingest import ingest_path
from retain.warehouse import Warehouse

ids = st.sampled_from([f"A{i}" for i in range(6)] + ["", "A1 "])
dates = st.sampled_from(["2024-01-01", "2024-02-30", "2031-01-01", "2024-03-05T10:00:00+05:00", "yesterday", ""])
numbers = st.sampled_from(["3", "-1", "2.5", "x", "", "1e3", "40"])
segments = st.sampled_from(["smb", "ENTERPRISE", "", "gold"])
row = st.tuples(ids, st.text(alphabet="ab客户 ,\"", max_size=6), dates, numbers, segments, st.sampled_from(["", "A0"]))


@pytest.fixture(scope="module")
def shared_wh() -> Warehouse:
    return Warehouse.open(":memory:")


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=12))
def test_reingest_is_idempotent(tmp_path_factory, shared_wh, data):
    folder = tmp_path_factory.mktemp("idem")
    frame = pd.DataFrame(data, columns=["account_id", "name", "created_at", "employees", "segment",
                                        "parent_account_id"])
    frame.to_csv(folder / "accounts.csv", index=False)
    wh = shared_wh
    for table in ("accounts", "loads", "quarantine"):  # a fresh warehouse for each example
        if table in wh.con.list_tables():
            wh.con.con.execute(f"DELETE FROM {table}")
    first = ingest_path(wh, folder, now=NOW)
    for r in first.results:
        assert r.read == r.loaded + r.quarantined == len(frame)
    after_first = snapshot(wh)
    second = ingest_path(wh, folder, now=NOW)
    assert second.inserted == 0 and second.updated == 0
    assert second.quarantined == first.quarantined
    after_second = snapshot(wh)
    del after_first["loads"], after_second["loads"]  # the ledger records every load, by design
    # the quarantine's load id and time differ; its content must not
    strip = [lambda r: r[1:7]]
    assert sorted(map(strip[0], after_first.pop("quarantine"))) == sorted(map(strip[0], after_second.pop("quarantine")))
    assert after_first == after_second
