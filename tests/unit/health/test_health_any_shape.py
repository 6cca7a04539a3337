"""Measures that work on any shape of data, and the shipped default on a company with only product events."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from health_data import AS_OF, d, load, ts
from health_synth import END, build

from retain.health.history import SCHEMAS, default_scorecards, score
from retain.health.measures import MEASURES, measure_key, measure_values_expr
from retain.health.spec import MeasureSpec
from retain.health.validate import Level, validate_text
from retain.results import spec as result_spec
from retain.warehouse import Warehouse


def _events_company(wh: Warehouse) -> Warehouse:
    """E: events every day (login + report), no user ids; F: events 31-90 days ago only; G: none ever.
    E holds a seat-based product with 10 seats and an allowance product; F only the allowance."""
    load(wh, "accounts", [
        {"account_id": "E", "name": "E", "created_at": ts("2024-01-01"), "attributes": '{"team": 12, "tier": "x"}'},
        {"account_id": "F", "name": "F", "created_at": ts("2024-01-01"), "attributes": '{"team": "3"}'},
        {"account_id": "G", "name": "G", "created_at": ts("2024-06-10")},
    ])
    load(wh, "products", [{"product_id": "seats", "name": "Seats", "seat_based": True},
                          {"product_id": "calls", "name": "5,000 calls", "seat_based": False}])
    load(wh, "subscriptions", [
        {"subscription_id": "e1", "account_id": "E", "product_id": "seats", "started_on": d("2024-01-01"),
         "mrr": 100.0, "quantity": 10, "billing_period": "annual", "term_end_on": d("2024-12-31")},
        {"subscription_id": "e2", "account_id": "E", "product_id": "calls", "started_on": d("2024-01-01"),
         "mrr": 50.0, "quantity": 5000, "billing_period": "monthly"},
        {"subscription_id": "f0", "account_id": "F", "product_id": "calls", "started_on": d("2024-01-01"),
         "ended_on": d("2024-04-15"), "mrr": 40.0, "quantity": 5000},
        {"subscription_id": "f1", "account_id": "F", "product_id": "calls", "started_on": d("2024-04-15"),
         "mrr": 80.0, "quantity": 5000, "discount_amount": 20.0},
        {"subscription_id": "g1", "account_id": "G", "product_id": "calls", "started_on": d("2024-06-10"),
         "mrr": 10.0, "quantity": 1000},
    ])
    usage = []
    for k in range(90):
        day = AS_OF - dt.timedelta(days=k)
        usage.append({"account_id": "E", "usage_on": day, "feature": "login", "events": 2.0, "active_users": 0})
        usage.append({"account_id": "E", "usage_on": day, "feature": "report", "events": 1.0, "active_users": 0})
        if k >= 30:
            usage.append({"account_id": "F", "usage_on": day, "feature": "login", "events": 4.0, "active_users": 0})
    load(wh, "usage", usage)
    return wh


@pytest.fixture(scope="module")
def shaped() -> pd.DataFrame:
    wh = _events_company(Warehouse.open(":memory:"))
    refs = [(n, {}) for n in MEASURES if n != "attribute"]
    refs += [("events", {"values": ("report",)}), ("attribute", {"attribute": "team"}),
             ("attribute", {"attribute": "tier"})]
    return wh.execute(measure_values_expr(wh, AS_OF, measures=refs)).set_index("account_id")


@pytest.mark.parametrize(("account", "key", "expected"), [
    ("E", "events", 90.0),                    # 30 days x (2 + 1)
    ("E", "events__values=report", 30.0),
    ("F", "events", 0.0),                     # a counting measure: no rows in the window = 0
    ("E", "active_days", 30.0),
    ("F", "active_days", 0.0),
    ("E", "events_trend", 1.0),
    ("F", "events_trend", 0.0),               # active only 31-90 days ago
    ("E", "days_since_active", 0.0),
    ("F", "days_since_active", 30.0),         # last active 2024-05-31
    ("G", "days_since_active", 20.0),         # never active: days since created
    ("E", "licences", 10.0),                  # the allowance product (5,000 calls) is not seats
    ("E", "billing_period_months", 12.0),
    ("E", "contract_months", 365 / 30.4375),
    ("F", "mrr_trend", 2.0),                  # 80 now vs 40 ninety days ago
    ("F", "discount_share", 0.2),             # 20 / (80 + 20)
    ("E", "attribute__team", 12.0),
    ("F", "attribute__team", 3.0),            # a numeric string counts
])
def test_any_shape_values(shaped, account, key, expected):
    assert shaped.loc[account, key] == pytest.approx(expected)


def test_not_applicable_is_null_never_zero(shaped):
    for key in ("active_users", "license_utilization", "usage_trend"):  # no user ids: per-user measures are N/A
        assert shaped[key].isna().all(), key
    assert pd.isna(shaped.loc["F", "licences"]) and pd.isna(shaped.loc["G", "licences"])  # no seats held
    assert pd.isna(shaped.loc["G", "events_trend"]) and pd.isna(shaped.loc["G", "mrr_trend"])  # no baseline
    assert shaped["last_nps"].isna().all() and shaped["ticket_satisfaction"].isna().all()  # no surveys
    assert shaped["tickets"].isna().all()  # no tickets table data: N/A, not 0
    assert pd.isna(shaped.loc["G", "attribute__team"])
    assert shaped["attribute__tier"].isna().all()  # text is not a number
    assert pd.isna(shaped.loc["F", "billing_period_months"]) and pd.isna(shaped.loc["F", "contract_months"])


def test_attribute_shorthand_and_its_validation():
    m = MeasureSpec.model_validate({"name": "team", "attribute": "team", "scoring": {"kind": "linear", "low": 0,
                                                                                    "high": 10}})
    assert m.measure == "attribute" and m.key == "attribute__team" == measure_key("attribute", m.params)
    text = ("version: 1\nname: x\ncomponents:\n  - name: c\n    measures:\n"
            "      - {name: m, measure: attribute, scoring: {kind: linear, low: 0, high: 1}}\n")
    errors = [i for i in validate_text(text) if i.level is Level.ERROR]
    assert len(errors) == 1 and "needs the key" in errors[0].message and errors[0].line == 6


def test_calibration_that_rises_with_health_is_refused():
    text = ("version: 1\nname: x\ncomponents:\n  - name: c\n    measures:\n"
            "      - {name: m, measure: tickets, scoring: {kind: linear, low: 0, high: 1}}\n"
            "calibration:\n  horizon_days: 90\n  points:\n  - {total: 0, probability: 0.3}\n"
            "  - {total: 50, probability: 0.4}\n")
    errors = [i for i in validate_text(text) if i.level is Level.ERROR]
    assert [e.key for e in errors] == ["calibration.points[1]"] and "rises with health" in errors[0].message


def test_health_result_layouts_come_from_the_declared_results():
    for name, schema in SCHEMAS.items():
        assert schema.names == result_spec(name).names


# -- the shipped default on a company with only product events ----------------------------------------------


@pytest.fixture(scope="module")
def events_only() -> Warehouse:
    return build(Warehouse.open(":memory:"), accounts=300)


def test_default_scorecard_spreads_on_events_only_data(events_only):
    result = score(events_only, END, default_scorecards())
    s = result.scores.dropna(subset=["total"])
    assert len(s) > 100
    assert s["total"].std() > 10 and s["total"].round().nunique() > 30  # not a handful of values
    shares = s["grade"].value_counts(normalize=True)
    assert shares.get("green", 0) < 0.9 and shares.get("red", 0) > 0  # no 99 % green


def test_default_never_scores_not_applicable_as_zero(events_only):
    m = score(events_only, END, default_scorecards()).measures
    na = m[m["measure"].isin(["utilization", "nps", "csat", "open_high_priority", "days_overdue"])]
    assert len(na) and na["value"].isna().all() and na["score"].isna().all()
    assert (na["weight_pct"] == 0).all()  # their weight went to the applicable measures
    totals = m.groupby("account_id")["weight_pct"].sum()
    assert np.allclose(totals, 100)
