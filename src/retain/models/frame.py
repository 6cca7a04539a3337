"""The contract between building training data and choosing a model: a :class:`ModelFrame`.

Whatever outcome source the data has (subscription ends, churn events, ``accounts.churned_at``, a labels file)
and whatever features it supports, the builder (``retain.models.dataset``) hands the validation and model-choice
code (``retain.models.validation`` / ``selection``) one frame of this shape, so neither knows about the other's
internals:

* one row per (``account_id``, ``as_of``) observation; ``as_of`` is a ``datetime.date``;
* ``features`` numeric columns (float; missing allowed) and ``categorical`` text columns, all computed from rows
  known at ``as_of``;
* ``label`` a 0/1 column (float, missing when the outcome window is not complete yet), looking ``horizon_days``
  ahead of ``as_of``;
* ``groups`` maps each feature to the group of correlated features it belongs to (for readable explanations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd


class OutcomeSource(StrEnum):
    """Where the churn outcome of an observation comes from, best first when several exist."""

    LABELS = "labels"                # outcome_labels rows (snapshot exports)
    CHURN_EVENTS = "churn_events"    # churn_events rows of type churn
    CHURNED_AT = "churned_at"        # accounts.churned_at
    SUBSCRIPTIONS = "subscriptions"  # no subscription in service at as_of + horizon


class ObservationFrequency(StrEnum):
    """How often observations are taken."""

    WEEK = "week"
    MONTH = "month"

    @property
    def days(self) -> int:
        return 7 if self is ObservationFrequency.WEEK else 30


@dataclass(frozen=True)
class ModelFrame:
    frame: pd.DataFrame
    features: tuple[str, ...]
    label: str
    horizon_days: int
    source: OutcomeSource
    categorical: tuple[str, ...] = ()
    groups: dict[str, str] = field(default_factory=dict)
    transforms: dict[str, str] = field(default_factory=dict)  # feature -> "log1p" when stored transformed
    notes: tuple[str, ...] = ()  # how the frame was built (defaults chosen and why, columns dropped)

    @property
    def dates(self) -> tuple:
        return tuple(sorted(self.frame["as_of"].unique()))

    def labelled(self) -> ModelFrame:
        """Only the rows whose outcome is known."""
        keep = self.frame[self.frame[self.label].notna()].reset_index(drop=True)
        return ModelFrame(keep, self.features, self.label, self.horizon_days, self.source, self.categorical,
                          self.groups, self.transforms, self.notes)
