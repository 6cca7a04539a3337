"""The YAML playbook: trackers, compliance rules, SOP stages and talk-ratio benchmarks, as frozen pydantic specs.

A playbook file looks like::

    version: 1
    trackers:
      - name: pricing
        kind: keyword            # keyword | regex | semantic
        keywords: [price, pricing, cost, 价格, 报价, 多少钱]
        match: any               # any | all | n_of (with n:)
        speaker: any             # any | rep | customer
        questions_only: false
      - name: discount_promise
        kind: regex
        pattern: "\\b\\d+ ?% (?:off|discount)"
        exclude: "no discount"
    compliance: {forbidden: [guarantee], sensitive: [competitor_badmouth], required: [recording_disclosure]}
    sop: {stages: [{name: greeting, trackers: [greeting]}, ...]}
    benchmarks: {cold_call: 0.55, discovery: 0.43}   # rep share of talk time

Every problem is reported with its key path (pydantic's errors, collected, not just the first).
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from retain.errors import ConfigError

DEFAULT_PLAYBOOK = Path(__file__).with_name("default_trackers.yaml")


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrackerKind(StrEnum):
    KEYWORD = "keyword"
    REGEX = "regex"
    SEMANTIC = "semantic"


class MatchMode(StrEnum):
    ANY = "any"
    ALL = "all"
    N_OF = "n_of"


class SpeakerScope(StrEnum):
    ANY = "any"
    REP = "rep"
    CUSTOMER = "customer"


class TrackerSpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: TrackerKind = TrackerKind.KEYWORD
    description: str = ""
    category: str | None = None  # groups trackers into events: pricing, competitor, objection...
    keywords: tuple[str, ...] = ()
    match: MatchMode = MatchMode.ANY
    n: int | None = Field(default=None, ge=1)
    word_forms: bool = True
    pattern: str | None = None
    exclude: str | None = None
    examples: tuple[str, ...] = ()
    threshold: float = Field(default=0.6, gt=0, le=1)
    speaker: SpeakerScope = SpeakerScope.ANY
    questions_only: bool = False

    @field_validator("pattern", "exclude")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _fits_kind(self) -> TrackerSpec:
        if self.kind is TrackerKind.KEYWORD and not self.keywords:
            raise ValueError("a keyword tracker needs 'keywords'")
        if self.kind is TrackerKind.REGEX and not self.pattern:
            raise ValueError("a regex tracker needs 'pattern'")
        if self.kind is TrackerKind.SEMANTIC and not self.examples:
            raise ValueError("a semantic tracker needs 'examples'")
        if self.match is MatchMode.N_OF and (self.n is None or self.n > len(self.keywords)):
            raise ValueError("match: n_of needs 'n' between 1 and the number of keywords")
        return self

    @property
    def required_count(self) -> int:
        """Distinct keywords an utterance must contain for the tracker to fire."""
        if self.match is MatchMode.ALL:
            return len(set(self.keywords))
        if self.match is MatchMode.N_OF:
            return int(self.n or 1)
        return 1


class ComplianceSpec(_Spec):
    forbidden: tuple[str, ...] = ()  # tracker names that must never fire on the rep side
    sensitive: tuple[str, ...] = ()  # tracker names a reviewer should look at
    required: tuple[str, ...] = ()  # disclosures the rep must make in every call
    required_call_types: tuple[str, ...] = ()  # empty: every call type


class StageSpec(_Spec):
    name: str
    trackers: tuple[str, ...]
    weight: float = Field(default=1.0, ge=0)


class SopSpec(_Spec):
    stages: tuple[StageSpec, ...] = ()
    call_types: tuple[str, ...] = ()  # empty: every call type
    order_weight: float = Field(default=0.2, ge=0, le=1)  # share of the QA score for stage order


class PlaybookSpec(_Spec):
    version: int = Field(ge=1, le=1)
    trackers: tuple[TrackerSpec, ...]
    compliance: ComplianceSpec = ComplianceSpec()
    sop: SopSpec = SopSpec()
    benchmarks: dict[str, float] = Field(default_factory=lambda: {"cold_call": 0.55, "discovery": 0.43})
    fillers: tuple[str, ...] = (
        "um", "uh", "erm", "hmm", "like", "you know", "i mean", "sort of", "kind of", "basically", "actually",
        "嗯", "呃", "那个", "就是", "然后", "这个", "对对对",
    )
    silence_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _names_resolve(self) -> PlaybookSpec:
        names = [t.name for t in self.trackers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate tracker names: {dupes}")
        known = set(names)
        refs = [*self.compliance.forbidden, *self.compliance.sensitive, *self.compliance.required]
        refs += [t for s in self.sop.stages for t in s.trackers]
        missing = sorted({r for r in refs if r not in known})
        if missing:
            raise ValueError(f"compliance/sop refer to unknown trackers: {missing}")
        return self

    @cached_property
    def by_name(self) -> dict[str, TrackerSpec]:
        return {t.name: t for t in self.trackers}


def load_playbook(path: str | Path | None = None) -> PlaybookSpec:
    """Read and validate a playbook YAML (the shipped default when ``path`` is None)."""
    source = Path(path) if path else DEFAULT_PLAYBOOK
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read trackers file {source}: {exc}", hint="check the --trackers path") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}", hint="fix the YAML syntax at the line shown") from exc
    try:
        return PlaybookSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{source}: {len(exc.errors())} problem(s): {problems}",
                          hint="see docs/conversations.md for the trackers file format") from exc
