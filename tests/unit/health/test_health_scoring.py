"""Scoring rules, re-weighting, normalisation, critical caps and grades, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from health_data import AS_OF

from retain.health import load_scorecard, score, score_frame
from retain.health.scoring import grade, score_values
from retain.health.spec import (
    BandsRule,
    GradesSpec,
    LinearRule,
    PercentileRule,
    ScorecardSetSpec,
    ScorecardSpec,
)


def card(components, critical=(), **kw) -> ScorecardSetSpec:
    return ScorecardSetSpec(scorecards=(ScorecardSpec.model_validate(
        {"name": "c", "components": components, "critical": critical, **kw}),))


def frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "as_of": AS_OF, "segment": "smb",
                         "arr": 100.0, **cols})


LIN = {"kind": "linear", "low": 0, "high": 10}


def test_bands_are_min_inclusive_max_exclusive():
    rule = BandsRule.model_validate({"bands": [{"max": 1, "score": 100}, {"min": 1, "max": 3, "score": 50},
                                               {"min": 5, "score": 0}]})
    got = score_values(rule, pd.Series([0, 1, 2.99, 3, 4, 5, 99, np.nan]))
    np.testing.assert_array_equal(got, [100, 50, 50, np.nan, np.nan, 0, 0, np.nan])  # gap [3, 5) is N/A


def test_linear_both_directions_and_clipping():
    up = LinearRule(low=10, high=20)
    down = LinearRule(low=10, high=20, direction="lower_is_better")
    x = pd.Series([5, 10, 15, 20, 30])
    np.testing.assert_allclose(score_values(up, x), [0, 0, 50, 100, 100])
    np.testing.assert_allclose(score_values(down, x), [100, 100, 50, 0, 0])


def test_percentile_within_segment():
    x = pd.Series([1.0, 2.0, 3.0, 10.0, 20.0, np.nan])
    seg = pd.Series(["s", "s", "s", "e", "e", "e"])
    np.testing.assert_allclose(score_values(PercentileRule(), x, seg), [0, 50, 100, 0, 100, np.nan])
    low = PercentileRule(direction="lower_is_better")
    np.testing.assert_allclose(score_values(low, x, seg), [100, 50, 0, 100, 0, np.nan])
    np.testing.assert_allclose(score_values(PercentileRule(within="all"), x, seg), [0, 25, 50, 75, 100, np.nan])


def test_not_applicable_measure_reweights_and_never_counts_as_zero():
    spec = card([{"name": "u", "weight": 3, "measures": [
        {"name": "m1", "measure": "active_users", "weight": 1, "scoring": LIN},
        {"name": "m2", "measure": "meetings", "weight": 3, "scoring": LIN}]},
        {"name": "s", "weight": 1, "measures": [{"name": "m3", "measure": "tickets", "scoring": LIN}]}])
    f = frame(active_users=[10.0, 10.0, np.nan], meetings=[0.0, np.nan, np.nan], tickets=[5.0, 5.0, 5.0])
    r = score_frame(f, spec)
    s = r.scores.set_index("account_id")["raw_total"]
    # a0: u = (1*100 + 3*0)/4 = 25; total = (3*25 + 1*50)/4 = 31.25
    assert s["a0"] == pytest.approx(31.25)
    # a1: m2 N/A -> u = 100; total = (3*100 + 50)/4 = 87.5
    assert s["a1"] == pytest.approx(87.5)
    # a2: whole component N/A -> total = support alone = 50
    assert s["a2"] == pytest.approx(50.0)
    m = r.measures.set_index(["account_id", "measure"])
    assert m.loc[("a1", "m1"), "weight_pct"] == pytest.approx(75.0)
    assert m.loc[("a1", "m2"), "weight_pct"] == 0.0
    assert m.loc[("a1", "m2"), "nominal_weight_pct"] == pytest.approx(56.25)
    c = r.components.set_index(["account_id", "component"])
    assert c.loc[("a2", "s"), "weight_pct"] == pytest.approx(100.0)
    assert np.isnan(c.loc[("a2", "u"), "score"])


def test_weights_are_normalised():
    def spec(w1, w2):
        return card([{"name": "a", "weight": w1, "measures": [{"name": "x", "measure": "tickets", "scoring": LIN}]},
                     {"name": "b", "weight": w2, "measures": [{"name": "y", "measure": "meetings", "scoring": LIN}]}])
    f = frame(tickets=[2.0], meetings=[8.0])
    small, big = score_frame(f, spec(1, 3)), score_frame(f, spec(25, 75))
    assert small.scores["total"].iloc[0] == pytest.approx(0.25 * 20 + 0.75 * 80)
    assert big.scores["total"].iloc[0] == pytest.approx(small.scores["total"].iloc[0])
    np.testing.assert_allclose(big.components["weight_pct"], [25.0, 75.0])


def test_critical_cap_and_override_name_the_binding_factor():
    spec = card([{"name": "a", "measures": [{"name": "x", "measure": "tickets", "scoring": LIN}]}], critical=[
        {"name": "nps_low", "measure": "last_nps", "op": "<=", "threshold": 4, "cap": 40},
        {"name": "overdue", "measure": "days_overdue", "op": ">=", "threshold": 60, "cap": 30},
        {"name": "fraud", "measure": "escalations", "op": ">", "threshold": 10, "set_to": 0}])
    f = frame(tickets=[10.0, 10.0, 10.0, 2.0, 10.0], last_nps=[3.0, 3.0, np.nan, 3.0, 9.0],
              days_overdue=[0.0, 90.0, 90.0, 0.0, 0.0], escalations=[0.0, 0.0, 0.0, 0.0, 20.0])
    r = score_frame(f, spec).scores.set_index("account_id")
    assert r.loc["a0", "total"] == 40 and r.loc["a0", "critical_factor"] == "nps_low"
    assert r.loc["a1", "total"] == 30 and r.loc["a1", "critical_factor"] == "overdue"  # lowest cap binds
    assert r.loc["a2", "total"] == 30 and r.loc["a2", "critical_factor"] == "overdue"  # null NPS never fires
    assert r.loc["a3", "total"] == 20 and r.loc["a3", "critical_factor"] == "nps_low"  # below the cap already
    assert r.loc["a4", "total"] == 0 and r.loc["a4", "critical_factor"] == "fraud"
    assert r.loc["a0", "raw_total"] == 100 and r.loc["a0", "grade"] == "yellow"


def test_grade_cut_offs():
    g = grade(np.array([0, 39.99, 40, 69.99, 70, 100, np.nan]), GradesSpec(red_below=40, green_from=70))
    assert list(g) == ["red", "red", "yellow", "yellow", "green", "green", None]


def test_segment_rules_choose_one_scorecard_per_account():
    comps = [{"name": "a", "measures": [{"name": "x", "measure": "tickets", "scoring": LIN}]}]
    spec = ScorecardSetSpec.model_validate({
        "default": "std",
        "scorecards": [{"name": "std", "components": comps}, {"name": "ent", "components": comps},
                       {"name": "big", "components": comps}],
        "rules": [{"scorecard": "ent", "segment": ["enterprise"]}, {"scorecard": "big", "min_arr": 1000}]})
    f = frame(tickets=[1.0, 1.0, 1.0]).assign(segment=["enterprise", "smb", "smb"], arr=[5000.0, 5000.0, 10.0])
    got = score_frame(f, spec).scores.set_index("account_id")["scorecard"]
    assert got.to_dict() == {"a0": "ent", "a1": "big", "a2": "std"}


def test_default_scorecard_on_tiny_tables_by_hand(tiny):
    r = score(tiny, AS_OF, load_scorecard(None))
    s = r.scores.set_index("account_id")
    # B: usage 0 (40 %), support (1*25 + 2*0 + 2*70)/5 = 33 (25 %), surveys 0 (NPS 3, CSAT N/A), billing 0,
    # relationship ((1 - 106/225)*100 + 0)/2 = 26.44 (5 %), breadth 40 (5 %)
    assert s.loc["B", "raw_total"] == pytest.approx(0.25 * 33 + 0.05 * (1 - 106 / 225) * 50 + 0.05 * 40)
    assert s.loc["B", "critical_factor"] == "invoice_60_days_overdue" and s.loc["B", "grade"] == "red"
    assert s.loc["C", "scorecard"] == "enterprise"
    assert s.loc["A", "grade"] == "green"
    assert list(r.scores["account_id"]) == ["B", "C", "A"]  # riskiest first
