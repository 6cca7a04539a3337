"""'Why it changed' sums exactly to the change of the total; 'what to improve' arithmetic; owners' books."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from health_data import AS_OF

from retain.health import explain_change, score, what_to_improve
from retain.health.books import book_table
from retain.health.explain import attribute_change, reasons, riskiest
from retain.health.scoring import score_frame
from retain.health.spec import ScorecardSetSpec

LIN = {"kind": "linear", "low": 0, "high": 10}
SPEC = ScorecardSetSpec.model_validate({"scorecards": [{
    "name": "c",
    "components": [
        {"name": "usage", "weight": 3, "measures": [
            {"name": "u1", "measure": "active_users", "weight": 1, "scoring": LIN},
            {"name": "u2", "measure": "meetings", "weight": 1, "scoring": LIN}]},
        {"name": "support", "weight": 1, "measures": [{"name": "t", "measure": "tickets", "scoring": LIN}]},
    ],
    "critical": [{"name": "overdue", "measure": "days_overdue", "op": ">=", "threshold": 60, "cap": 30}],
}]})


def result(day, **cols):
    n = len(next(iter(cols.values())))
    f = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "as_of": day, "segment": "smb", "arr": 10.0,
                      **cols})
    return score_frame(f, SPEC)


def test_change_is_attributed_exactly_including_reweighting_and_caps():
    before = result(dt.date(2024, 1, 1), active_users=[2.0], meetings=[4.0], tickets=[np.nan], days_overdue=[0.0])
    after = result(dt.date(2024, 2, 1), active_users=[8.0], meetings=[np.nan], tickets=[6.0], days_overdue=[90.0])
    ch = attribute_change(before, after, "a0")
    # before: usage 30 -> total 30 (support N/A); after: usage 80 (u2 N/A), support 60 -> raw 75, capped 30
    assert ch.before["total"] == pytest.approx(30.0) and ch.after["raw_total"] == pytest.approx(75.0)
    assert ch.total_change == pytest.approx(0.0)
    assert ch.critical_effect == pytest.approx(-45.0)
    assert ch.components["change"].sum() + ch.critical_effect == pytest.approx(ch.total_change)
    assert ch.measures["change"].sum() + ch.critical_effect == pytest.approx(ch.total_change)
    comps = ch.components.set_index("component")
    # usage: weight 100 % -> 75 %, score 30 -> 80: points 30 -> 60
    assert comps.loc["usage", "change"] == pytest.approx(30.0)
    assert comps.loc["usage", "score_effect"] == pytest.approx((100 + 75) / 2 * 50 / 100)
    assert comps.loc["usage", "weight_effect"] == pytest.approx((30 + 80) / 2 * -25 / 100)
    # support became applicable: all weight effect
    assert comps.loc["support", "change"] == pytest.approx(15.0)
    assert comps.loc["support", "score_effect"] == 0.0
    meas = ch.measures.set_index("measure")
    assert (meas["score_effect"] + meas["weight_effect"]).to_numpy() == pytest.approx(meas["change"].to_numpy())


def test_attribution_sums_on_random_data():
    rng = np.random.default_rng(7)
    n = 200

    def draw(day):
        vals = {k: np.where(rng.random(n) < 0.2, np.nan, rng.uniform(0, 12, n))
                for k in ("active_users", "meetings", "tickets")}
        return result(day, **vals, days_overdue=rng.choice([0.0, 90.0], n))

    before, after = draw(dt.date(2024, 1, 1)), draw(dt.date(2024, 2, 1))
    for account in ("a0", "a17", "a123", "a199"):
        ch = attribute_change(before, after, account)
        if np.isnan(ch.total_change):
            continue
        assert ch.components["change"].sum() + ch.critical_effect == pytest.approx(ch.total_change, abs=1e-9)
        assert ch.measures["change"].sum() + ch.critical_effect == pytest.approx(ch.total_change, abs=1e-9)


def test_explain_on_the_warehouse(tiny):
    ch = explain_change(tiny, "A", AS_OF - dt.timedelta(days=30), AS_OF)
    assert ch.components["change"].sum() + ch.critical_effect == pytest.approx(ch.total_change)
    comps = ch.components.set_index("component")
    assert comps.loc["billing", "change"] == pytest.approx(-1.5)  # invoice i3 became overdue: 100 -> 70 at 5 %


def test_what_to_improve_arithmetic():
    r = result(AS_OF, active_users=[2.0, 9.0, 10.0, 10.0], meetings=[3.0, 9.0, 10.0, 10.0],
               tickets=[1.0, 8.0, 10.0, 2.0], days_overdue=[0.0, 0.0, 0.0, 0.0])
    imp = what_to_improve(r, "a0", target=60).set_index("component")
    # a0: usage 25 (75 %), support 10 (25 %): total 21.25
    assert imp.loc["usage", "total_now"] == pytest.approx(21.25)
    assert imp.loc["usage", "total_if"] == pytest.approx(21.25 + 0.75 * 35)
    assert imp.loc["support", "total_if"] == pytest.approx(21.25 + 0.25 * 50)
    assert list(imp.index) == ["usage", "support"]  # best gain first
    peers = what_to_improve(r, "a0").set_index("component")  # targets: peers' 75th percentile
    assert peers.loc["usage", "target"] == pytest.approx(np.quantile([25, 90, 100, 100], 0.75))
    assert peers.loc["support", "weakest_measure"] == "t"


def test_what_to_improve_keeps_the_critical_cap():
    r = result(AS_OF, active_users=[0.0], meetings=[0.0], tickets=[0.0], days_overdue=[90.0])
    imp = what_to_improve(r, "a0", target=100).set_index("component")
    assert imp.loc["usage", "total_if"] == 30.0  # raw would be 75, the overdue invoice caps it at 30
    assert imp.loc["usage", "uncapped_if"] == pytest.approx(75.0)


def test_reasons_and_riskiest(tiny):
    from retain.health import load_scorecard

    spec = load_scorecard(None)
    r = score(tiny, AS_OF, spec)
    text = reasons(r, ["B", "A"], critical_reasons={"invoice_60_days_overdue": "invoice 60 days overdue"})
    assert text["B"] == "invoice 60 days overdue; usage 0, surveys 0"
    assert text["A"] == ""
    top = riskiest(r, spec, 2)
    assert list(top["account_id"]) == ["B", "C"] and top["reasons"][0].startswith("invoice 60+ days overdue")


def test_book_table_by_hand():
    now = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "owner_id": ["x", "x", "y", None],
                        "total": [80.0, 30.0, 50.0, 60.0], "grade": ["green", "red", "yellow", "yellow"],
                        "critical_factor": [None, None, "overdue", None], "arr": [100.0, 200.0, 300.0, 50.0]})
    ago30 = now.assign(total=[70.0, 40.0, 50.0, 60.0])
    ago90 = now.assign(total=[50.0, 50.0, 70.0, 60.0], grade=["yellow", "yellow", "green", "yellow"])
    books = book_table(now, ago30, ago90.iloc[:3]).set_index("owner_id")
    assert books.loc["x", "accounts"] == 2 and books.loc["x", "avg_health"] == 55.0
    assert books.loc["x", "change_30d"] == 0.0 and books.loc["x", "change_90d"] == 5.0
    assert books.loc["x", "moved_up_90d"] == 1 and books.loc["x", "moved_down_90d"] == 1
    assert books.loc["x", "arr_at_risk"] == 200.0  # red b
    assert books.loc["y", "arr_at_risk"] == 300.0  # capped c
    assert books.loc["y", "moved_down_90d"] == 1
    assert books.loc["(unassigned)", "accounts"] == 1
    assert list(books.index)[0] == "y"  # most ARR at risk first


def test_a_book_counts_an_account_for_its_owner_and_its_csm():
    """One definition of a person's book (owner or CSM), shared with the web Team page (issue 11)."""
    from retain.health.books import book_members

    accounts = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "owner_id": ["x", "x", "y", None],
                             "csm_id": ["z", "x", None, None]})
    members = book_members(accounts)
    assert sorted(map(tuple, members.fillna("-").to_numpy())) == [("a", "x"), ("a", "z"), ("b", "x"), ("c", "y"),
                                                                 ("d", "-")]
    now = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "owner_id": ["z", "x", "y", None],
                        "total": [80.0, 30.0, 50.0, 60.0], "grade": ["green", "red", "yellow", "yellow"],
                        "critical_factor": [None] * 4, "arr": [100.0, 200.0, 300.0, 50.0]})
    books = book_table(now, now, now, members=members).set_index("owner_id")
    assert books.loc["x", "accounts"] == 2 and books.loc["z", "accounts"] == 1 and books.loc["y", "accounts"] == 1
    assert books.loc["(unassigned)", "accounts"] == 1 and books["accounts"].sum() == 5  # a counts twice
