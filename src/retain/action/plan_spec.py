"""Success-plan templates as users write them (YAML, one template per segment), parsed into frozen pydantic specs.

A template is a title and its objectives. Each objective names a metric from the closed vocabulary of
:mod:`retain.action.plan_metrics`, a target (``target``: an absolute value, or ``increase_pct``: that much above the
start value measured when the plan is created) and a date (``due_days`` after creation, or ``due``: the account's
next renewal, the end of the quarter, the end of the next quarter). A plan for an account uses the template that
lists its segment, else the set's ``default``.

Every problem is reported with the file and the key (``plan_templates.smb.objectives.0.target: ...``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from retain.action.plan_metrics import PlanMetric
from retain.specs import load_yaml_spec

DEFAULT_TEMPLATES = Path(__file__).parent / "default_plan_templates.yaml"
DOCS = "docs/plans.md, section Success plans"
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class ObjectiveKind(StrEnum):
    """What an objective is for (pages group by it)."""

    ADOPTION = "adoption"
    OUTCOME = "outcome"
    RENEWAL = "renewal"
    EXPANSION = "expansion"


class DueAt(StrEnum):
    """A date an objective is due, relative to the plan's creation day."""

    RENEWAL = "renewal"  # the account's next contract end (term_end_on); 365 days when none is known
    QUARTER_END = "quarter_end"
    NEXT_QUARTER_END = "next_quarter_end"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObjectiveSpec(_Spec):
    title: str = Field(min_length=3, max_length=200)
    kind: ObjectiveKind = ObjectiveKind.ADOPTION
    metric: PlanMetric
    target: float | None = None
    increase_pct: float | None = Field(None, gt=-100, le=1000)
    due_days: int | None = Field(None, ge=1, le=1095)
    due: DueAt | None = None

    @model_validator(mode="after")
    def _one_target_one_date(self) -> ObjectiveSpec:
        if (self.target is None) == (self.increase_pct is None):
            raise ValueError("give exactly one of 'target' (a value) or 'increase_pct' (above the start value)")
        if (self.due_days is None) == (self.due is None):
            raise ValueError("give exactly one of 'due_days' or 'due' (renewal, quarter_end, next_quarter_end)")
        return self


class PlanTemplateSpec(_Spec):
    title: str = Field(min_length=3, max_length=200)
    segments: tuple[str, ...] = ()
    objectives: tuple[ObjectiveSpec, ...]

    @model_validator(mode="after")
    def _has_objectives(self) -> PlanTemplateSpec:
        if not self.objectives:
            raise ValueError("a template needs at least one objective under 'objectives'")
        return self


class PlanTemplateSetSpec(_Spec):
    """Templates by name (``plan_templates.yaml``)."""

    version: Literal[1] = 1
    default: Name
    plan_templates: dict[Name, PlanTemplateSpec]

    @model_validator(mode="after")
    def _consistent(self) -> PlanTemplateSetSpec:
        if self.default not in self.plan_templates:
            raise ValueError(f"default: template '{self.default}' is not defined under 'plan_templates' "
                             f"(known: {', '.join(sorted(self.plan_templates)) or 'none'})")
        owner: dict[str, str] = {}
        for name, template in self.plan_templates.items():
            for segment in template.segments:
                if segment in owner:
                    raise ValueError(f"segment '{segment}' is listed by templates '{owner[segment]}' and '{name}'; "
                                     "list each segment once")
                owner[segment] = name
        return self

    def for_segment(self, segment: str | None) -> str:
        """The template's name for an account of ``segment``."""
        return next((n for n, t in self.plan_templates.items() if segment in t.segments), self.default)


def load_plan_templates(path: str | Path | None = None) -> PlanTemplateSetSpec:
    """The templates at ``path`` (the shipped ones when None); a ConfigError lists every problem with its key."""
    return load_yaml_spec(PlanTemplateSetSpec, path or DEFAULT_TEMPLATES, docs=DOCS)
