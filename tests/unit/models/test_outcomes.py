"""Outcomes from every source on tiny hand-built warehouses: labels, churn events, churned_at, subscription ends."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from test_leakage import _insert

from retain.errors import ArgumentError, ModelError
from retain.models.dataset import build_model_frame
from retain.models.frame import ObservationFrequency, OutcomeSource
from retain.models.grid import ObservationGrid, regular_dates
from retain.models.outcomes import (
    OutcomeKind,
    OutcomeNeverOccurs,
    choose_defaults,
    observation_grid,
    outcome_table,
    population,
    sources,
)
from retain.warehouse import Warehouse

D0 = dt.date(2024, 1, 1)
DAY = dt.date(2024, 6, 1)


def _accounts(wh: Warehouse, ids, created=D0, **extra) -> None:
    _insert(wh, "accounts", [{"account_id": a, "name": a, "created_at": pd.Timestamp(created, tz="UTC"), **extra}
                             for a in ids])


def _sub(sid: str, account: str, start: dt.date, end: dt.date | None = None, mrr: float = 100.0,
         product: str = "core", **extra) -> dict:
    return {"subscription_id": sid, "account_id": account, "product_id": product, "started_on": start,
            "ended_on": end, "mrr": mrr, **extra}


def _labels(wh: Warehouse, day: dt.date, horizon: int = 90, kind: OutcomeKind = OutcomeKind.CHURN) -> pd.Series:
    grid = ObservationGrid((day,), dt.date(2025, 1, 1), None)
    got = wh.execute(outcome_table(wh, grid, horizon_days=horizon, kind=kind))
    return got.set_index("account_id")[kind.label].sort_index()


def test_subscription_ends(wh):
    _accounts(wh, "ABC")
    _insert(wh, "subscriptions", [
        _sub("a", "A", D0), _sub("b", "B", D0, dt.date(2024, 7, 15)), _sub("c", "C", D0, dt.date(2024, 12, 1)),
        _sub("c2", "C", dt.date(2024, 12, 1), mrr=150.0),
    ])
    assert _labels(wh, DAY).to_dict() == {"A": 0.0, "B": 1.0, "C": 0.0}  # C's plan change is no churn
    assert _labels(wh, dt.date(2024, 11, 1), horizon=60).to_dict() == {"A": 0.0, "C": 0.0}  # B has left


def test_churn_event_counts_even_when_subscriptions_look_open(wh):
    _accounts(wh, "AB")
    _insert(wh, "subscriptions", [_sub("a", "A", D0), _sub("b", "B", D0)])
    _insert(wh, "churn_events", [{"event_id": "e1", "account_id": "B", "occurred_on": dt.date(2024, 7, 1),
                                  "event_type": "churn"},
                                 {"event_id": "e2", "account_id": "A", "occurred_on": dt.date(2024, 7, 1),
                                  "event_type": "upgrade"}])
    assert _labels(wh, DAY).to_dict() == {"A": 0.0, "B": 1.0}
    # after its churn event B is not a customer any more, though its subscription row is still open
    assert _labels(wh, dt.date(2024, 8, 1)).to_dict() == {"A": 0.0}
    assert sources(wh, dt.date(2025, 1, 1)) == (OutcomeSource.CHURN_EVENTS, OutcomeSource.SUBSCRIPTIONS)
    assert _labels(wh, DAY, kind=OutcomeKind.EXPANSION).to_dict() == {"A": 1.0, "B": 0.0}


def test_churned_at(wh):
    _accounts(wh, "A")
    _insert(wh, "accounts", [{"account_id": "B", "name": "B", "created_at": pd.Timestamp(D0, tz="UTC"),
                              "churned_at": pd.Timestamp("2024-06-20", tz="UTC")}])
    _insert(wh, "subscriptions", [_sub("a", "A", D0), _sub("b", "B", D0)])
    assert _labels(wh, DAY).to_dict() == {"A": 0.0, "B": 1.0}
    assert _labels(wh, dt.date(2024, 5, 1), horizon=30).to_dict() == {"A": 0.0, "B": 0.0}  # window ends first
    assert _labels(wh, dt.date(2024, 7, 1)).to_dict() == {"A": 0.0}


def test_reactivated_account_is_a_customer_again(wh):
    _insert(wh, "accounts", [{"account_id": "B", "name": "B", "created_at": pd.Timestamp(D0, tz="UTC"),
                              "churned_at": pd.Timestamp("2024-03-01", tz="UTC")}])
    _insert(wh, "subscriptions", [_sub("b", "B", D0, dt.date(2024, 3, 1)), _sub("b2", "B", dt.date(2024, 5, 1))])
    assert _labels(wh, DAY).to_dict() == {"B": 0.0}


def test_outcome_labels_win_and_set_the_dates(wh):
    _accounts(wh, "ABC")
    _insert(wh, "subscriptions", [_sub("a", "A", D0, dt.date(2024, 7, 1))])  # ends, but its label says no churn
    _insert(wh, "outcome_labels", [
        {"account_id": "A", "observed_on": DAY, "outcome": "churn", "happened": False},
        {"account_id": "B", "observed_on": DAY, "outcome": "churn", "happened": True},
        {"account_id": "C", "observed_on": DAY, "outcome": "churn", "happened": False, "horizon_days": 30},
    ])
    assert _labels(wh, DAY).to_dict() == {"A": 0.0, "B": 1.0, "C": 0.0}
    grid = observation_grid(wh, DAY, horizon_days=90, frequency=ObservationFrequency.MONTH)
    assert grid.dates == (DAY,) and grid.step_days is None
    assert choose_defaults(wh, DAY)[0] == 30  # the labels' own horizon
    assert sources(wh, DAY)[0] is OutcomeSource.LABELS


def test_no_subscriptions_population_is_accounts_created_and_not_churned(wh):
    _accounts(wh, "AB")
    _accounts(wh, "L", created=dt.date(2024, 9, 1))
    _insert(wh, "accounts", [{"account_id": "G", "name": "G", "created_at": pd.Timestamp(D0, tz="UTC"),
                              "churned_at": pd.Timestamp("2024-02-01", tz="UTC")}])
    _insert(wh, "churn_events", [{"event_id": "e", "account_id": "B", "occurred_on": dt.date(2024, 8, 1),
                                  "event_type": "churn"}])
    grid = ObservationGrid((DAY,), dt.date(2025, 1, 1), None)
    members = wh.execute(population(wh, grid))
    assert sorted(members["account_id"]) == ["A", "B"]
    assert _labels(wh, DAY).to_dict() == {"A": 0.0, "B": 1.0}


def test_trials_are_not_customers(wh):
    _accounts(wh, "AT")
    _insert(wh, "subscriptions", [_sub("a", "A", D0), _sub("t", "T", D0, status="trial")])
    assert list(_labels(wh, DAY).index) == ["A"]


def test_incomplete_windows_are_missing_never_zero(wh):
    _accounts(wh, "AB")
    _insert(wh, "subscriptions", [_sub("a", "A", D0), _sub("b", "B", D0, dt.date(2024, 12, 20))])
    grid = ObservationGrid((DAY, dt.date(2024, 11, 1)), dt.date(2024, 12, 1), None)
    got = wh.execute(outcome_table(wh, grid, horizon_days=90))
    got["as_of"] = pd.to_datetime(got["as_of"]).dt.date
    late = got[got["as_of"] == dt.date(2024, 11, 1)]
    assert late["churned"].isna().all() and late["outcome_source"].isna().all()
    assert got[got["as_of"] == DAY]["churned"].notna().all()


def test_regular_dates_cover_all_history_with_complete_windows():
    dates = regular_dates(dt.date(2022, 1, 1), dt.date(2024, 1, 1), step_days=30, horizon_days=90)
    assert dates[-1] == dt.date(2024, 1, 1)  # as_of itself, for scoring
    labelled = dates[:-1]
    assert max(labelled) == dt.date(2024, 1, 1) - dt.timedelta(days=90)
    assert min(labelled) < dt.date(2022, 3, 1) and len(labelled) >= 20
    assert all((b - a).days == 30 for a, b in zip(labelled, labelled[1:], strict=False))


def test_defaults_follow_the_span(wh):
    _accounts(wh, "A")
    _insert(wh, "subscriptions", [_sub("a", "A", D0)])
    assert choose_defaults(wh, dt.date(2024, 6, 1))[:2] == (30, ObservationFrequency.WEEK)
    assert choose_defaults(wh, dt.date(2025, 1, 1))[:2] == (60, ObservationFrequency.MONTH)
    horizon, freq, reason = choose_defaults(wh, dt.date(2026, 1, 1))
    assert (horizon, freq) == (90, ObservationFrequency.MONTH) and "24 months" in reason


def test_single_plan_product_skips_expansion_only(wh):
    _accounts(wh, [f"A{i}" for i in range(6)])
    _insert(wh, "subscriptions", [
        _sub(f"s{i}", f"A{i}", D0, dt.date(2024, 3, 1) + dt.timedelta(days=40 * i) if i % 2 else None)
        for i in range(6)
    ])
    with pytest.raises(OutcomeNeverOccurs) as err:
        build_model_frame(wh, as_of=dt.date(2024, 10, 1), outcome="expansion")
    assert err.value.kind is OutcomeKind.EXPANSION and "skipped" in str(err.value)
    churn = build_model_frame(wh, as_of=dt.date(2024, 10, 1), outcome="churn")
    assert churn.labelled().frame["churned"].sum() > 0


def test_bad_options_are_one_line_errors(wh):
    _accounts(wh, "A")
    _insert(wh, "subscriptions", [_sub("a", "A", D0)])
    with pytest.raises(ArgumentError, match="use one of: 30, 60, 90, 180, 365"):
        build_model_frame(wh, as_of=DAY, horizon_days=45)
    with pytest.raises(ArgumentError, match="unknown outcome"):
        build_model_frame(wh, as_of=DAY, outcome="upsell")
    with pytest.raises(ModelError, match="no observation"):
        build_model_frame(wh, as_of=dt.date(2024, 2, 1), horizon_days=90, frequency="week")


def test_empty_warehouse_says_what_to_load(wh):
    with pytest.raises(ModelError, match="no outcome data"):
        choose_defaults(wh, DAY)
