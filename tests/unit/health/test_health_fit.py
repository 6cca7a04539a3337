"""``retain health fit``: monotone points, non-negative weights, calibration, validation against a logistic
regression, YAML round trip, and the choice between the fitted scorecard and the shipped default."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from health_synth import END, build, insert
from typer.testing import CliRunner

from retain.cli.main import app
from retain.health import fit_bins as fb
from retain.health.fit import DEFAULT_WARNING, MIN_CHURNED, choose_scorecard, fit_scorecard
from retain.health.history import default_scorecards, score
from retain.health.spec import Direction
from retain.health.validate import Level, load_scorecard, validate_text
from retain.warehouse import Warehouse

# -- the numeric pieces -----------------------------------------------------------------------------------


def test_points_are_monotone_even_when_the_bins_are_not():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 30, 4000)
    p = 0.4 - 0.01 * x + 0.08 * np.sin(x)  # falls with x, with bumps that raw bin rates would follow
    y = (rng.random(4000) < p).astype(float)
    b = fb.monotone_bins(x, y, "higher_is_better", max_bins=8)
    assert b is not None and b.direction is Direction.HIGHER_IS_BETTER
    assert list(b.points) == sorted(b.points)  # more never scores less
    assert b.points[0] == 0 and b.points[-1] == 100
    assert list(b.rates) == sorted(b.rates, reverse=True)
    grid = np.linspace(0, 30, 301)
    assert np.all(np.diff(b.score(grid)) >= 0)
    assert np.isnan(b.score(np.array([np.nan]))[0])  # missing stays missing, never 0 points


def test_declared_direction_wins_and_unknown_direction_is_learned():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 3000)
    y = (rng.random(3000) < 0.05 + 0.03 * x).astype(float)  # more of x, more churn
    learned = fb.monotone_bins(x, y, None)
    assert learned.direction is Direction.LOWER_IS_BETTER and list(learned.points) == sorted(learned.points,
                                                                                              reverse=True)
    forced = fb.monotone_bins(x, y, "higher_is_better")  # usage: more may never lower health
    assert forced is None or list(forced.points) == sorted(forced.points)


def test_bands_score_like_the_bins():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 20, 2000).astype(float)
    y = (rng.random(2000) < 0.3 - 0.012 * x).astype(float)
    b = fb.monotone_bins(x, y, "higher_is_better")
    from retain.health.scoring import score_values
    from retain.health.spec import BandsRule

    rule = BandsRule(bands=b.bands())
    assert np.allclose(score_values(rule, pd.Series(x)), np.round(b.score(x), 1))


def test_weights_are_never_negative():
    rng = np.random.default_rng(3)
    good = rng.uniform(0, 100, 3000)
    bad = rng.uniform(0, 100, 3000)
    z = 1.0 - 0.04 * good + 0.02 * bad  # points of `bad` *raise* the risk: its weight must be 0, not negative
    y = (rng.random(3000) < 1 / (1 + np.exp(-z))).astype(float)
    w, _ = fb.nonnegative_logistic(np.column_stack([good, bad]), y)
    assert w[0] > 0.5 and w[1] == pytest.approx(0.0, abs=1e-6)


def test_calibration_never_rises_with_health_and_grades_follow_it():
    rng = np.random.default_rng(4)
    total = rng.uniform(0, 100, 5000)
    y = (rng.random(5000) < 0.5 * np.exp(-total / 25)).astype(float)
    points = fb.calibration_points(total, y)
    probs = [p for _, p in points]
    assert [t for t, _ in points] == [float(t) for t in range(0, 101, 10)]
    assert probs == sorted(probs, reverse=True) and probs[0] > 0.3 and probs[-1] < 0.05
    red, green = fb.grade_thresholds(points, float(y.mean()))
    assert 0 < red <= green < 100
    assert fb.probability(np.array([red - 1]), points)[0] >= 2 * y.mean() - 1e-9
    assert fb.probability(np.array([green]), points)[0] < y.mean()


# -- on a synthetic company where churn depends on usage (events without user ids) --------------------------


@pytest.fixture(scope="module")
def synth() -> Warehouse:
    return build(Warehouse.open(":memory:"), accounts=300, attributes=True)


@pytest.fixture(scope="module")
def fitted(synth):
    return fit_scorecard(synth, END, max_dates=8)


def test_fitted_auc_is_within_003_of_a_plain_logistic_regression(fitted):
    v = fitted.validation
    assert v.design.startswith("rolling origin") and v.rows > 100 and v.positives >= 20
    assert v.auc > 0.7
    assert v.auc >= v.auc_logistic - 0.03, v
    assert v.auc_ci[0] < v.auc < v.auc_ci[1] and v.difference_ci[0] <= 0.03


def test_fitted_scorecard_uses_usage_monotonically(fitted):
    measures = [m for c in fitted.card.components for m in c.measures]
    names = {m.measure for m in measures}
    assert {"active_days", "days_since_active"} & names
    assert "license_utilization" not in names and "active_users" not in names  # no users, no seats
    for m in measures:
        scores = [b.score for b in m.scoring.bands]
        if m.measure in ("active_days", "events", "events_trend", "feature_breadth"):
            assert scores == sorted(scores), m  # more usage never lowers health
        if m.measure == "days_since_active":
            assert scores == sorted(scores, reverse=True), m
    weights = [m.weight for m in measures]
    assert all(w > 0 for w in weights) and sum(weights) == pytest.approx(100, abs=1)


def test_attribute_key_becomes_a_measure(fitted):
    refs = [m for c in fitted.card.components for m in c.measures if m.measure == "attribute"]
    assert [m.attribute for m in refs] == ["team_size"]
    assert "attribute__team_size" in fitted.measures_considered


def test_yaml_round_trip_through_validate(fitted, tmp_path):
    text = fitted.to_yaml()
    assert [i for i in validate_text(text) if i.level is Level.ERROR] == []
    path = tmp_path / "fitted.yaml"
    path.write_text(text)
    assert load_scorecard(path) == fitted.spec
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 0 and "1 file(s) valid" in res.output


def test_scores_carry_the_calibrated_churn_probability(fitted, synth):
    result = score(synth, END, fitted.spec)
    s = result.scores.dropna(subset=["total"])
    assert s["churn_probability"].between(0, 1).all()
    ordered = s.sort_values("total")["churn_probability"].to_numpy()
    assert np.all(np.diff(ordered) <= 1e-12)  # a higher total never means a higher probability
    assert set(s["grade"]) == {"red", "yellow", "green"}
    assert result.calibrations["fitted"].horizon_days == fitted.observations.horizon_days


def test_choose_uses_the_fitted_scorecard_when_outcomes_suffice(synth):
    spec, reason = choose_scorecard(synth, END, max_dates=5)
    assert spec.scorecards[0].calibration is not None
    assert reason.startswith("health uses a scorecard fitted to your outcomes")


def test_choose_falls_back_to_the_default_with_a_warning(wh):
    build(wh, accounts=25, seed=5)
    spec, reason = choose_scorecard(wh, END)
    assert spec == default_scorecards()
    assert reason.startswith("health uses the shipped default scorecard: your data has ")
    assert f"fit needs {MIN_CHURNED}" in reason
    n = int(reason.split("has ")[1].split(" ")[0])
    assert n < MIN_CHURNED and reason == DEFAULT_WARNING.format(n=n)


def test_a_single_labelled_snapshot_is_validated_by_grouped_folds():
    """A snapshot export: one observation date from a labels file (which wins over subscription ends)."""
    wh = build(Warehouse.open(":memory:"), accounts=300, seed=8)
    day = dt.date(2024, 3, 31)
    now = score(wh, day, default_scorecards()).scores["account_id"]
    later = set(score(wh, day + dt.timedelta(days=90), default_scorecards()).scores["account_id"])
    insert(wh, "outcome_labels", pd.DataFrame({"account_id": now, "observed_on": day, "outcome": "churn",
                                               "happened": ~now.isin(later), "horizon_days": 90}))
    fitted = fit_scorecard(wh, END)
    assert fitted.observations.dates == (day,) and fitted.observations.source[0] == "labels"
    assert fitted.validation.design == "grouped 5-fold by account"
    assert fitted.validation.auc >= fitted.validation.auc_logistic - 0.03, fitted.validation


def test_a_measures_learned_direction_is_the_sign_of_spearmans_rho():
    """The rank-sum shortcut for a 0/1 outcome gives Spearman's sign on tied, small and skewed samples alike (a
    correlation of exactly 0, or a constant measure or outcome, is no evidence: higher is better)."""
    import warnings

    from scipy.stats import spearmanr

    rng = np.random.default_rng(7)
    for _ in range(500):
        n = int(rng.integers(2, 300))
        x = rng.integers(0, int(rng.integers(1, 6)), n).astype("float64")
        y = (rng.random(n) < rng.random()).astype("float64")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rho = spearmanr(x, y).statistic if np.std(x) > 0 else 0.0
        expected = Direction.LOWER_IS_BETTER if np.nan_to_num(rho) > 0 else Direction.HIGHER_IS_BETTER
        assert fb.direction_of(x, y, None) is expected
    assert fb.direction_of(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 1.0, 0.0]), None) is \
        Direction.HIGHER_IS_BETTER  # rho = 0 exactly
    assert fb.direction_of(np.array([1.0, 2.0]), np.array([0.0, 1.0]), "higher_is_better") is Direction.HIGHER_IS_BETTER
