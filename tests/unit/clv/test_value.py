"""Per-account CLV from the warehouse: contract history, sBG per segment, BTYD for transactions, groupings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clv_data import AS_OF, book, load, load_book

from retain.clv.value import (
    RESULT_COLUMNS,
    ClvSettings,
    account_clv,
    at_risk,
    clv_by,
    contract_history,
    with_accounts,
)
from retain.errors import ModelError
from retain.warehouse import Warehouse


@pytest.fixture(scope="module")
def book_wh():
    return load_book(Warehouse.open(":memory:"))


@pytest.fixture(scope="module")
def result(book_wh):
    return account_clv(book_wh, AS_OF)


def test_contract_history_hand_checked(wh):
    load(wh, "accounts", pd.DataFrame({"account_id": list("abcde"), "name": list("ABCDE"), "segment": "smb",
                                       "created_at": pd.Timestamp("2020-01-01", tz="UTC")}))
    ends = [None, "2021-01-01", "2022-01-01", "2020-06-01", "2024-01-01"]
    load(wh, "subscriptions", pd.DataFrame({
        "subscription_id": list("12345"), "account_id": list("abcde"), "product_id": "p",
        "started_on": pd.Timestamp("2020-01-01").date(), "mrr": [100.0, 50, 50, 50, 200],
        "ended_on": [None if e is None else pd.Timestamp(e).date() for e in ends],
    }))
    got = wh.execute(contract_history(wh, "2023-06-01")).set_index("account_id").sort_index()
    assert got["periods"].tolist() == [3.0, 1.0, 2.0, 1.0, 3.0]
    assert got["churned"].tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]  # e's end is not known yet in 2023
    assert got.loc["a", "period_value"] == 1200.0 and got.loc["b", "period_value"] == 0.0


def test_account_clv_columns_and_methods(book_wh, result):
    values = result.values
    assert list(values.columns) == RESULT_COLUMNS
    assert values["account_id"].is_unique
    assert set(values["method"]) == {"sbg", "bgnbd", "sbg+bgnbd"}
    assert (values["clv"] >= 0).all() and values["p_alive"].between(0, 1).all()
    assert {"sbg:all", "sbg:smb", "sbg:enterprise", "bgnbd", "gamma_gamma"} <= set(result.models)
    active = book_wh.execute(contract_history(book_wh, AS_OF).filter(lambda t: t.active)).account_id
    assert set(active) <= set(values["account_id"])


def test_sbg_value_is_derl_times_contract_value(book_wh, result):
    history = book_wh.execute(contract_history(book_wh, AS_OF)).set_index("account_id")
    row = result.values[result.values["method"] == "sbg"].iloc[0]
    account = history.loc[row["account_id"]]
    model = result.models[f"sbg:{account['segment']}"]
    expected = model.derl(0.10, account["periods"], horizon=3) * account["period_value"] * 0.8
    assert row["clv"] == pytest.approx(float(expected))
    assert row["p_alive"] == pytest.approx(float(model.retention_rate(account["periods"] + 1)))


def test_segments_differ_as_simulated(result):
    smb, ent = result.models["sbg:smb"], result.models["sbg:enterprise"]
    # enterprise (beta 3.8) keeps far more customers than smb (beta 1.2)
    assert ent.survival_function(5) > smb.survival_function(5) + 0.1


def test_settings_change_values(book_wh, result):
    longer = account_clv(book_wh, AS_OF, ClvSettings(horizon_months=60, discount_rate=0.0, margin=1.0))
    merged = result.values.merge(longer.values, on="account_id")
    assert (merged["clv_y"] >= merged["clv_x"] - 1e-9).all() and merged["clv_y"].sum() > merged["clv_x"].sum()


def test_simple_method(book_wh):
    simple = account_clv(book_wh, AS_OF, ClvSettings(method="simple")).values
    assert list(simple.columns) == RESULT_COLUMNS and set(simple["method"]) == {"simple"}
    assert simple["p_alive"].nunique() == 1 and (simple["clv"] > 0).all()


def test_clv_by_channel_and_cohort(book_wh, result):
    by_channel = book_wh.execute(clv_by(book_wh, AS_OF, result.values, "channel"))
    assert set(by_channel["channel"]) == {"inbound", "partner", "outbound"}
    assert by_channel["total_clv"].sum() == pytest.approx(result.values["clv"].sum())
    assert by_channel["accounts"].sum() == len(result.values)
    by_cohort = book_wh.execute(clv_by(book_wh, AS_OF, result.values, "cohort"))
    assert by_cohort["cohort"].str.fullmatch(r"\d{4}-\d{2}").all()
    by_campaign = book_wh.execute(clv_by(book_wh, AS_OF, result.values, "campaign"))
    assert "none" in set(by_campaign["campaign"])


def test_with_accounts_and_at_risk(book_wh, result):
    ranked = book_wh.execute(with_accounts(book_wh, AS_OF, result.values))
    assert ranked["clv"].is_monotonic_decreasing and ranked["name"].notna().all()
    risky = at_risk(ranked, 0.5)
    assert (risky["p_alive"] < 0.5).all() and risky["clv"].is_monotonic_decreasing


def test_nothing_to_value_is_a_clear_error(wh):
    with pytest.raises(ModelError, match="nothing to value") as info:
        account_clv(wh, AS_OF)
    assert "--model simple" in info.value.hint


def test_bad_settings():
    with pytest.raises(ModelError, match="margin"):
        ClvSettings(margin=1.5)
    with pytest.raises(ValueError, match="'lifetimes'"):
        ClvSettings(method="lifetimes")


def test_transactions_only_book(wh):
    frames = book()
    load(wh, "accounts", frames["accounts"])
    load(wh, "transactions", frames["transactions"])
    values = account_clv(wh, AS_OF, ClvSettings(method="pareto")).values
    assert set(values["method"]) == {"pareto"} and np.isfinite(values["clv"]).all()


def test_value_at_risk_prefers_the_models_churn_probability():
    from retain.clv.value import value_at_risk

    values = pd.DataFrame({"account_id": ["a", "b", "c", "gone"], "clv": [1000.0, 500.0, 200.0, 0.0],
                           "p_alive": [0.9, 0.9, 0.9, 0.0]})
    churn = pd.DataFrame({"account_id": ["a", "b"], "churn_probability": [0.01, 0.6]})
    risk = value_at_risk(values, churn).set_index("account_id")
    assert "gone" not in risk.index  # nothing left to lose
    assert risk.loc["b", "value_at_risk"] == 300.0 and risk.loc["a", "value_at_risk"] == 10.0
    assert risk.loc["c", "p_churn_source"] == "1 - p_alive" and abs(risk.loc["c", "value_at_risk"] - 20.0) < 1e-9
    assert list(risk.index) == ["b", "c", "a"]
    fallback = value_at_risk(values)
    assert (fallback.p_churn_source == "1 - p_alive").all()
