import datetime as dt

import pandas as pd
import pytest
import yaml
from metrics_book import AS_OF, accounts_frame

from retain.errors import ConfigError
from retain.metrics.products_held import account_products, products_held
from retain.metrics.rfm import RFMRule, RFMSpec, load_rfm_spec, rfm_accounts, rfm_segments, rfm_values

D = dt.date


def test_rfm_values_from_subscriptions(saas):
    v = saas.execute(rfm_values(saas, AS_OF, 12)).set_index("account_id")
    assert v.loc["a", "recency_days"] == 0  # still subscribed
    assert v.loc["b", "recency_days"] == (AS_OF - D(2024, 2, 14)).days  # last day of service
    assert v.loc["a", "frequency"] == 12 and v.loc["f", "frequency"] == 9  # months served in the window
    assert v.loc["e", "frequency"] == 2


def test_rfm_scores_share_ties_and_rules_apply_in_order(saas):
    spec = RFMSpec(bins=3, segments=(RFMRule(segment="best", r=(3, 3), f=(3, 3)), RFMRule(segment="recent", r=(3, 3))),
                   fallback="rest")
    a = saas.execute(rfm_accounts(saas, AS_OF, spec)).set_index("account_id")
    assert set(a.loc[["a", "c", "d"], "r"]) == {3}  # three accounts tied at recency 0 share the top score
    assert a.loc["b", "r"] == 1
    assert a.loc["a", "segment"] == "best" and a.loc["d", "segment"] == "recent" and a.loc["b", "segment"] == "rest"
    assert a.loc["a", "rfm"] == "333"
    seg = saas.execute(rfm_segments(saas, AS_OF, spec)).set_index("segment")
    assert seg.accounts.sum() == 6 and seg.share.sum() == pytest.approx(1.0)


def test_default_rules_cover_every_score():
    def covers(bounds, score):
        return bounds is None or bounds[0] <= score <= bounds[1]

    for r in range(1, 6):
        for f in range(1, 6):
            assert any(covers(rule.r, r) and covers(rule.f, f) and rule.m is None for rule in RFMSpec().segments)


def test_rfm_yaml_errors(tmp_path):
    path = tmp_path / "rfm.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "bins": 4, "segments": [{"segment": "top", "r": [4, 5]}]}))
    with pytest.raises(ConfigError, match="within 1..4"):
        load_rfm_spec(path)
    path.write_text(yaml.safe_dump({"version": 1, "bins": 4, "segments": [{"segment": "top", "r": [3, 4]}]}))
    assert load_rfm_spec(path).segments[0].segment == "top"


@pytest.fixture
def held(wh):
    """As of 2024-12-31, horizon 12 months (snapshot 2023-12-31)."""
    wh.con.insert("accounts", accounts_frame({k: "smb" for k in ["p", "q", "r", "s", "t"]}))
    rows = [
        ("p1", "p", "core", D(2020, 1, 1), None), ("p2", "p", "addon", D(2021, 1, 1), None),
        ("p3", "p", "extra", D(2022, 1, 1), None),
        ("q1", "q", "core", D(2023, 6, 1), D(2024, 3, 1)), ("q2", "q", "addon", D(2023, 6, 1), D(2024, 3, 1)),
        ("r1", "r", "core", D(2023, 6, 1), D(2024, 5, 1)),
        ("s1", "s", "core", D(2022, 6, 1), None),
        ("t1", "t", "core", D(2024, 2, 1), None),  # joined after the snapshot: not in the table
    ]
    wh.con.insert("subscriptions", pd.DataFrame(rows, columns=["subscription_id", "account_id", "product_id",
                                                               "started_on", "ended_on"]).assign(mrr=10.0))
    return wh


def test_products_held_with_tenure_bands(held):
    a = held.execute(account_products(held, D(2024, 12, 31), 12)).set_index("account_id")
    assert a.products_held.to_dict() == {"p": 3, "q": 2, "r": 1, "s": 1}
    assert a.tenure_band.to_dict() == {"p": "3y+", "q": "0-1y", "r": "0-1y", "s": "1-2y"}
    t = held.execute(products_held(held, D(2024, 12, 31), 12))
    overall = t[t.tenure_band == "all"].set_index("products_held")
    assert overall.accounts.to_dict() == {1: 2, 2: 1, 3: 1}
    assert overall.retention.to_dict() == {1: 0.5, 2: 0.0, 3: 1.0}
    young = t[t.tenure_band == "0-1y"].set_index("products_held")
    assert young.churned.to_dict() == {1: 1, 2: 1}
    capped = held.execute(products_held(held, D(2024, 12, 31), 12, max_products=2))
    assert set(capped.products_held) == {1, 2}


def test_all_tenures_row_counts_every_tenure_band(held):
    """The ``all`` rows are the sum of the bands, the 2-3y and 3y+ bands included."""
    held.con.insert("accounts", accounts_frame({"u": "smb"}))
    held.con.insert("subscriptions", pd.DataFrame([("u1", "u", "core", D(2021, 3, 1), D(2024, 6, 1), 10.0)], columns=[
        "subscription_id", "account_id", "product_id", "started_on", "ended_on", "mrr"]))
    t = held.execute(products_held(held, D(2024, 12, 31), 12))
    bands = t[t.tenure_band != "all"]
    assert set(bands.tenure_band) == {"0-1y", "1-2y", "2-3y", "3y+"}  # u: 2y10m at the snapshot, p: 3y+
    overall = t[t.tenure_band == "all"].set_index("products_held")
    assert overall.accounts.to_dict() == {1: 3, 2: 1, 3: 1}
    summed = bands.groupby("products_held")[["accounts", "retained", "start_mrr", "end_mrr"]].sum()
    pd.testing.assert_frame_equal(overall[summed.columns], summed, check_dtype=False)
