"""Sales goals as a user writes them (``goals.yaml``): what the warehouse ``goals`` table cannot say.

The table holds ARR and count targets per person or team; units of a product and the share of them sold as
add-ons to existing customers need a product, so they live here. Both kinds become :class:`Goal` rows.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from retain.specs import load_yaml_spec

DEMO_GOALS = Path(__file__).with_name("demo_goals.yaml")


class GoalMetric(StrEnum):
    """What a goal counts."""

    NEW_BUSINESS_ARR = "new_business_arr"
    ADD_ON_ARR = "add_on_arr"
    RENEWAL_ARR = "renewal_arr"
    TOTAL_ARR = "total_arr"
    UNITS = "units"
    ADD_ON_SHARE = "add_on_share"
    OPPORTUNITIES_CREATED = "opportunities_created"
    MEETINGS = "meetings"
    CALLS = "calls"
    FOLLOW_UPS = "follow_ups"


class Goal(BaseModel):
    """One goal: a metric over a period, for a person, a team or (neither) the company."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    goal_id: str = Field(min_length=1)
    metric: GoalMetric
    period_start_on: dt.date
    period_end_on: dt.date
    target: float = Field(gt=0)
    member_id: str | None = None
    team: str | None = None
    product_id: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Goal:
        if self.period_end_on < self.period_start_on:
            raise ValueError("period_end_on is before period_start_on: swap them")
        if self.metric is GoalMetric.ADD_ON_SHARE and self.target > 1:
            raise ValueError("an add_on_share target is a fraction between 0 and 1 (0.7 for 70 %)")
        if self.metric in (GoalMetric.UNITS, GoalMetric.ADD_ON_SHARE) and not self.product_id:
            raise ValueError(f"a {self.metric.value} goal needs product_id (the product whose units count)")
        return self


class GoalSpec(BaseModel):
    """``goals.yaml``: ``version: 1`` and a list of goals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    goals: tuple[Goal, ...] = ()


def load_goal_spec(path: str | Path) -> GoalSpec:
    """Read a goals file, reporting every problem with its key (see docs/sales.md)."""
    return load_yaml_spec(GoalSpec, path, docs="docs/sales.md, section Goals")
