"""Rules and playbooks as users write them (YAML), parsed into frozen pydantic specs.

A **rule** watches one signal over stored results or the warehouse (its ``trigger``) and, for every account where
the signal fires, asks for a call to action (CTA): a type, a stable reason (the dedupe key with the account and the
type), an owner by role, a priority (from the value at stake, or set), a due offset, a playbook and an auto-close
condition. A **playbook** is an ordered list of tasks, each with a due offset and a role; a task may be a
**customer-facing step**: an e-mail from one of the file's ``email_templates`` to a contact chosen by role, or an
invitation to a survey programme (:mod:`retain.action.customer_steps` sends them through the outbox).

Every problem is reported with the file and the key (``rules.2.trigger.above: ...``); a rule naming a playbook
that does not exist is one of them (:func:`load_rules` with ``playbooks``), and so are a step naming an e-mail
template or a survey programme that does not exist and a template using an unknown ``{placeholder}``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from retain.errors import ConfigError
from retain.results.model import AdoptionTier, HealthGrade
from retain.specs import load_yaml_spec

HERE = Path(__file__).parent
DEFAULT_RULES = HERE / "default_rules.yaml"
DEFAULT_PLAYBOOKS = HERE / "default_playbooks.yaml"
DOCS = "docs/action.md"


class CtaType(StrEnum):
    """What a call to action is about."""

    RISK = "risk"
    OPPORTUNITY = "opportunity"
    LIFECYCLE = "lifecycle"
    ACTIVITY = "activity"


class Priority(StrEnum):
    """How soon a CTA matters, most urgent first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class OwnerRole(StrEnum):
    """Who on the account's team receives a CTA."""

    ACCOUNT_OWNER = "account_owner"
    CSM = "csm"
    MANAGER = "manager"  # the account owner's manager


class TaskRole(StrEnum):
    """Who does a playbook's task."""

    CSM = "csm"
    REP = "rep"
    SUPPORT = "support"
    MARKETING = "marketing"
    EXECUTIVE_SPONSOR = "executive_sponsor"


class AutoClose(StrEnum):
    """When an open CTA closes by itself."""

    SIGNAL_CLEARS = "signal_clears"  # the rule no longer fires for the account
    NEVER = "never"  # only a person closes it


class NpsCategory(StrEnum):
    DETRACTOR = "detractor"  # 0-6
    PROMOTER = "promoter"  # 9-10


class UsageMeasure(StrEnum):
    EVENTS = "events"
    ACTIVE_USERS = "active_users"
    MINUTES = "minutes"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- triggers: one model per signal, told apart by ``kind`` ------------------------------------------------------

Probability = Annotated[float, Field(gt=0, lt=1)]


class HealthGradeDrop(_Spec):
    """The health grade is worse than it was ``lookback_days`` ago (stored health scores)."""

    kind: Literal["health_grade_drop"]
    lookback_days: int = Field(30, ge=7, le=365)
    to: tuple[HealthGrade, ...] = (HealthGrade.RED, HealthGrade.YELLOW)


class CriticalFactor(_Spec):
    """A scorecard's critical factor fired (any, or one of ``factors``)."""

    kind: Literal["critical_factor"]
    factors: tuple[str, ...] = ()


class ChurnProbability(_Spec):
    """The stored churn probability is above ``above``; a prediction counts for ``horizon_days`` after its date."""

    kind: Literal["churn_probability"]
    above: Probability
    horizon_days: int = Field(90, ge=1, le=730)


class AdoptionTierIs(_Spec):
    """The stored adoption tier is one of ``tiers``."""

    kind: Literal["adoption_tier"]
    tiers: tuple[AdoptionTier, ...] = (AdoptionTier.LOW,)
    horizon_days: int = Field(90, ge=1, le=730)


class UsageFalling(_Spec):
    """Usage over the last ``window_days`` fell by ``drop_pct`` percent or more against the window before."""

    kind: Literal["usage_falling"]
    window_days: int = Field(30, ge=7, le=180)
    drop_pct: float = Field(30.0, gt=0, le=100)
    measure: UsageMeasure = UsageMeasure.EVENTS
    min_previous: float = Field(1.0, ge=0)


class RenewalDue(_Spec):
    """A contract term ends within ``within_days`` and the health total is below ``health_below``."""

    kind: Literal["renewal_due"]
    within_days: int = Field(90, ge=1, le=730)
    health_below: float = Field(60.0, gt=0, le=100)


class Nps(_Spec):
    """The account's latest NPS answer within ``within_days`` is a detractor (0-6) or a promoter (9-10)."""

    kind: Literal["nps"]
    category: NpsCategory
    within_days: int = Field(90, ge=1, le=730)


class ExpansionPropensity(_Spec):
    """The stored upsell probability is above ``above`` (the next product is in the evidence)."""

    kind: Literal["expansion_propensity"]
    above: Probability
    horizon_days: int = Field(90, ge=1, le=730)


class NoTouch(_Spec):
    """No customer-facing activity for ``days`` (per segment in ``days_by_segment``), or never."""

    kind: Literal["no_touch"]
    days: int = Field(60, ge=1, le=730)
    days_by_segment: dict[str, Annotated[int, Field(ge=1, le=730)]] = {}
    activity_types: tuple[str, ...] = ("email", "call", "meeting", "qbr", "executive_meeting", "training")


class CallbackMissed(_Spec):
    """A customer asked on a call (stored ``call_events``) to be called back, and no customer-facing activity or
    call with the account followed within ``within_days`` of the time asked for (of the call when none was said).
    Requests older than ``lookback_days`` are left to ``no_touch``."""

    kind: Literal["callback_missed"]
    within_days: int = Field(2, ge=0, le=90)
    lookback_days: int = Field(30, ge=1, le=365)
    activity_types: tuple[str, ...] = ("email", "call", "meeting", "qbr", "executive_meeting", "training")


class LeadDropped(_Spec):
    """A lead that showed interest on a call (the customer said one of ``interest``: stored ``call_events``) was
    touched at most ``max_touches`` times and not since ``days`` ago; not converted nor disqualified. The CTA is
    on the lead (its id where an account id goes) and goes to the lead's owner."""

    kind: Literal["lead_dropped"]
    days: int = Field(14, ge=1, le=365)
    max_touches: int = Field(1, ge=1, le=10)
    lookback_days: int = Field(180, ge=1, le=730)  # only leads touched last within this many days
    interest: tuple[str, ...] = ("pricing_discussed", "callback_requested", "budget", "decision_maker",
                                 "next_steps_agreed")


class DealBelowBenchmark(_Spec):
    """An open deal's win probability is below its stage's benchmark (stored ``opportunity_scores``,
    ``below_benchmark``); one CTA per account (the deal furthest below in the evidence), to the deal's owner.
    A score counts for ``max_age_days`` after its date."""

    kind: Literal["deal_below_benchmark"]
    min_gap: float = Field(0.0, ge=0, lt=1)  # benchmark - p_win at least this much
    max_age_days: int = Field(14, ge=1, le=365)


Trigger = Annotated[
    HealthGradeDrop | CriticalFactor | ChurnProbability | AdoptionTierIs | UsageFalling | RenewalDue | Nps
    | ExpansionPropensity | NoTouch | CallbackMissed | LeadDropped | DealBelowBenchmark,
    Field(discriminator="kind"),
]
TRIGGER_KINDS = ("health_grade_drop", "critical_factor", "churn_probability", "adoption_tier", "usage_falling",
                 "renewal_due", "nps", "expansion_propensity", "no_touch", "callback_missed", "lead_dropped",
                 "deal_below_benchmark")


# -- rules ----------------------------------------------------------------------------------------------------

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class RuleSpec(_Spec):
    """One signal and the CTA it asks for."""

    name: Name
    version: int = Field(1, ge=1)
    type: CtaType
    reason: str = Field(min_length=3, max_length=120)  # stable words: with account and type, the dedupe key
    trigger: Trigger
    owner: OwnerRole = OwnerRole.ACCOUNT_OWNER
    priority: Priority | Literal["auto"] = "auto"
    due_days: int = Field(7, ge=0, le=365)
    playbook: Name | None = None
    auto_close: AutoClose = AutoClose.SIGNAL_CLEARS
    enabled: bool = True


class PriorityThresholds(_Spec):
    """``auto`` priority: the value at stake (ARR, times the probability when the trigger has one) against these."""

    critical: float = Field(100_000, ge=0)
    high: float = Field(30_000, ge=0)
    medium: float = Field(10_000, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> PriorityThresholds:
        if not self.critical >= self.high >= self.medium:
            raise ValueError("thresholds must be ordered: critical >= high >= medium")
        return self


class RoutingSpec(_Spec):
    """Who gets a CTA when the rule's role is empty: the ``fallback`` roles in order, then round-robin."""

    fallback: tuple[OwnerRole, ...] = (OwnerRole.ACCOUNT_OWNER, OwnerRole.CSM)
    round_robin_role: str | None = "csm"  # team_members.role of the pool for unowned accounts
    round_robin_members: tuple[str, ...] = ()  # or an explicit pool (wins over the role)


class RuleSetSpec(_Spec):
    """A rule set (``rules.yaml``)."""

    version: Literal[1] = 1
    escalate_after_days: int = Field(7, ge=1, le=365)  # overdue by this many days: escalates to the manager
    cooldown_days: int = Field(30, ge=0, le=365)  # a CTA done or dismissed does not re-fire for this long
    priority: PriorityThresholds = PriorityThresholds()
    routing: RoutingSpec = RoutingSpec()
    playbooks_file: str | None = None  # relative to this file; None: the shipped playbooks
    rules: tuple[RuleSpec, ...]

    @model_validator(mode="after")
    def _unique_names(self) -> RuleSetSpec:
        if not self.rules:
            raise ValueError("a rule set needs at least one rule under 'rules'")
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rule name '{rule.name}' is used twice; give each rule its own name")
            seen.add(rule.name)
        return self

    @property
    def enabled(self) -> tuple[RuleSpec, ...]:
        return tuple(r for r in self.rules if r.enabled)

    def rule(self, name: str) -> RuleSpec | None:
        return next((r for r in self.rules if r.name == name), None)


# -- playbooks ------------------------------------------------------------------------------------------------

class StepRecipient(StrEnum):
    """Whom a playbook e-mail goes to: the account's contact with this ``contacts.role`` (``primary``: the primary
    contact); when there is none, the primary contact, else the first with an e-mail address."""

    CHAMPION = "champion"
    DECISION_MAKER = "decision_maker"
    EXECUTIVE_SPONSOR = "executive_sponsor"
    PRIMARY = "primary"


PLACEHOLDERS = ("account_name", "contact_name", "owner_name")


class EmailTemplateSpec(_Spec):
    """A customer e-mail: subject and plain text with ``{account_name}``, ``{contact_name}`` and ``{owner_name}``.
    ``category`` is what the contact caps see (``transactional`` is exempt from them; a playbook's e-mail is not)."""

    subject: str = Field(min_length=3, max_length=300)
    text: str = Field(min_length=3, max_length=20_000)
    category: str = Field("success", pattern=r"^[a-z][a-z0-9_]*$", max_length=32)

    @field_validator("subject", "text")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            fields = [name for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise ValueError(f"{exc} (write a literal brace as {{{{ or }}}})") from None
        unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
        if unknown:
            raise ValueError(f"unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)} (use "
                             f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)})")
        return value

    def render(self, **values: str) -> tuple[str, str]:
        """Subject and text with the placeholders filled (the subject on one line)."""
        subject = self.subject.format(**values)
        return " ".join(subject.split()), self.text.format(**values)


class EmailStepSpec(_Spec):
    template: Name
    to: StepRecipient = StepRecipient.CHAMPION


class TaskSpec(_Spec):
    """One task; with ``email`` or ``survey`` it is also a customer-facing step Retain sends when the CTA is
    created (due ``due_days`` after it), through the outbox and the contact caps."""

    title: str = Field(min_length=3, max_length=200)
    role: TaskRole = TaskRole.CSM
    due_days: int = Field(0, ge=0, le=365)  # after the CTA is created
    email: EmailStepSpec | None = None
    survey: Name | None = None  # a survey programme's name

    @model_validator(mode="after")
    def _one_step(self) -> TaskSpec:
        if self.email is not None and self.survey is not None:
            raise ValueError("a task sends an e-mail or a survey, not both (split it into two tasks)")
        return self

    @property
    def customer_facing(self) -> bool:
        return self.email is not None or self.survey is not None


class PlaybookSpec(_Spec):
    title: str = Field(min_length=3, max_length=200)
    tasks: tuple[TaskSpec, ...]

    @model_validator(mode="after")
    def _has_tasks(self) -> PlaybookSpec:
        if not self.tasks:
            raise ValueError("a playbook needs at least one task under 'tasks'")
        return self


class PlaybookSetSpec(_Spec):
    """Playbooks by name (``playbooks.yaml``)."""

    version: Literal[1] = 1
    email_templates: dict[Name, EmailTemplateSpec] = {}
    playbooks: dict[Name, PlaybookSpec]

    @model_validator(mode="after")
    def _has_playbooks(self) -> PlaybookSetSpec:
        if not self.playbooks:
            raise ValueError("define at least one playbook under 'playbooks'")
        return self

    def steps(self) -> list[tuple[str, TaskSpec]]:
        """Every customer-facing step, with its key (``playbooks.NAME.tasks.I``)."""
        return [(f"playbooks.{name}.tasks.{i}", task) for name, play in self.playbooks.items()
                for i, task in enumerate(play.tasks) if task.customer_facing]


# -- loading --------------------------------------------------------------------------------------------------

def load_playbooks(path: str | Path | None = None) -> PlaybookSetSpec:
    """The playbooks at ``path`` (the shipped ones when None); a ConfigError lists every problem with its key,
    a step naming an e-mail template or a survey programme that does not exist included."""
    path = Path(path or DEFAULT_PLAYBOOKS)
    spec = load_yaml_spec(PlaybookSetSpec, path, docs=f"{DOCS}, section Playbooks")
    problems = _step_problems(spec)
    if problems:
        raise ConfigError(f"{path}: {'; '.join(problems)}", hint=f"see {DOCS}, section Customer-facing steps")
    return spec


def _step_problems(spec: PlaybookSetSpec) -> list[str]:
    """Steps naming a template not under ``email_templates``, or a survey programme not configured."""
    problems = [f"{key}.email.template: template '{task.email.template}' is not defined under email_templates "
                f"(known: {', '.join(sorted(spec.email_templates)) or 'none'})"
                for key, task in spec.steps() if task.email and task.email.template not in spec.email_templates]
    surveys = [(key, task.survey) for key, task in spec.steps() if task.survey]
    if surveys:
        from retain.surveys.spec import configured_programmes  # the programmes a survey step invites to

        try:
            known = {p.name for p in configured_programmes().programmes}
        except ConfigError as exc:  # the programmes file is broken: say so here too
            return [*problems, *(f"{key}.survey: cannot check programme '{name}': {exc.message}"
                                 for key, name in surveys)]
        problems += [f"{key}.survey: survey programme '{name}' is not defined (known: {', '.join(sorted(known))})"
                     for key, name in surveys if name not in known]
    return problems


def load_rules(path: str | Path | None = None) -> ActionConfig:
    """The rule set at ``path`` (the shipped one when None) with its playbooks (``playbooks_file``, relative to the
    rule file; the shipped playbooks when absent). A rule naming a playbook that does not exist is a problem at
    ``rules.N.playbook``; every problem names the file and the key."""
    path = Path(path or DEFAULT_RULES)
    spec = load_yaml_spec(RuleSetSpec, path, docs=f"{DOCS}, section Rules")
    book_path = (path.parent / spec.playbooks_file) if spec.playbooks_file else None
    if book_path is not None and not book_path.is_file():
        raise ConfigError(f"{path}: playbooks_file: no file {book_path}",
                          hint="give a playbooks YAML path relative to the rule file, or remove the key")
    playbooks = load_playbooks(book_path)
    missing = [f"rules.{i}.playbook: playbook '{r.playbook}' is not defined in {book_path or DEFAULT_PLAYBOOKS.name} "
               f"(known: {', '.join(sorted(playbooks.playbooks))})"
               for i, r in enumerate(spec.rules) if r.playbook and r.playbook not in playbooks.playbooks]
    if missing:
        raise ConfigError(f"{path}: {'; '.join(missing)}", hint="name a defined playbook, or remove the key")
    return ActionConfig(spec, playbooks)


@dataclass(frozen=True)
class ActionConfig:
    """A rule set and the playbooks its rules name."""

    rules: RuleSetSpec
    playbooks: PlaybookSetSpec
