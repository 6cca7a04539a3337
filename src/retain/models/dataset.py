"""Training tables: features at many past ``as_of`` dates stacked with the outcomes that followed each date.

Splits are by time only. Between the last training date and the first validation date (and between validation
and test) lies a gap of at least the label horizon, so no training label overlaps a validation label's window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from retain.errors import ModelError
from retain.models.features import feature_frame
from retain.models.labels import CHURN_DAYS, EXPANSION_DAYS, churn_labels, expansion_labels, renewal_labels
from retain.warehouse import Warehouse, as_of_date

LABEL_HORIZONS = {"churned": CHURN_DAYS, "expanded": EXPANSION_DAYS, "new_product": EXPANSION_DAYS,
                  "renewed": CHURN_DAYS}


def data_start(wh: Warehouse) -> dt.date:
    value = wh.execute(wh.raw("subscriptions").started_on.min())
    if value is None or value != value:
        raise ModelError("the warehouse holds no subscriptions", hint="load data first (`retain ingest`)")
    return as_of_date(value)


def snapshot_dates(start: dt.date, end: dt.date, step_days: int = 30) -> list[dt.date]:
    """Dates from ``end`` backwards every ``step_days`` down to ``start`` (oldest first)."""
    out, day = [], end
    while day >= start:
        out.append(day)
        day -= dt.timedelta(days=step_days)
    return out[::-1]


def build_frame(
    wh: Warehouse, dates: Sequence[dt.date], *, labels: bool = True, end: dt.date | None = None,
) -> pd.DataFrame:
    """Features (and outcome labels) of every customer at each date, stacked (``as_of`` column).

    A label whose window reaches past ``end`` (the last day of data) is unknown: it is set to missing,
    never to "did not happen"."""
    parts = []
    for day in sorted(set(dates)):
        feats = feature_frame(wh, day)
        if labels:
            for expr in (churn_labels(wh, day), expansion_labels(wh, day), renewal_labels(wh, day)):
                feats = feats.merge(wh.execute(expr), on="account_id", how="left")
        feats["as_of"] = day
        parts.append(feats)
    if not parts:
        return pd.DataFrame()
    frame = pd.concat(parts, ignore_index=True)
    if labels:
        for label, horizon in LABEL_HORIZONS.items():
            values = frame[label].astype("Float64")
            if end is not None:
                values = values.mask(frame["as_of"] > end - dt.timedelta(days=horizon))
            frame[label] = values
    return frame.sort_values(["as_of", "account_id"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class TimeSplit:
    """As-of dates for training, validation (calibration, early stopping) and held-back testing."""

    train: tuple[dt.date, ...]
    validation: tuple[dt.date, ...]
    test: tuple[dt.date, ...]
    horizon_days: int

    def check(self) -> None:
        """Raise when any two parts overlap in time or their label windows could overlap."""
        gap = dt.timedelta(days=self.horizon_days)
        for early, late, what in ((self.train, self.validation, "train/validation"),
                                  (self.validation, self.test, "validation/test")):
            if early and late and max(early) + gap > min(late):
                raise ModelError(f"{what} dates are closer than the {self.horizon_days}-day label horizon")


def time_split(
    start: dt.date, end: dt.date, *, horizon_days: int, test_days: int = 365, validation_days: int = 180,
    step_days: int = 30,
) -> TimeSplit:
    """Split ``[start, end]`` in time: test = as-of dates of the final ``test_days`` whose labels are complete;
    validation = the ``validation_days`` before it, a horizon earlier; training = everything before, a horizon
    earlier again. ``end`` is the last day of data; ``test_days=0`` gives no test (a production fit).
    Dates lie on one grid every ``step_days`` anchored at ``end``, so splits of different horizons share
    their feature snapshots."""
    gap = dt.timedelta(days=horizon_days)
    last_label = end - gap
    test_start = end - dt.timedelta(days=test_days)
    val_end = test_start - gap
    val_start = val_end - dt.timedelta(days=validation_days)
    train_end = val_start - gap
    grid = snapshot_dates(start + dt.timedelta(days=90), end, step_days)  # one grid, anchored at the end
    test = tuple(d for d in grid if test_start <= d <= last_label) if test_days > 0 else ()
    validation = tuple(d for d in grid if val_start <= d <= val_end)
    train = tuple(d for d in grid if d <= train_end)
    if len(train) < 2 or not validation:
        raise ModelError(
            f"not enough history between {start} and {end} for a time split with a {horizon_days}-day horizon",
            hint="load more history (at least ~2 years) or use a shorter --test-days",
        )
    split = TimeSplit(train, validation, test, horizon_days)
    split.check()
    return split
