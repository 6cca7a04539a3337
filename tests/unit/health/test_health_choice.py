"""The main job's health section scores with the scorecard fitted to the outcomes (or the shipped default with a
warning), stores that choice, and every later score or explanation uses the same one."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from health_synth import build
from test_health_fit_categories import DAY, snapshot
from typer.testing import CliRunner

from retain.cli.main import app
from retain.health.choice import ScorecardChoice, choose, stored_choice
from retain.health.history import default_scorecards, store, stored_dates
from retain.health.history import score as score_with
from retain.jobs.health import explain_account, health_section, score_accounts, scorecard_for
from retain.warehouse import Warehouse


@pytest.fixture(scope="module")
def fitted_run():
    wh = snapshot(Warehouse.open(":memory:"))
    earlier = dt.date(2025, 5, 1)  # a monthly date of the history policy
    store(wh, score_with(wh, earlier), earlier, measures=False)  # history scored by the shipped default before
    return wh, earlier, health_section(wh, DAY)


def test_outcomes_suffice_so_the_fitted_scorecard_scores_and_is_stored(fitted_run):
    wh, _, section = fitted_run
    choice = section.choice
    assert choice.fitted and section.warning is None and choice.name == f"fitted-{choice.digest}"
    assert "fitted to your outcomes" in choice.reason and choice.horizon_days == 90
    stored = stored_choice(wh, DAY)
    assert stored.digest == choice.digest and stored.fitted and stored.spec == choice.spec
    assert stored_choice(wh, DAY - dt.timedelta(days=1)) is None  # no run before that day
    scores = wh.execute(wh.result("health_scores", DAY))
    assert set(scores["scorecard"]) == {choice.name}
    p = scores["churn_probability"]
    assert p.notna().all() and p.between(0, 1).all()
    # lower health, higher calibrated churn probability
    assert np.corrcoef(scores["total"], p)[0, 1] < -0.5


def test_history_scored_by_another_scorecard_is_rescored(fitted_run):
    wh, earlier, section = fitted_run
    assert earlier in section.backfilled
    assert earlier in stored_dates(wh, {section.choice.name})
    old = wh.execute(wh.result("health_scores", earlier))
    assert set(old["scorecard"]) == {section.choice.name}


def test_text_measures_store_their_text(fitted_run):
    wh, _, _ = fitted_run
    m = wh.execute(wh.result("health_measures", DAY))
    contract = m[m["measure"] == "contract"]
    assert set(contract["text_value"].dropna()) == {"Month-to-month", "One year", "Two year"}
    assert contract["value"].isna().all()
    numbers = m[m["measure"] != "contract"]
    assert numbers["text_value"].isna().all() and numbers["value"].notna().any()


def test_score_and_explain_default_to_the_runs_scorecard(fitted_run):
    wh, _, section = fitted_run
    assert scorecard_for(wh, DAY).digest == section.choice.digest
    again = score_accounts(wh, DAY, store_results=False)
    assert again.choice.digest == section.choice.digest
    stored = wh.execute(wh.result("health_scores", DAY)).set_index("account_id")["total"]
    now = again.result.scores.set_index("account_id")["total"]
    assert now.reindex(stored.index).to_numpy() == pytest.approx(stored.to_numpy())
    account = stored.index[0]
    ex = explain_account(wh, account, DAY, DAY - dt.timedelta(days=30))
    row = wh.execute(wh.result("health_scores", DAY)).set_index("account_id").loc[account]
    assert ex.choice.digest == section.choice.digest
    assert ex.churn_probability == pytest.approx(row["churn_probability"])
    assert ex.change.after["total"] == pytest.approx(row["total"])
    # a scorecard the user names is theirs: no warning, and it is not the run's
    mine = scorecard_for(wh, DAY, default_scorecards())
    assert mine.given and mine.warning is None and mine.digest != section.choice.digest


def test_too_few_outcomes_keep_the_default_with_a_warning(tmp_path):
    path = tmp_path / "few.duckdb"
    wh = build(Warehouse.open(path), accounts=25, seed=5)
    from health_synth import END

    section = health_section(wh, END)
    assert not section.choice.fitted and section.choice.spec == default_scorecards()
    assert section.warning and "shipped default scorecard" in section.warning and "retain health fit" in \
        section.warning
    assert stored_choice(wh, END).warning == section.warning
    assert isinstance(choose(wh, END), ScorecardChoice)
    wh.con.disconnect()
    out = CliRunner().invoke(app, ["--db", str(path), "score", "--as-of", END.isoformat()], terminal_width=200)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())  # the console wraps long lines
    assert "warning:" in text and "shipped default scorecard" in text
