"""Value, data doctor, survey insight and health-fit inputs: the same answers on DuckDB, PostgreSQL and Spark.

These modules count conditions (running subscriptions, repeat buyers, deals won, scores off scale, churn within 90
days). PostgreSQL casts a boolean only to ``int`` (``bool::bigint`` and ``bool::smallint`` fail), so every count
is a portable ``SUM(CASE WHEN ... THEN 1 ELSE 0 END)`` (``retain.metrics.dimensions.count_if``); these tests run
each query on every engine and compare it with DuckDB's answer, with hand-checked values on the small data set.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd
import pytest
from backend_data import SMALL

from retain.clv.simple import yearly_churn_rate, yearly_inputs
from retain.clv.value import By, ClvSettings, clv_by, contract_history, simple_values
from retain.doctor.coverage import all_table_facts
from retain.doctor.outcome_counts import outcomes
from retain.doctor.suspicious import (
    arr_implausible,
    churn_contradictions,
    quantity_outliers,
    single_values,
    survey_off_scale,
)
from retain.health.fit import candidate_measures
from retain.health.fit_rows import first_days, measure_frame
from retain.models.survey_insight import referral_timing, response_outcomes, score_outcomes

DATA = ["small", "demo"]


def table_facts(wh, d) -> pd.DataFrame:
    """One row per (table, column) of the doctor's per-table facts."""
    rows = []
    for t in all_table_facts(wh, d.as_of):
        head = {"table": t.table, "rows": t.rows, "accounts": t.accounts, "account_share": t.account_share,
                "first_on": t.first_on, "last_on": t.last_on}
        rows += [{**head, "column": c.name, "non_null": c.non_null, "share": c.share, "min": c.min, "max": c.max}
                 for c in t.columns] or [head]
    return pd.DataFrame(rows)


def outcome_counts(wh, d) -> pd.DataFrame:
    """The doctor's outcome counts as one row (churn sources and surveys as JSON text)."""
    found = dataclasses.asdict(outcomes(wh, d.as_of))
    found["churn_sources"] = json.dumps(found["churn_sources"], default=str)
    found["surveys"] = json.dumps(found["surveys"], sort_keys=True)
    return pd.DataFrame([found])


def suspicious(wh, d) -> pd.DataFrame:
    """Every suspicious-data flag that is an engine query (the health check scores accounts: covered elsewhere)."""
    facts = all_table_facts(wh, d.as_of)
    flags = [*quantity_outliers(wh, d.as_of), *single_values(facts), *arr_implausible(wh, d.as_of),
             *survey_off_scale(wh, d.as_of), *churn_contradictions(wh, d.as_of)]
    return pd.DataFrame([{"kind": f.kind.value, "where": f.where, "message": f.message, "count": f.count,
                          "examples": ",".join(f.examples)} for f in flags], columns=["kind", "where", "message",
                                                                                      "count", "examples"])


def fit_rows(wh, d) -> pd.DataFrame:
    """What ``retain health fit`` learns from: every candidate measure at three observation dates (compiled SQL
    run as it is, shifted from one date to the others)."""
    dates = [d.as_of - dt.timedelta(days=days) for days in (60, 30, 0)]
    frame = measure_frame(wh, dates, candidate_measures(wh, d.as_of))
    return frame[sorted(frame.columns)]


ANALYTICS = {  # name -> (wh, DataSet) -> DataFrame
    "clv_yearly_inputs": lambda wh, d: wh.execute(yearly_inputs(wh, d.as_of)),
    "clv_yearly_churn_rate": lambda wh, d: pd.DataFrame({"rate": [float(wh.execute(yearly_churn_rate(wh, d.as_of)))]}),
    "clv_contract_history": lambda wh, d: wh.execute(contract_history(wh, d.as_of)),
    "clv_simple_values": lambda wh, d: simple_values(wh, d.as_of, ClvSettings(method="simple")),
    "clv_by_channel": lambda wh, d: wh.execute(
        clv_by(wh, d.as_of, simple_values(wh, d.as_of, ClvSettings(method="simple")), By.CHANNEL)),
    "doctor_table_facts": table_facts,
    "doctor_outcomes": outcome_counts,
    "doctor_flags": suspicious,
    "survey_response_outcomes": lambda wh, d: wh.execute(response_outcomes(wh, d.as_of)),
    "survey_score_outcomes": lambda wh, d: score_outcomes(wh, d.as_of),
    "survey_referral_timing": lambda wh, d: referral_timing(wh, d.as_of),
    "health_fit_first_days": lambda wh, d: pd.DataFrame(
        sorted(first_days(wh, d.as_of, ["usage", "users", "events", "support_tickets", "invoices"]).items()),
        columns=["source", "first_on"]),
    "health_fit_rows": fit_rows,
}
MAY_BE_EMPTY = {"doctor_flags", "survey_response_outcomes", "survey_score_outcomes"}


@pytest.mark.parametrize("dataset", DATA)
@pytest.mark.parametrize("name", list(ANALYTICS))
def test_value_analytic_is_identical(same_as_duckdb, name, dataset):
    got = same_as_duckdb(name, dataset, ANALYTICS[name])
    if dataset == "demo" and name not in MAY_BE_EMPTY:
        assert len(got), f"{name}: the demo slice should give rows"


def test_hand_checked_yearly_inputs(backend):
    """'a': a2 runs at 150 (ARR 1,800) and 4 purchases for 200 in the year, 5 purchases a year in all; 'd': d2 at
    40 (480) and one purchase of 75; 'b' and 'f' have ended (not active). A year earlier a, b, c, f and X were
    active; of them a and c still are: yearly churn 3/5."""
    wh = backend["small"]
    got = wh.execute(yearly_inputs(wh, SMALL.as_of)).set_index("account_id")
    assert tuple(got.loc["a", ["yearly_revenue", "purchase_frequency", "average_spend", "tx_count"]]) == \
        pytest.approx((2000.0, 5.0, 400.0, 4))
    assert tuple(got.loc["d", ["yearly_revenue", "purchase_frequency", "tx_count"]]) == pytest.approx((555.0, 2.0, 1))
    assert not got.loc["b", "active"] and not got.loc["f", "active"] and got.loc["c", "active"]
    assert float(wh.execute(yearly_churn_rate(wh, SMALL.as_of))) == pytest.approx(0.6)


def test_hand_checked_doctor_counts(backend):
    """'a' buys on three days (the only repeat buyer); a, c, d and A, B, C hold a running subscription."""
    found = outcomes(backend["small"], SMALL.as_of)
    assert (found.repeat_buyers, found.running_accounts) == (1, 6)
    assert found.subscription_accounts == 10  # a-f and A, B, C, X
