"""A total lowered by a critical factor, or missing for want of data, says so in the stored result."""

from __future__ import annotations

import numpy as np
import pandas as pd
from health_data import AS_OF

from retain.health import score_frame
from retain.health.history import SCHEMAS, store
from retain.health.spec import ScorecardSetSpec, ScorecardSpec
from retain.warehouse import Warehouse

LIN = {"kind": "linear", "low": 0, "high": 10}
SPEC = ScorecardSetSpec(scorecards=(ScorecardSpec.model_validate({
    "name": "c", "components": [{"name": "a", "measures": [{"name": "x", "measure": "tickets", "scoring": LIN}]}],
    "critical": [{"name": "champion_left", "reason": "champion left (180 d)", "measure": "champion_left",
                  "op": "==", "threshold": 1, "cap": 50},
                 {"name": "detractor", "measure": "last_nps", "op": "<=", "threshold": 4, "cap": 40}]}),))


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"account_id": ["capped", "below", "plain", "empty", "nps"], "as_of": AS_OF,
                         "segment": "smb", "arr": 100.0, "tickets": [10.0, 2.0, 8.0, np.nan, 10.0],
                         "champion_left": [1.0, 1.0, 0.0, np.nan, 0.0], "last_nps": [9.0, 9.0, 9.0, np.nan, 2.0]})


def test_caps_and_defaults_are_marked():
    r = score_frame(_frame(), SPEC).scores.set_index("account_id")
    assert r.loc["capped", "total"] == 50 and r.loc["capped", "capped_by"] == "champion_left"
    assert r.loc["capped", "score_note"] == "capped at 50: champion left (180 d)"
    assert r.loc["nps", "score_note"] == "capped at 40: detractor"  # no reason text: the name in words
    # the factor fired but the total was already below its cap: not capped, the reason alone
    assert r.loc["below", "total"] == 20 and pd.isna(r.loc["below", "capped_by"])
    assert r.loc["below", "score_note"] == "champion left (180 d)"
    assert r.loc["plain", ["capped_by", "score_note"]].isna().all()
    assert np.isnan(r.loc["empty", "total"]) and r.loc["empty", "score_note"] == "default: no data"


def test_stored_result_keeps_old_columns_and_adds_the_notes(tmp_path):
    wh = Warehouse.open(tmp_path / "w.duckdb")
    store(wh, score_frame(_frame(), SPEC), AS_OF)
    stored = wh.execute(wh.result("health_scores", AS_OF)).set_index("account_id")
    assert set(SCHEMAS["health_scores"].names) <= {"account_id", *stored.columns}
    assert {"total", "critical_factor", "capped_by", "score_note"} <= set(stored.columns)
    assert stored.loc["capped", "score_note"] == "capped at 50: champion left (180 d)"
