"""Scorecard YAML as frozen pydantic specs: scorecards -> components -> measures, grades, critical factors, segments.

A file holds a :class:`ScorecardSetSpec` (several scorecards plus the rules choosing one per account) or a single
:class:`ScorecardSpec` (wrapped into a set with no rules). Weights need not sum to 100: they are normalised.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Band(Spec):
    """Values in ``[min, max)`` score ``score``; an open end is unbounded."""

    min: float | None = None
    max: float | None = None
    score: float


class BandsRule(Spec):
    kind: Literal["bands"] = "bands"
    bands: tuple[Band, ...]


class LinearRule(Spec):
    """0 at the worst end of ``[low, high]``, 100 at the best end, clipped outside."""

    kind: Literal["linear"] = "linear"
    low: float
    high: float
    direction: Direction = Direction.HIGHER_IS_BETTER


class PercentileRule(Spec):
    """Percentile rank (0-100) among accounts of the same segment scored with the same scorecard."""

    kind: Literal["percentile"] = "percentile"
    direction: Direction = Direction.HIGHER_IS_BETTER
    within: Literal["segment", "all"] = "segment"


class CategoriesRule(Spec):
    """Points per category of a text measure (``measure: category`` or ``billing_period``): a value -> points table;
    a value not listed scores ``other`` (rare values pooled by ``retain health fit``), or is not applicable when
    ``other`` is not given. Values match exactly (case and spaces count)."""

    kind: Literal["categories"] = "categories"
    points: dict[str, float] = Field(min_length=1)
    other: float | None = Field(default=None, ge=0, le=100)


ScoringRule = Annotated[BandsRule | LinearRule | PercentileRule | CategoriesRule, Field(discriminator="kind")]


class MeasureRef(Spec):
    """A built-in measure function (see ``retain.health.measures.MEASURES``) with its window parameters."""

    measure: str
    window_days: int | None = None
    baseline_days: int | None = None
    values: tuple[str, ...] | None = Field(
        default=None, description="Filter values: ticket priorities, activity types, survey type, contact roles, "
                                  "event types."
    )
    attribute: str | None = Field(
        default=None, description="A key of accounts.attributes (your extra account columns): a numeric key with "
                                  "`measure: attribute` (the default when `measure` is omitted), a text key "
                                  "with `measure: category`.")

    @model_validator(mode="before")
    @classmethod
    def _attribute_measure(cls, data):
        if isinstance(data, dict) and data.get("attribute") is not None and "measure" not in data:
            scoring = data.get("scoring")
            text = isinstance(scoring, dict) and scoring.get("kind") == "categories"
            return {**data, "measure": "category" if text else "attribute"}
        return data

    @property
    def params(self) -> dict:
        return {k: v for k, v in (("window_days", self.window_days), ("baseline_days", self.baseline_days),
                                  ("values", self.values), ("attribute", self.attribute)) if v is not None}

    @property
    def key(self) -> str:
        """Column name of the measure's value: the measure name plus any non-default parameters."""
        from retain.health.measures import measure_key

        return measure_key(self.measure, self.params)


class MeasureSpec(MeasureRef):
    name: str
    label: str | None = None
    weight: float = 1.0
    scoring: ScoringRule
    missing: float | None = Field(
        default=None, ge=0, le=100,
        description="Score when the value is missing (e.g. no NPS answer), as learned by `retain health fit` from "
                    "how such accounts churned. Default: missing = not applicable, its weight shared among the others.")


class ComponentSpec(Spec):
    name: str
    label: str | None = None
    weight: float = 1.0
    measures: tuple[MeasureSpec, ...]


class CriticalSpec(MeasureRef):
    """A fatal signal: when ``value <op> threshold`` the total is capped at ``cap`` (or set to ``set_to``)."""

    name: str
    reason: str | None = None
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    threshold: float
    cap: float | None = None
    set_to: float | None = None


class GradesSpec(Spec):
    """Red below ``red_below``, green from ``green_from``, yellow between."""

    red_below: float = 40.0
    green_from: float = 70.0


class CalibrationPoint(Spec):
    total: float = Field(ge=0, le=100)
    probability: float = Field(ge=0, le=1)


class CalibrationSpec(Spec):
    """Health total -> probability of churn within ``horizon_days``: linear between the points (sorted by total,
    probability never rising with the total), flat beyond the ends. Written by ``retain health fit``."""

    horizon_days: int = Field(gt=0)
    points: tuple[CalibrationPoint, ...] = Field(min_length=2)


class FitSpec(Spec):
    """How ``retain health fit`` made this scorecard (information only; scoring does not read it)."""

    as_of: str
    horizon_days: int
    outcome_source: str
    observation_dates: int
    observations: int
    churned_accounts: int
    churn_rate: float
    validation: str
    auc: float | None = None
    auc_interval: tuple[float, float] | None = None
    auc_logistic: float | None = None
    auc_logistic_interval: tuple[float, float] | None = None


class ScorecardSpec(Spec):
    version: Literal[1] = 1
    name: str
    description: str | None = None
    grades: GradesSpec = GradesSpec()
    components: tuple[ComponentSpec, ...]
    critical: tuple[CriticalSpec, ...] = ()
    calibration: CalibrationSpec | None = None
    fit: FitSpec | None = None


class SegmentRule(Spec):
    """Accounts matching every given condition get ``scorecard``; the first matching rule wins."""

    scorecard: str
    segment: tuple[str, ...] | None = None
    industry: tuple[str, ...] | None = None
    region: tuple[str, ...] | None = None
    country: tuple[str, ...] | None = None
    min_arr: float | None = None
    max_arr: float | None = None


class ScorecardSetSpec(Spec):
    version: Literal[1] = 1
    default: str | None = Field(default=None, description="Scorecard for accounts no rule matches (default: first).")
    scorecards: tuple[ScorecardSpec, ...]
    rules: tuple[SegmentRule, ...] = ()

    @property
    def default_name(self) -> str:
        return self.default or self.scorecards[0].name

    def get(self, name: str) -> ScorecardSpec:
        for card in self.scorecards:
            if card.name == name:
                return card
        raise KeyError(name)

    def all_refs(self) -> list[MeasureRef]:
        """Every measure and critical factor of every scorecard (value columns to compute)."""
        refs: list[MeasureRef] = []
        for card in self.scorecards:
            refs.extend(m for comp in card.components for m in comp.measures)
            refs.extend(card.critical)
        return refs


# Kept as an alias so callers can say ``ScorecardSet``.
ScorecardSet = ScorecardSetSpec


def json_schema() -> dict:
    """JSON Schema of a scorecard file (a set, or a single scorecard), committed as ``schema/scorecard.schema.json``."""
    schema = ScorecardSetSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Retain health scorecard"
    schema.setdefault("$defs", {})
    single = ScorecardSpec.model_json_schema()
    schema["$defs"].update(single.pop("$defs", {}))
    schema["$defs"]["ScorecardSpec"] = single
    set_props = {k: v for k, v in schema.items() if k in ("properties", "required", "additionalProperties", "type")}
    for key in set_props:
        schema.pop(key)
    schema["$defs"]["ScorecardSetSpec"] = {"title": "ScorecardSetSpec", **set_props}
    schema["anyOf"] = [{"$ref": "#/$defs/ScorecardSetSpec"}, {"$ref": "#/$defs/ScorecardSpec"}]
    return schema


if __name__ == "__main__":  # python -m retain.health.spec > src/retain/health/schema/scorecard.schema.json
    import json

    print(json.dumps(json_schema(), indent=2, sort_keys=True))
