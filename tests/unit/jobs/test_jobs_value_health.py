"""Compute-and-store steps the commands and the main job share: CLV with its notes, health scoring, backfills."""

from __future__ import annotations

import datetime as dt
import warnings

import pandas as pd
import pytest

from retain.clv.value import ClvSettings, Method
from retain.errors import ModelError, ResultError
from retain.jobs import health, value
from retain.warehouse import Warehouse

AS_OF = dt.date(2024, 6, 30)


def test_compute_and_store_keeps_notes_and_turns_warnings_into_notes(tiny_wh, monkeypatch):
    from retain.clv import value as clv_value

    real = clv_value.account_clv

    def noisy(wh, day, settings):
        warnings.warn("a library's warning", UserWarning, stacklevel=1)
        return real(wh, day, settings)

    monkeypatch.setattr(value, "account_clv", noisy)
    run = value.compute_and_store(tiny_wh, AS_OF)
    assert "a library's warning" in run.notes and len(run.notes) == len(set(run.notes))
    assert all("/" not in note.split(":")[0] for note in run.notes)  # text only, never a source path
    stored = tiny_wh.execute(tiny_wh.result("clv", AS_OF))
    assert len(stored) == len(run.result.values) and run.total == pytest.approx(stored["clv"].sum())
    monkeypatch.undo()
    simple = value.compute_and_store(tiny_wh, AS_OF, ClvSettings(method=Method.SIMPLE))
    assert set(simple.result.values["method"]) <= {"simple"} and simple.notes == []


def test_value_at_risk_uses_the_stored_churn_probabilities(tiny_wh):
    assert value.stored_churn(tiny_wh, AS_OF) is None
    first = value.value_section(tiny_wh, AS_OF)
    assert first.churn_source is value.ChurnSource.P_ALIVE
    ids = first.ranked["account_id"].tolist()
    churn = pd.DataFrame({"account_id": ids, "churn_probability": [0.5] * len(ids), "upsell_probability": 0.1,
                          "reasons": "[]", "next_product": None, "adoption_tier": None})
    tiny_wh.store_result("propensity", churn, AS_OF)
    section = value.value_section(tiny_wh, AS_OF)
    assert section.churn_source is value.ChurnSource.MODEL
    assert section.value_at_risk == pytest.approx(0.5 * section.at_risk["clv"].sum())


def test_a_company_with_nothing_to_value_is_reported_not_raised(wh: Warehouse, monkeypatch):
    section = value.value_section(wh, AS_OF)
    assert isinstance(section.unavailable, ModelError) and "nothing to value" in section.unavailable.message
    assert section.run is None and section.value_at_risk == 0.0

    def misfit(*_args, **_kwargs):
        raise ResultError("result 'clv' does not fit its spec")

    monkeypatch.setattr(value, "account_clv", misfit)
    with pytest.raises(ResultError):  # a bug is never "not computable"
        value.value_section(wh, AS_OF)


def test_score_accounts_ranks_and_stores_only_when_asked(tiny_wh):
    dry = health.score_accounts(tiny_wh, AS_OF, n=2, store_results=False)
    assert not dry.stored and health.stored_health_dates(tiny_wh) == []
    assert dry.riskiest["account_id"].tolist() == ["B", dry.riskiest["account_id"].iloc[1]] and len(dry.riskiest) == 2
    assert dry.grades["accounts"].sum() == len(dry.result.scores) == 3
    kept = health.score_accounts(tiny_wh, AS_OF)
    assert kept.stored and health.stored_health_dates(tiny_wh) == [AS_OF]
    nobody = health.score_accounts(tiny_wh, dt.date(2000, 1, 1), store_results=False)
    assert nobody.empty and nobody.riskiest.empty


def test_history_policy_and_backfill_range(tiny_wh):
    todo = health.history_to_backfill(tiny_wh, AS_OF)
    assert todo[0] == dt.date(2023, 7, 1) and all(d <= AS_OF - dt.timedelta(days=28) for d in todo)
    health.score_accounts(tiny_wh, dt.date(2024, 1, 1))
    assert dt.date(2024, 1, 1) not in health.history_to_backfill(tiny_wh, AS_OF)  # stored dates are kept
    first = health.backfill_range(tiny_wh, None, AS_OF)[0]
    assert first == dt.date(2023, 1, 1)  # the first subscription start of the tiny company
    assert health.backfill_range(tiny_wh, "2024-06-01", AS_OF) == (dt.date(2024, 6, 1), AS_OF)
    done = health.backfill_scores(tiny_wh, "2024-06-16", AS_OF, "W")
    assert done.summary["as_of"].tolist() == [dt.date(2024, 6, 16), dt.date(2024, 6, 23), AS_OF]


def test_explain_account_reads_the_stored_day(tiny_wh):
    health.score_accounts(tiny_wh, AS_OF)
    ex = health.explain_account(tiny_wh, "B", AS_OF, AS_OF - dt.timedelta(days=30))
    assert ex.change.after["total"] == pytest.approx(
        tiny_wh.execute(tiny_wh.result("health_scores", AS_OF)).set_index("account_id").at["B", "total"])
    assert set(ex.measures["component"]) <= set(ex.change.components["component"])
    assert ex.improve.empty or ex.improve["gain"].is_monotonic_decreasing
