from __future__ import annotations

import datetime as dt

import pandas as pd
from test_leakage import AS_OF, _base

from retain.models.features import FEATURE_COLUMNS, USAGE_FEATURES, account_features, feature_frame, usage_feature_frame
from retain.models.labels import renewal_labels


def test_block_frame_equals_the_single_expression(company):
    wh, end = company
    day = end - dt.timedelta(days=200)
    one = wh.execute(account_features(wh, day)).sort_values("account_id").reset_index(drop=True)
    blocks = feature_frame(wh, day).sort_values("account_id").reset_index(drop=True)
    assert list(blocks.columns) == ["account_id", *FEATURE_COLUMNS]
    pd.testing.assert_frame_equal(one, blocks, check_dtype=False)
    usage = usage_feature_frame(wh, day).sort_values("account_id").reset_index(drop=True)
    assert list(usage.columns) == ["account_id", *USAGE_FEATURES]
    pd.testing.assert_frame_equal(usage, blocks[list(usage.columns)])


def test_hand_checked_features(wh):
    _base(wh)
    f = feature_frame(wh, AS_OF).set_index("account_id")
    a, b = f.loc["A"], f.loc["B"]
    assert a["arr"] == 1200 and a["licences"] == 10 and a["products_held"] == 1
    assert a["tenure_days"] == (AS_OF - dt.date(2022, 1, 1)).days
    assert a["days_to_renewal"] == (dt.date(2023, 12, 31) - AS_OF).days
    # usage every 3rd day over the last 60 days, 4 users: 10 days in the last 30, 20 in the last 90
    assert a["users_30d"] == 4 * 10 / 30 and a["users_90d"] == 4 * 20 / 90
    assert a["utilisation"] == a["users_30d"] / 10 and a["feature_breadth_30d"] == 1
    assert a["days_since_usage"] == 0 and a["last_nps"] == 8 and a["days_since_survey"] == 31
    assert b["users_30d"] == 0 and pd.isna(b["last_nps"]) and b["segment"] == "smb"


def test_renewal_label_only_for_contracts_due(wh):
    _base(wh)
    ren = wh.execute(renewal_labels(wh, AS_OF, 90)).set_index("account_id")["renewed"]
    assert ren.to_dict() == {"B": 1}  # B's term ends 2023-07-01 and nothing ended; A's term is far away
