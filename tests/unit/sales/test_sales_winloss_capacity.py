"""Win/loss counts with Wilson intervals, and the new-vs-existing call, on the tiny company and hand frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sales_tiny import DAY

from retain.sales.capacity import Situation, _situations
from retain.sales.winloss import wilson, win_loss


def test_wilson_interval_matches_the_formula():
    low, high = wilson(np.array([6]), np.array([10]))
    assert low[0] == pytest.approx(0.3127, abs=1e-4) and high[0] == pytest.approx(0.8318, abs=1e-4)
    assert np.isnan(wilson(np.array([0]), np.array([0]))[0][0])


def test_win_rates_and_loss_reasons_by_dimension(sales_wh):
    w = win_loss(sales_wh, DAY, with_rep=True).set_index(["dimension", "dimension_value", "reason"])
    # closed by 05-15: d3 (won, r1, new), d4 (won, r2, new, add-on on a1/smb), d5 (lost, r2, core, price)
    assert w.loc[("opportunity_type", "new_business", "all"), ["closed", "won"]].tolist() == [2, 1]
    assert w.loc[("rep", "r2", "all"), "share"] == pytest.approx(0.5)
    assert w.loc[("product", "core", "price"), ["closed", "won", "share"]].tolist() == [1, 1, 1.0]
    assert w.loc[("segment", "smb", "all"), ["closed", "won"]].tolist() == [1, 1]
    assert ("rep", "r1", "all") not in win_loss(sales_wh, DAY).set_index(
        ["dimension", "dimension_value", "reason"]).index  # not per rep unless asked: reps are people


def frame(per_rep, capacity, win, before, closed=20):
    return pd.DataFrame({"team": "East", "as_of": pd.to_datetime(["2026-05-31"]), "reps": 3,
                         "open_deals_per_rep": [per_rep], "accounts": 30, "owners": 3,
                         "capacity_per_rep": [capacity], "win_rate": [win], "historical_win_rate": [before],
                         "closed_recent": [closed]})


@pytest.mark.parametrize(("per_rep", "win", "before", "closed", "situation"), [
    (5, 0.5, 0.4, 20, Situation.GROW_NEW_BUSINESS),  # room left, converting better than before
    (5, 0.35, 0.4, 20, Situation.KEEP_AND_ADD),  # room left, converting a bit worse
    (12, 0.5, 0.4, 20, Situation.PROTECT_EXISTING),  # saturated
    (5, 0.2, 0.4, 20, Situation.PROTECT_EXISTING),  # failing in numbers
    (5, 0.2, 0.4, 3, Situation.KEEP_AND_ADD),  # too few closed to call it failing
])
def test_the_three_situations(per_rep, win, before, closed, situation):
    out = _situations(frame(per_rep, 10.0, win, before, closed))
    assert out.loc[0, "situation"] == situation.value
    assert out.loc[0, "saturation"] == pytest.approx(per_rep / 10.0)
    assert out.loc[0, "advice"].startswith({"grow_new_business": "prioritise new business",
                                            "keep_and_add": "keep existing customers and add new",
                                            "protect_existing": "protect existing customers first"}[situation])
