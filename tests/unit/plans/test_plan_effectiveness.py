"""Playbook effectiveness on synthetic sets where the truth is known: a play that helps has an interval that
excludes 0, a play that does nothing has one that includes it; small samples say "too few to tell"."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from tests.unit.plans.plans_company import FIRED, play_company

from retain.action.effectiveness import (
    MIN_PER_GROUP,
    Outcome,
    Verdict,
    episodes_from_ctas,
    measure,
    stratified_difference,
    touched_within,
    wilson,
)
from retain.state.actions import Cta, CtaTask

END = FIRED + dt.timedelta(days=200)


def _rows(result) -> dict[str, dict]:
    return {r["outcome"]: r for r in result.table.to_dict("records")}


def test_a_play_that_helps_has_an_interval_excluding_zero():
    wh, episodes = play_company(300, churn=(0.1, 0.5), recover=(0.6, 0.2))
    rows = _rows(measure(wh, episodes, END, days=90))
    churn, recovered = rows[Outcome.CHURNED.value], rows[Outcome.HEALTH_RECOVERED.value]
    assert churn["treated"] == churn["untreated"] == 150
    assert churn["difference_high"] < 0 and churn["verdict"] == Verdict.HELPS
    assert recovered["difference_low"] > 0 and recovered["verdict"] == Verdict.HELPS
    assert churn["treated_low"] <= churn["treated_rate"] <= churn["treated_high"]
    # the truth (-0.4 and +0.4 less churners' share) is inside the intervals
    assert churn["difference_low"] <= -0.4 <= churn["difference_high"]
    assert rows[Outcome.RENEWED.value]["verdict"] == Verdict.TOO_FEW  # no contract ends within 90 days


def test_a_play_that_does_nothing_has_an_interval_including_zero():
    wh, episodes = play_company(300, churn=(0.3, 0.3), recover=(0.3, 0.3))
    rows = _rows(measure(wh, episodes, END, days=90))
    for outcome in (Outcome.CHURNED, Outcome.HEALTH_RECOVERED):
        row = rows[outcome.value]
        assert row["difference_low"] < 0 < row["difference_high"]
        assert row["verdict"] == Verdict.NO_CLEAR_DIFFERENCE


def test_small_samples_are_too_few_to_tell_even_with_a_large_difference():
    wh, episodes = play_company(2 * (MIN_PER_GROUP - 1), churn=(0.0, 0.9), recover=(0.9, 0.0))
    rows = _rows(measure(wh, episodes, END, days=90))
    assert {r["verdict"] for r in rows.values()} == {Verdict.TOO_FEW.value}
    assert rows[Outcome.CHURNED.value]["difference"] < -0.5  # the figures are shown, the verdict withheld


def test_accounts_gone_before_the_landmark_are_dropped_from_both_groups():
    wh, episodes = play_company(60, churn=(0.0, 0.0), recover=(0.5, 0.5))
    early = pd.DataFrame({"account_id": ["gone"], "day": [FIRED], "rule": ["health_grade_drop"],
                          "playbook": ["health_recovery"], "treated": [False]})
    from tests.unit.plans.plans_company import put

    put(wh, "accounts", [{"account_id": "gone", "name": "gone", "created_at": dt.datetime(2023, 1, 2, tzinfo=dt.UTC)}])
    put(wh, "subscriptions", [{"subscription_id": "s_gone", "account_id": "gone", "product_id": "core",
                               "started_on": dt.date(2023, 1, 2), "mrr": 100.0, "ended_on": FIRED + dt.timedelta(5)}])
    result = measure(wh, pd.concat([episodes, early], ignore_index=True), END, days=90)
    assert "gone" not in set(result.episodes["account_id"])
    assert any("1 of 61 episodes dropped" in n for n in result.notes)


def test_touches_within_the_window_mark_the_treated():
    wh, episodes = play_company(40, churn=(0.0, 0.0), recover=(0.5, 0.5))
    touched = touched_within(wh, episodes, 14)
    assert touched == set(np.flatnonzero(episodes["treated"].to_numpy()))
    assert touched_within(wh, episodes, 2) == set()  # the calls were on day 3


def test_episodes_from_the_ctas_in_the_database(db):
    day = dt.date(2024, 1, 10)
    for i, done in enumerate((True, False, None)):
        cta = Cta(account_id=f"a{i}", type="risk", reason="Health grade dropped", priority="high", due_on=day,
                  status="open", open_key=f"a{i}|risk", rule="health_grade_drop", rule_version=1,
                  auto_close="never", opened_on=day, last_fired_on=day, playbook="health_recovery")
        if done is not None:
            cta.tasks.append(CtaTask(seq=1, title="Call", role="csm", due_on=day, status="done" if done else "open"))
        db.add(cta)
    db.add(Cta(account_id="young", type="risk", reason="x" * 3, priority="high", due_on=day, status="open",
               rule="health_grade_drop", rule_version=1, auto_close="never", opened_on=day + dt.timedelta(days=60),
               last_fired_on=day, playbook="health_recovery"))
    db.add(Cta(account_id="noplay", type="risk", reason="x" * 3, priority="high", due_on=day, status="open",
               rule="usage_falling", rule_version=1, auto_close="never", opened_on=day, last_fired_on=day))
    db.commit()
    episodes = episodes_from_ctas(db, day + dt.timedelta(days=90), 90)
    assert dict(zip(episodes["account_id"], episodes["treated"], strict=True)) == {"a0": True, "a1": False,
                                                                                   "a2": False}


def test_wilson_and_the_bootstrap_on_known_values():
    low, high = wilson(10, 100)  # the textbook value: 0.0552 - 0.1744
    assert (round(low, 4), round(high, 4)) == (0.0552, 0.1744)
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0
    strata = pd.DataFrame({"nt": [100, 300], "kt": [50, 90], "nc": [200, 100], "kc": [40, 30]})
    point, low, high = stratified_difference(strata, seed=1)
    assert point == pytest.approx(0.25 * (0.5 - 0.2) + 0.75 * (0.3 - 0.3))
    assert low < point < high
    assert stratified_difference(strata, seed=1) == (point, low, high)  # seeded
