"""Issue 13, the bank gap: a left-truncated export (customers who joined years before the data starts, and only
those still there then) must not teach the fitted scorecard that using the product is risky.

Before the fix the observation grid started at the oldest subscription, so every date before the export's first
recorded leaving was labelled 0 for lack of records. On the bank demo that was 230,000 of 334,000 rows, all without
usage and without churn: the scorecard's per-band churn rates then said "no usage = safest", its learned
directions for usage flipped, and it ranked 0.07 AUC below the logistic regression (the regression escaped through
its missing-value flags). Now observations start one horizon before the first recorded leaving.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from retain.errors import ModelError
from retain.health import fit_bins as fb
from retain.health.spec import Direction
from retain.models import metrics
from retain.models.candidates import FittedScorecardCandidate
from retain.models.frame import ObservationFrequency
from retain.models.grid import regular_dates
from retain.models.outcomes import observation_grid, outcome_table
from retain.schema import table as table_spec
from retain.warehouse import Warehouse

AS_OF = dt.date(2025, 6, 1)
EXPORT_START = dt.date(2023, 1, 1)  # the first day the export records anything happening
JOINED = dt.date(2015, 3, 1)  # when its oldest customers joined
HORIZON = 90


def _insert(wh: Warehouse, name: str, rows: list[dict]) -> None:
    names = table_spec(name).stored_names
    frame = pd.DataFrame(rows)
    for col in names:
        if col not in frame.columns:
            frame[col] = None
    wh.con.insert(name, frame[names].astype({c: "object" for c in names if frame[c].isna().all()}))


def _truncated_export(wh: Warehouse, n: int = 40) -> Warehouse:
    """Customers since 2015, every fourth leaving after the export starts (no leaving recorded before it)."""
    ids = [f"c{i:02d}" for i in range(n)]
    _insert(wh, "accounts", [{"account_id": a, "name": a, "created_at": pd.Timestamp(JOINED, tz="UTC")} for a in ids])
    ends = {a: EXPORT_START + dt.timedelta(days=20 * i) for i, a in enumerate(ids) if i % 4 == 0}
    _insert(
        wh,
        "subscriptions",
        [
            {
                "subscription_id": a,
                "account_id": a,
                "product_id": "core",
                "started_on": JOINED,
                "ended_on": ends.get(a),
                "mrr": 50.0,
            }
            for a in ids
        ],
    )
    return wh


def test_observations_start_one_horizon_before_the_first_recorded_leaving(wh):
    _truncated_export(wh)
    grid = observation_grid(wh, AS_OF, horizon_days=HORIZON, frequency=ObservationFrequency.MONTH)
    labelled = [d for d in grid.dates if d <= AS_OF - dt.timedelta(days=HORIZON)]
    assert min(labelled) >= EXPORT_START - dt.timedelta(days=HORIZON)
    assert min(labelled) < EXPORT_START  # the first leavers are observed before they leave
    # the old grid (from the oldest subscription) held ~90 monthly dates whose labels were all 0
    old = regular_dates(JOINED, AS_OF, step_days=30, horizon_days=HORIZON, include_as_of=False)
    assert len(old) > 3 * len(labelled)
    labels = wh.execute(outcome_table(wh, grid, horizon_days=HORIZON))
    per_date = labels.dropna(subset=["churned"]).groupby("as_of")["churned"].sum()
    assert per_date.iloc[:2].sum() > 0  # the first observed dates already see leavers


def test_a_history_with_early_leavers_keeps_every_date(wh):
    _truncated_export(wh)
    _insert(wh, "accounts", [{"account_id": "early", "name": "early", "created_at": pd.Timestamp(JOINED, tz="UTC")}])
    _insert(
        wh,
        "subscriptions",
        [
            {
                "subscription_id": "early",
                "account_id": "early",
                "product_id": "core",
                "started_on": JOINED,
                "ended_on": dt.date(2015, 4, 30),
                "mrr": 50.0,
            }
        ],
    )
    grid = observation_grid(wh, AS_OF, horizon_days=HORIZON, frequency=ObservationFrequency.MONTH)
    old = regular_dates(JOINED, AS_OF, step_days=30, horizon_days=HORIZON)
    assert grid.dates == old  # leaving recorded from the start: nothing is cut


def _rows(rng: np.random.Generator, dates: range, n: int) -> pd.DataFrame:
    """``n`` customers at each date (a month number): usage drives churn once the export records anything
    (month >= 0); before, no usage and no churn recorded, as in a truncated export."""
    month = np.repeat(np.asarray(dates), n)
    recorded = month >= 0
    health = rng.normal(0, 1, len(month))
    usage = np.where(recorded, rng.poisson(np.exp(1.5 + 0.8 * health)), 0.0)
    risk = 1 / (1 + np.exp(-(-3.2 - 1.4 * health)))
    churned = np.where(recorded, rng.random(len(month)) < risk, False).astype(float)
    return pd.DataFrame({"as_of": month, "events_30d": usage.astype(float), "churned": churned})


def test_rows_without_records_flip_the_scorecard_on_usage_and_the_new_rows_do_not():
    rng = np.random.default_rng(13)
    recorded = _rows(rng, range(0, 12), 400)
    before = _rows(rng, range(-60, 0), 400)  # five years of a truncated export's earlier dates
    test = _rows(rng, range(14, 17), 1000)
    y_test = test["churned"].to_numpy()

    def fitted(train: pd.DataFrame) -> tuple[FittedScorecardCandidate | None, float]:
        try:
            card = FittedScorecardCandidate(("events_30d",)).fit(train, train["churned"].to_numpy())
        except ModelError:  # usage separates nothing once its direction is learned backwards
            return None, 0.5
        return card, metrics.auc(y_test, card.raw_score(test))

    old_card, old_auc = fitted(pd.concat([before, recorded], ignore_index=True))
    new_card, new_auc = fitted(recorded)
    # with the unrecorded years, "no usage" is the band that churns least: usage reads as risk
    old_dir = fb.direction_of(
        np.r_[before["events_30d"], recorded["events_30d"]], np.r_[before["churned"], recorded["churned"]], None
    )
    assert old_dir is Direction.LOWER_IS_BETTER
    assert old_card is None or old_auc < 0.55
    assert new_card.scorers_["events_30d"].direction is Direction.HIGHER_IS_BETTER
    assert new_auc > 0.7 and new_auc - old_auc > 0.2
