"""Next product, survey insight and adoption tiers on hand-made and synthetic data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from test_leakage import _insert

from retain.models.adoption import TIERS, AdoptionTiers
from retain.models.next_product import next_products
from retain.models.survey_insight import score_outcomes, wilson


def test_next_product_follows_what_similar_accounts_bought(wh):
    _insert(wh, "accounts", [{"account_id": a, "name": a, "segment": "smb",
                              "created_at": pd.Timestamp("2022-01-01", tz="UTC")} for a in "ABCD"])
    rows = []
    for a in "ABCD":
        rows.append({"subscription_id": f"{a}1", "account_id": a, "product_id": "core",
                     "started_on": dt.date(2022, 1, 1), "mrr": 10.0})
    for a in "AB":  # A and B added analytics later; C added api later; D holds only core
        rows.append({"subscription_id": f"{a}2", "account_id": a, "product_id": "analytics",
                     "started_on": dt.date(2022, 6, 1), "mrr": 5.0})
    rows.append({"subscription_id": "C2", "account_id": "C", "product_id": "api",
                 "started_on": dt.date(2022, 6, 1), "mrr": 5.0})
    _insert(wh, "subscriptions", rows)
    out = next_products(wh, dt.date(2023, 1, 1)).set_index("account_id")
    assert out.loc["D", "next_product"] == "analytics"  # 2 of 4 core holders bought it vs 1 for api
    assert out.loc["C", "next_product"] == "analytics"
    assert out.loc["A", "next_product"] == "api"
    assert out.loc["D", "next_product_rate"] > out.loc["A", "next_product_rate"]
    assert next_products(wh, dt.date(2023, 1, 1), max_products=2).account_id.tolist() == ["D"]


def test_wilson_interval():
    lo, hi = wilson(np.array([0.0, 5.0]), np.array([10.0, 10.0]))
    assert lo[0] == 0 and 0.2 < hi[0] < 0.35
    assert lo[1] < 0.5 < hi[1]


def test_survey_scores_predict_later_churn(company):
    wh, end = company
    table = score_outcomes(wh, end).set_index("score")
    assert set(table.index) <= set(range(11)) and table["responses"].sum() > 500
    low = table.loc[:4]
    high = table.loc[9:]
    low_rate = (low["churn_90d"] * low["responses"]).sum() / low["responses"].sum()
    high_rate = (high["churn_90d"] * high["responses"]).sum() / high["responses"].sum()
    assert low_rate > 2 * high_rate
    assert (table["churn_90d_lo"] <= table["churn_90d"]).all() and (table["churn_90d"] <= table["churn_90d_hi"]).all()


def test_adoption_tiers_are_learned_and_ordered(frames):
    frame = frames["all"]
    tiers = AdoptionTiers().fit(frame)
    assert 0 < tiers.cuts_[0] < tiers.cuts_[1] < 100
    table = tiers.table(frame)
    assert table["tier"].tolist() == list(TIERS)
    assert table["retention_90d"].is_monotonic_increasing
    assert table["accounts"].sum() == frame["churned"].notna().sum()
    assert set(tiers.assign(frame.head(50))) <= set(TIERS)


def test_survey_outcomes_by_hand(wh):
    _insert(wh, "accounts", [{"account_id": a, "name": a, "segment": "smb",
                              "created_at": pd.Timestamp("2022-01-01", tz="UTC")} for a in "ABC"])
    _insert(wh, "subscriptions", [
        # A upgrades core (more MRR, same product): expansion, not a new product
        {"subscription_id": "A1", "account_id": "A", "product_id": "core", "started_on": dt.date(2022, 1, 1),
         "mrr": 10.0, "ended_on": dt.date(2022, 3, 1)},
        {"subscription_id": "A2", "account_id": "A", "product_id": "core", "started_on": dt.date(2022, 3, 1),
         "mrr": 20.0},
        # B adds api: a new product; C leaves 30 days after its survey
        {"subscription_id": "B1", "account_id": "B", "product_id": "core", "started_on": dt.date(2022, 1, 1),
         "mrr": 10.0},
        {"subscription_id": "B2", "account_id": "B", "product_id": "api", "started_on": dt.date(2022, 4, 1),
         "mrr": 5.0},
        {"subscription_id": "C1", "account_id": "C", "product_id": "core", "started_on": dt.date(2022, 1, 1),
         "mrr": 10.0, "ended_on": dt.date(2022, 3, 3)},
    ])
    _insert(wh, "survey_responses", [
        {"response_id": f"r{a}", "account_id": a, "survey_type": "nps", "score": s,
         "responded_at": pd.Timestamp("2022-02-01", tz="UTC")} for a, s in (("A", 9), ("B", 9), ("C", 2))
    ])
    t = score_outcomes(wh, dt.date(2023, 1, 1)).set_index("score")
    assert t.loc[9, "responses"] == 2 and t.loc[9, "expansion_180d"] == 1.0
    assert t.loc[9, "new_product_180d"] == 0.5 and t.loc[9, "churn_90d"] == 0.0
    assert t.loc[2, "churn_90d"] == 1.0 and t.loc[2, "expansion_180d"] == 0.0
    # Responses whose 180-day window is not complete at as_of are left out.
    assert score_outcomes(wh, dt.date(2022, 5, 1)).empty
