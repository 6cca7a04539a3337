"""Survey programmes as YAML: what to ask, after which touchpoint, whom, when, and the throttling shared by all.

A file holds the global throttling (``recontact_days`` across every programme, ``account_monthly_cap``, the
exclusions) and a list of programmes; a programme names its survey type, its trigger, its audience by contact role,
its delay after the touchpoint and its one reminder. Programme order is priority: when a contact qualifies for two
programmes the same day, the first one listed wins. ``retain validate`` recognises the kind by ``programmes``.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from retain.errors import ConfigError
from retain.specs import load_yaml_spec

DEFAULT_PROGRAMMES = Path(__file__).parent / "default_programmes.yaml"
ENV_PROGRAMMES = "RETAIN_SURVEY_PROGRAMMES"
DOCS = "docs/surveys.md"


class SurveyType(StrEnum):
    """The scale asked, as stored in ``survey_responses.survey_type``."""

    NPS = "nps"  # 0-10: how likely to recommend
    CSAT = "csat"  # 1-5: how satisfied
    CES = "ces"  # 1-7: how easy

    @property
    def scale(self) -> tuple[int, int]:
        return {SurveyType.NPS: (0, 10), SurveyType.CSAT: (1, 5), SurveyType.CES: (1, 7)}[self]


class TriggerKind(StrEnum):
    ONBOARDING_COMPLETED = "onboarding_completed"  # an onboarding milestone activity completed
    QBR_HELD = "qbr_held"  # a QBR activity completed
    TICKET_RESOLVED = "ticket_resolved"  # a support ticket resolved (its contact is asked)
    RENEWAL_SIGNED = "renewal_signed"  # a renewal opportunity won
    PERIODIC = "periodic"  # a relationship survey every N months

    @property
    def touchpoint(self) -> str:
        """The value of ``survey_responses.touchpoint`` for answers after this trigger."""
        return {TriggerKind.ONBOARDING_COMPLETED: "onboarding", TriggerKind.QBR_HELD: "qbr",
                TriggerKind.TICKET_RESOLVED: "support_ticket", TriggerKind.RENEWAL_SIGNED: "renewal",
                TriggerKind.PERIODIC: "relationship"}[self]


class ContactRole(StrEnum):
    """``contacts.role`` values an audience can name (``user`` is an end user)."""

    CHAMPION = "champion"
    DECISION_MAKER = "decision_maker"
    EXECUTIVE_SPONSOR = "executive_sponsor"
    USER = "user"
    BILLING = "billing"
    TECHNICAL = "technical"
    OTHER = "other"


class Exclusion(StrEnum):
    """Why a contact is never surveyed, whatever the programme."""

    OPTED_OUT = "opted_out"  # unsubscribed (survey_opt_outs)
    CHURNED = "churned"  # the account has churned_at by the day
    OPEN_ESCALATION = "open_escalation"  # an escalated ticket still open
    CRITICAL_TICKET = "critical_ticket"  # an urgent ticket still open


class Language(StrEnum):
    EN = "en"
    ZH = "zh"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TriggerSpec(_Spec):
    kind: TriggerKind
    milestone: str | None = Field(None, description="onboarding_completed: the milestone (activity subject) that "
                                  "ends onboarding; any completed milestone when empty.")
    every_months: int | None = Field(None, ge=1, le=36, description="periodic: months between two surveys.")

    @model_validator(mode="after")
    def _fits_kind(self) -> TriggerSpec:
        if self.kind is TriggerKind.PERIODIC and self.every_months is None:
            raise ValueError("a periodic trigger needs every_months (e.g. every_months: 6)")
        if self.kind is not TriggerKind.PERIODIC and self.every_months is not None:
            raise ValueError("every_months only applies to kind: periodic")
        if self.milestone is not None and self.kind is not TriggerKind.ONBOARDING_COMPLETED:
            raise ValueError("milestone only applies to kind: onboarding_completed")
        return self


class Texts(_Spec):
    """A text in each language; English is required, others fall back to Retain's translation."""

    en: str = Field(min_length=1, max_length=500)
    zh: str | None = Field(None, min_length=1, max_length=500)


class ProgrammeSpec(_Spec):
    name: str = Field(min_length=2, max_length=64)
    survey: SurveyType
    trigger: TriggerSpec
    audience: tuple[ContactRole, ...] = Field((), description="Contact roles asked; every role when empty. "
                                              "A ticket's survey goes to the contact who raised it.")
    delay_days: int = Field(1, ge=0, le=90, description="Days after the touchpoint before the invitation.")
    reminder_days: int | None = Field(5, ge=1, le=30, description="One reminder this many days after the "
                                      "invitation when unanswered; none when empty.")
    question: Texts | None = Field(None, description="The scored question; Retain's standard one when empty.")
    follow_up: Texts | None = Field(None, description="The open question after the score.")

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise ValueError(f"'{value}' is not a programme name: use lower-case letters, digits and underscores, "
                             "starting with a letter (e.g. onboarding_nps)")
        return value


class ProgrammeSetSpec(_Spec):
    version: Literal[1] = 1
    recontact_days: int = Field(90, ge=0, le=730, description="A contact surveyed by any programme is not surveyed "
                                "again within this many days.")
    account_monthly_cap: int = Field(5, ge=1, le=1000, description="Invitations per account per calendar month.")
    exclusions: tuple[Exclusion, ...] = tuple(Exclusion)
    catch_up_days: int = Field(7, ge=0, le=60, description="A touchpoint whose day came while no run happened is "
                               "still surveyed this many days late.")
    link_days: int = Field(14, ge=1, le=90, description="Days a survey link stays valid.")
    base_url: str = Field("http://127.0.0.1:8000", pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
                          description="Address of `retain serve` as customers reach it (links point there); "
                          "$RETAIN_PUBLIC_URL overrides it.")
    programmes: tuple[ProgrammeSpec, ...]

    @model_validator(mode="after")
    def _unique_names(self) -> ProgrammeSetSpec:
        if not self.programmes:
            raise ValueError("define at least one programme under 'programmes'")
        names = [p.name for p in self.programmes]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"programme names must be unique; repeated: {', '.join(twice)}")
        return self

    def programme(self, name: str) -> ProgrammeSpec:
        found = next((p for p in self.programmes if p.name == name), None)
        if found is None:
            raise KeyError(name)
        return found


def load_programmes(path: str | Path | None = None) -> ProgrammeSetSpec:
    """The programmes at ``path`` (the shipped ones when None); a ConfigError lists every problem with its key."""
    return load_yaml_spec(ProgrammeSetSpec, path or DEFAULT_PROGRAMMES, docs=DOCS)


def configured_programmes(path: str | Path | None = None) -> ProgrammeSetSpec:
    """The programmes at ``path``, else ``$RETAIN_SURVEY_PROGRAMMES``, else the shipped ones."""
    return load_programmes(path or os.environ.get(ENV_PROGRAMMES) or None)


@lru_cache(maxsize=4)
def _cached(path: str) -> ProgrammeSetSpec:
    return load_programmes(path or None)


def programme_named(name: str) -> ProgrammeSpec | None:
    """A configured programme by name, read once per process (the survey page's wording); None when gone."""
    try:
        return _cached(os.environ.get(ENV_PROGRAMMES) or "").programme(name)
    except (KeyError, ConfigError):
        return None
