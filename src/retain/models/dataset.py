"""Training tables: features at many past ``as_of`` dates stacked with the outcomes that followed each date.

:func:`build_model_frame` is the entry point for any data shape: outcomes from whatever source exists
(``outcomes.py``), features generated from whatever tables exist (``generated.py``), one
:class:`~retain.models.frame.ModelFrame`. ``build_frame`` / ``time_split`` are the older fixed-feature path
(subscription ends, ``features.py``), kept for the callers that still use it.

Splits are by time only. Between the last training date and the first validation date (and between validation
and test) lies a gap of at least the label horizon, so no training label overlaps a validation label's window.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import ibis.expr.types as ir
import pandas as pd

from retain.errors import ArgumentError, ModelError
from retain.models import generated
from retain.models.feature_prep import prepare
from retain.models.features import feature_frame
from retain.models.frame import ModelFrame, ObservationFrequency, OutcomeSource
from retain.models.labels import CHURN_DAYS, EXPANSION_DAYS, churn_labels, expansion_labels, renewal_labels
from retain.models.outcomes import (
    HORIZONS,
    OutcomeKind,
    OutcomeNeverOccurs,
    choose_defaults,
    observation_grid,
    outcome_table,
    population,
    sources,
)
from retain.warehouse import AsOf, Warehouse, as_of_date

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


@contextmanager
def _materialized(wh: Warehouse, expr: ir.Table) -> Iterator[ir.Table]:
    """``expr`` computed once into a temporary table (dropped afterwards) when the engine allows it."""
    name = f"_retain_tmp_{uuid.uuid4().hex[:12]}"
    try:
        wh.con.create_table(name, expr, temp=True)
    except Exception:  # noqa: BLE001 - an engine without temporary tables recomputes the expression instead
        yield expr
        return
    try:
        yield wh.con.table(name)
    finally:
        _drop(wh, name)


def _drop(wh: Warehouse, name: str) -> None:
    try:
        wh.con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')  # ibis 12's drop_table fails on DuckDB temp tables
    except Exception:  # noqa: BLE001
        wh.con.drop_table(name, force=True)


def _choice(value: object, enum: type, what: str):
    try:
        return enum(value)
    except ValueError:
        valid = ", ".join(e.value for e in enum)
        raise ArgumentError(f"unknown {what} '{value}'", hint=f"use one of: {valid}") from None


def build_model_frame(
    wh: Warehouse, *, as_of: AsOf, horizon_days: int | None = None,
    frequency: ObservationFrequency | str | None = None, outcome: OutcomeKind | str = "churn",
    top_event_types: int = generated.TOP_EVENT_TYPES, require_labels: bool = True,
) -> ModelFrame:
    """Observations of every customer at every date (``as_of`` itself included, unlabelled) with generated
    features and the ``outcome`` label looking ``horizon_days`` ahead; defaults from :func:`choose_defaults`.

    Raises :class:`OutcomeNeverOccurs` when no labelled observation has the outcome (skip that model), and
    :class:`ModelError` when no observation is labelled yet (unless ``require_labels=False``).
    """
    day = as_of_date(as_of)
    kind = _choice(outcome, OutcomeKind, "outcome")
    default_h, default_f, reason = choose_defaults(wh, day)
    if horizon_days is not None and horizon_days not in HORIZONS:
        raise ArgumentError(f"horizon {horizon_days} days is not supported",
                            hint=f"use one of: {', '.join(map(str, HORIZONS))}")
    horizon = horizon_days or default_h
    freq = _choice(frequency, ObservationFrequency, "frequency") if frequency is not None else default_f
    notes = [f"defaults: {reason}"] if horizon_days is None or frequency is None else []
    grid = observation_grid(wh, day, horizon_days=horizon, frequency=freq)
    found = generated.discover(wh, day, top_event_types=top_event_types)
    with _materialized(wh, generated.numbered(population(wh, grid))) as pop:
        ctx = generated.context(wh, grid, pop, found)
        labels = generated.aligned(ctx, outcome_table(wh, grid, horizon_days=horizon, kind=kind, pop=pop))
        frame, categorical = generated.compute(ctx, generated.families(ctx, found))
    numeric = tuple(c for c in frame.columns if c not in ("account_id", "as_of", *categorical))
    frame[kind.label] = labels[kind.label].astype("float64").to_numpy()
    frame["outcome_source"] = labels["outcome_source"].to_numpy()
    labelled = frame[kind.label].notna()
    if require_labels and not labelled.any():
        present = sources(wh, day, kind)
        snapshot_without_labels = grid.step_days is None and OutcomeSource.LABELS not in present
        if snapshot_without_labels or not present:
            raise OutcomeNeverOccurs(kind, 0)
    if require_labels and not labelled.any():
        raise ModelError(
            f"no observation before {day} has a complete {horizon}-day outcome window "
            f"({len(grid.dates)} observation dates)",
            hint="load more history or choose a shorter --horizon",
        )
    if labelled.any() and frame.loc[labelled, kind.label].sum() == 0:
        raise OutcomeNeverOccurs(kind, int(labelled.sum()))
    ready = prepare(frame, numeric, categorical)
    out = ready.frame
    out["as_of"] = out["as_of"].dt.date  # already in (as_of, account_id) order: the population's row numbers
    found_sources = sources(wh, day, kind)
    source = found_sources[0] if found_sources else OutcomeSource.SUBSCRIPTIONS
    if ready.dropped:
        notes.append(f"dropped (missing or constant): {', '.join(ready.dropped)}")
    return ModelFrame(out, ready.features, kind.label, horizon, source, ready.categorical, ready.groups,
                      ready.transforms, tuple(notes))
