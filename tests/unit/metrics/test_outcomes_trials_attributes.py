"""Semantics that match real exports: trials are not customers, recorded churns win, attributes are dimensions.

The tiny book of ``metrics_book`` (as of 2024-06-30) plus, per test, a trial, a churn event or ``churned_at``, or
``attributes`` on the accounts; every figure below is counted by hand from those rows.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from metrics_book import AS_OF, SUBS, accounts_frame, subs_frame

from retain.metrics.cohorts import cohorts
from retain.metrics.dimensions import Attribute, Dimension, DimensionError, parse_dimension, resolve_dimension
from retain.metrics.products_held import products_held
from retain.metrics.retention import decomposition, unit_periods
from retain.metrics.spells import churn_events as spell_ends
from retain.metrics.survival import lifetimes

D = dt.date


def _load(wh, subs=SUBS, accounts: pd.DataFrame | None = None, status: dict[str, str] | None = None):
    frame = subs_frame(subs)
    frame["status"] = frame["subscription_id"].map(status or {}).astype("object")
    wh.con.insert("accounts", accounts if accounts is not None else accounts_frame())
    wh.con.insert("subscriptions", frame)
    return wh


def _statuses(wh, as_of=AS_OF, period="2024-Q2", **kw) -> dict[str, str]:
    u = wh.execute(unit_periods(wh, as_of, "quarter", 2, **kw))
    u = u[u.period == period]
    return dict(zip(u.account_id, u.status, strict=True))


def _q2(wh, as_of=AS_OF, **kw) -> pd.Series:
    frame = wh.execute(decomposition(wh, as_of, "quarter", 2, **kw))
    return frame.set_index("period").loc["2024-Q2"]


# --- trials -------------------------------------------------------------------------------------------------------

TRIAL_ROWS = [
    *SUBS,
    # t: only a trial, open since 2024-04-01; a: a trial of the add-on since 2023-02-01, never converted
    ("t1", "t", "core", D(2024, 4, 1), None, 0.0, None),
    ("a9", "a", "addon", D(2023, 2, 1), None, 0.0, None),
]
TRIALS = {"t1": "trial", "a9": "trial", "a2": "active"}


def _trial_book(wh):
    accounts = accounts_frame({**{k: "smb" for k in "abcdef"}, "t": "smb"})
    return _load(wh, TRIAL_ROWS, accounts, TRIALS)


def test_trials_are_not_customers_in_retention_unless_asked(wh):
    _trial_book(wh)
    assert "t" not in _statuses(wh)
    q2 = _q2(wh)
    assert (q2.start, q2.end, q2.new) == (4, 3, 0)  # the book's own Q2: a, c, d, f at the open; f churned
    with_trials = _q2(wh, include_trials=True)
    assert (with_trials.start, with_trials.end, with_trials.new) == (4, 4, 1)
    assert _statuses(wh, include_trials=True)["t"] == "new"


def test_products_held_counts_paying_holdings_only(wh):
    _trial_book(wh)
    held = wh.execute(products_held(wh, AS_OF, 12))
    row = held[held.tenure_band == "all"].set_index("products_held")
    # customers on 2023-06-30: a, b, c, f, each paying for one product (a's add-on is a trial)
    assert row.loc[1, "accounts"] == 4 and 2 not in row.index
    with_trials = wh.execute(products_held(wh, AS_OF, 12, include_trials=True))
    row = with_trials[with_trials.tenure_band == "all"].set_index("products_held")
    assert row.loc[1, "accounts"] == 3 and row.loc[2, "accounts"] == 1


def test_trial_only_accounts_have_no_lifetime(wh):
    _trial_book(wh)
    assert "t" not in set(wh.execute(lifetimes(wh, AS_OF)).account_id)
    assert "t" in set(wh.execute(lifetimes(wh, AS_OF, include_trials=True)).account_id)


# --- recorded churns ----------------------------------------------------------------------------------------------

def _churn_events(wh, rows):
    frame = pd.DataFrame(rows, columns=["event_id", "account_id", "occurred_on", "event_type", "product_id", "reason"])
    frame["product_id"] = frame["product_id"].astype("string")
    wh.con.insert("churn_events", frame)


def test_a_churn_event_ends_open_subscriptions_on_its_day(wh):
    _load(wh)
    _churn_events(wh, [
        ("e1", "a", D(2024, 6, 1), "churn", None, "price"),      # a's a2 is still open in the export
        ("e2", "f", D(2024, 5, 1), "churn", None, "other"),      # after f's own end (2024-04-01): that end stands
        ("e3", "c", D(2024, 5, 1), "churn", "core", "budget"),   # c's core had ended; its add-on runs on
        ("e4", "d", D(2024, 6, 5), "upgrade", None, None),       # not a churn
    ])
    statuses = _statuses(wh)
    assert statuses["a"] == "churned" and statuses["c"] == "retained" and statuses["d"] == "retained"
    q2 = _q2(wh)
    assert (q2.start, q2.churned, q2.end) == (4, 2, 2)  # a and f churned; c and d remain
    ends = wh.execute(spell_ends(wh, AS_OF)).set_index("account_id")
    assert pd.Timestamp(ends.loc["a", "churned_on"]).date() == D(2024, 6, 1)
    assert ends.loc["a", "cancel_reason"] == "price"
    assert pd.Timestamp(ends.loc["f", "churned_on"]).date() == D(2024, 4, 1)
    assert ends.loc["f", "cancel_reason"] == "competitor"


def test_a_recorded_churn_is_unknown_before_its_day(wh):
    _load(wh)
    _churn_events(wh, [("e1", "a", D(2024, 6, 1), "churn", None, "price")])
    assert _statuses(wh, as_of=D(2024, 5, 31))["a"] == "retained"
    assert _statuses(wh)["a"] == "churned"


def test_churned_at_counts_as_churn_and_a_later_start_is_a_reactivation(wh):
    accounts = accounts_frame()
    accounts["churned_at"] = pd.to_datetime([None, None, None, "2024-06-10", None, None], utc=True)
    rows = [*SUBS, ("d3", "d", "core", D(2024, 6, 20), None, 45.0, None)]  # d back after its recorded churn
    _load(wh, rows, accounts)
    life = wh.execute(lifetimes(wh, AS_OF)).set_index("account_id")
    assert life.loc["d", "event"] == 1 and life.loc["d", "duration_days"] == (D(2024, 6, 10) - D(2024, 2, 1)).days
    u = wh.execute(unit_periods(wh, AS_OF, "month", 2))
    june = dict(zip(u[u.period == "2024-06"].account_id, u[u.period == "2024-06"].status, strict=True))
    assert june["d"] == "retained"  # customer at both June snapshots: the churn and the return are inside June
    assert _statuses(wh, as_of=D(2024, 6, 15))["d"] == "churned"  # before the return, d is gone
    assert _statuses(wh, as_of=D(2024, 6, 9))["d"] == "retained"  # churned_at not yet reached


# --- attributes as dimensions ------------------------------------------------------------------------------------

CONTRACTS = {"a": {"contract": "Two year", "seats": 12}, "b": {"contract": "Month-to-month"},
             "c": {"contract": "Month-to-month", "seats": 3}, "d": {"contract": "One year"},
             "e": {"contract": "Month-to-month"}, "f": None}


def _attribute_book(wh):
    accounts = accounts_frame()
    accounts["attributes"] = [None if v is None else json.dumps(v) for v in CONTRACTS.values()]
    return _load(wh, accounts=accounts)


def test_retention_by_an_attribute_key(wh):
    _attribute_book(wh)
    frame = wh.execute(decomposition(wh, AS_OF, "quarter", 2, by="contract"))
    q1 = frame[frame.period == "2024-Q1"].set_index("dimension_value")
    assert set(frame.dimension) == {"contract"}
    # Q1: b churned (month-to-month), c reactivated, d new, e came and went, a and f retained
    assert q1.loc["Month-to-month", ["start", "churned", "reactivated", "came_and_went"]].tolist() == [1, 1, 1, 1]
    assert q1.loc["Two year", ["start", "retained"]].tolist() == [1, 1]
    assert q1.loc["unknown", ["start", "retained"]].tolist() == [1, 1]  # f has no attributes
    assert q1.loc["One year", "new"] == 1


def test_numeric_attributes_and_other_metrics(wh):
    _attribute_book(wh)
    frame = wh.execute(decomposition(wh, AS_OF, "quarter", 1, by="seats"))
    assert set(frame.dimension_value) == {"12", "3", "unknown"}
    life = wh.execute(lifetimes(wh, AS_OF, by="contract"))
    assert dict(zip(life.account_id, life.dimension_value, strict=True))["b"] == "Month-to-month"
    cells = wh.execute(cohorts(wh, AS_OF, 6, by="contract"))
    assert set(cells.dimension_value) == {"One year", "Month-to-month"}  # d and e started in 2024


def test_attribute_names_are_checked_against_the_data(wh):
    _attribute_book(wh)
    assert parse_dimension("contract") == Attribute("contract")
    assert parse_dimension("channel") is Dimension.ACQUISITION_CHANNEL
    assert resolve_dimension(wh, AS_OF, "Contract") == Attribute("contract")
    with pytest.raises(DimensionError) as err:
        resolve_dimension(wh, AS_OF, "contrat")
    message = str(err.value)
    assert "'contrat' is not one of: all, segment" in message
    assert "keys found: contract, seats" in message and "did you mean 'contract'" in message
    assert err.value.exit_code == 2


@pytest.mark.postgres
def test_attributes_churn_events_and_trials_give_the_same_figures_on_postgresql(postgres_url, wh):
    """Portability of the JSON extraction and of the churn cut: PostgreSQL agrees with DuckDB."""
    import psycopg

    from retain.warehouse import Warehouse

    name = "retain_test_metric_semantics"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name}")
        con.execute(f"CREATE DATABASE {name}")
    pg = Warehouse.open(f"postgres://postgres@127.0.0.1:5432/{name}")
    try:
        frames = []
        for target in (pg, wh):
            accounts = accounts_frame({**{k: "smb" for k in "abcdef"}, "t": "smb"})
            accounts["attributes"] = [None if v is None else json.dumps(v) for v in CONTRACTS.values()] + [None]
            _load(target, TRIAL_ROWS, accounts, TRIALS)
            _churn_events(target, [("e1", "a", D(2024, 6, 1), "churn", None, "price")])
            frame = target.execute(decomposition(target, AS_OF, "quarter", 2, by="contract"))
            frames.append(frame.sort_values(["dimension_value", "period"]).reset_index(drop=True))
        pd.testing.assert_frame_equal(frames[0], frames[1], check_dtype=False)
        assert frames[1].set_index(["period", "dimension_value"]).loc[("2024-Q2", "Two year"), "churned"] == 1
    finally:
        pg.con.disconnect()
