"""RFM summary in the engine: hand-checked days and weeks, calibration/holdout, equality with lifetimes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pytest
from clv_data import load

from retain.clv import rfm_from_warehouse, rfm_summary
from retain.clv.datasets import load_cdnow
from retain.errors import ModelError

END = dt.date(2024, 1, 15)  # a Monday


@pytest.fixture
def log() -> ir.Table:
    rows = [
        ("A", "2024-01-01 10:00", 10.0), ("A", "2024-01-01 15:00", 5.0),  # one purchase day worth 15
        ("A", "2024-01-03 09:00", 20.0), ("A", "2024-01-10 12:00", 30.0),
        ("B", "2024-01-05 08:00", 40.0),
        ("C", "2024-01-20 08:00", 7.0),  # after the observation end
        ("D", "2024-01-02 08:00", 10.0), ("D", "2024-01-16 08:00", 99.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer", "at", "amount"])
    frame["at"] = pd.to_datetime(frame["at"]).dt.tz_localize("UTC")
    return ibis.memtable(frame)


def _run(expr) -> dict:
    assert isinstance(expr, ir.Table)  # unexecuted: it runs in the engine
    frame = expr.execute().set_index("customer").sort_index()
    return frame.to_dict("index")


def test_days(log):
    got = _run(rfm_summary(log, "customer", "at", "amount", observation_end=END))
    assert set(got) == {"A", "B", "D"}
    assert got["A"] == {"frequency": 2.0, "recency": 9.0, "T": 14.0, "monetary_value": 25.0}
    assert got["B"] == {"frequency": 0.0, "recency": 0.0, "T": 10.0, "monetary_value": 0.0}
    assert got["D"] == {"frequency": 0.0, "recency": 0.0, "T": 13.0, "monetary_value": 0.0}


def test_days_in_weeks(log):
    got = _run(rfm_summary(log, "customer", "at", "amount", observation_end=END, freq_multiplier=7))
    assert got["A"]["recency"] == 9 / 7 and got["A"]["T"] == 2.0


def test_weeks_count_the_observation_end_week_like_lifetimes(log):
    got = _run(rfm_summary(log, "customer", "at", "amount", observation_end=END, freq="W"))
    assert got["A"] == {"frequency": 1.0, "recency": 1.0, "T": 2.0, "monetary_value": 30.0}
    assert got["D"] == {"frequency": 1.0, "recency": 2.0, "T": 2.0, "monetary_value": 99.0}
    assert got["C"] == {"frequency": 0.0, "recency": 0.0, "T": 0.0, "monetary_value": 0.0}


def test_calibration_and_holdout(log):
    got = _run(rfm_summary(log, "customer", "at", "amount", observation_end=END, calibration_end="2024-01-05"))
    assert set(got) == {"A", "B", "D"}
    assert got["A"] == {"frequency": 1.0, "recency": 2.0, "T": 4.0, "monetary_value": 20.0,
                        "frequency_holdout": 1.0, "monetary_value_holdout": 30.0, "duration_holdout": 10.0}
    assert got["B"]["frequency_holdout"] == 0.0 and got["B"]["T"] == 0.0
    assert got["D"]["frequency_holdout"] == 0.0  # its second purchase is after the observation end


def test_without_monetary_column(log):
    got = _run(rfm_summary(log, "customer", "at", None, observation_end=END))
    assert got["A"]["frequency"] == 2.0


def test_errors(log):
    with pytest.raises(ModelError, match="no column 'when'"):
        rfm_summary(log, "customer", "when", "amount", observation_end=END)
    with pytest.raises(ModelError, match="after observation_end"):
        rfm_summary(log, "customer", "at", "amount", observation_end=END, calibration_end="2024-02-01")
    with pytest.raises(ValueError, match="'M'"):
        rfm_summary(log, "customer", "at", "amount", observation_end=END, freq="M")


def test_from_warehouse_sees_only_known_transactions(wh):
    load(wh, "accounts", pd.DataFrame({"account_id": ["a1"], "name": ["A"],
                                       "created_at": [pd.Timestamp("2024-01-01", tz="UTC")]}))
    load(wh, "transactions", pd.DataFrame({
        "transaction_id": ["t1", "t2", "t3"], "account_id": ["a1"] * 3, "amount": [10.0, 20.0, 30.0],
        "occurred_at": pd.to_datetime(["2024-01-01 23:30", "2024-01-08 00:00", "2024-02-01 00:00"]).tz_localize("UTC"),
    }))
    got = wh.execute(rfm_from_warehouse(wh, "2024-01-10")).iloc[0]
    assert (got["frequency"], got["recency"], got["T"], got["monetary_value"]) == (1.0, 7.0, 9.0, 20.0)


@pytest.mark.parametrize(("freq", "multiplier"), [("D", 7), ("W", 1), ("D", 1)])
def test_equals_lifetimes_on_cdnow(freq, multiplier):
    utils = pytest.importorskip("lifetimes.utils")
    frame = load_cdnow()
    end = "1997-09-30"
    theirs = utils.summary_data_from_transaction_data(frame, "customer_id", "date", "amount",
                                                      observation_period_end=end, freq=freq,
                                                      freq_multiplier=multiplier).sort_index()
    ours = rfm_summary(ibis.memtable(frame), "customer_id", "date", "amount", observation_end=end, freq=freq,
                       freq_multiplier=multiplier).execute().set_index("customer_id").sort_index()
    assert ours.index.equals(theirs.index)
    for column in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(ours[column].to_numpy(), theirs[column].to_numpy())
    np.testing.assert_allclose(ours["monetary_value"], theirs["monetary_value"], rtol=1e-12, atol=0)


FROZEN = Path(__file__).parent / "data" / "cdnow_lifetimes_summary.csv"


@pytest.mark.parametrize(("freq", "multiplier"), [("D", 7), ("W", 1)])
def test_equals_frozen_lifetimes_output_on_cdnow(freq, multiplier):
    """lifetimes 0.11.3's output, saved (so this runs without lifetimes installed; it is a bench-only extra)."""
    frozen = pd.read_csv(FROZEN)
    theirs = frozen[frozen["freq"] == f"{freq}{multiplier}"].set_index("customer_id").sort_index()
    ours = rfm_summary(ibis.memtable(load_cdnow()), "customer_id", "date", "amount", observation_end="1997-09-30",
                       freq=freq, freq_multiplier=multiplier).execute().set_index("customer_id").sort_index()
    assert ours.index.equals(theirs.index)
    for column in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(ours[column].to_numpy(), theirs[column].to_numpy())
    np.testing.assert_allclose(ours["monetary_value"], theirs["monetary_value"], rtol=1e-12, atol=0)
