"""The main job: what ``retain run`` (and ``make demo``) computes, one section per domain, in a fixed order.

Every section runs as of the one day chosen by :func:`retain.warehouse.as_of_day` and returns a small typed result
(see each section's module); the faces render them. Degrade, never abort: a section that cannot run on the data
at hand (it raises a :class:`~retain.errors.RetainError`, e.g. too little history for a time split) is recorded as
skipped with that error, which says what it needs and how to get it, and the next section runs. A bug still
propagates: any other exception, and a :class:`~retain.errors.ResultError` (a computed result that does not fit
its declaration is our mistake, not the data's). ``retain run`` exits 0 when every section ran and
:data:`PARTIAL_RUN_EXIT` when some were skipped.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from retain.errors import ResultError, RetainError
from retain.jobs import action, calls, health, plans, prediction, retention, sales, status, surveys, value
from retain.warehouse import AsOfDay, Warehouse, as_of_day

PARTIAL_RUN_EXIT = 8  # some sections were skipped; distinct from every RetainError exit code (1-7, 9, 10)


class SectionName(StrEnum):
    """The main job's sections, in the order they run."""

    STATUS = "status"
    RETENTION = "retention"
    HEALTH = "health"
    PREDICTION = "prediction"
    VALUE = "value"  # after the prediction: value at risk uses its per-account churn probability
    CALLS = "calls"
    SALES = "sales"  # before the action: the deal_below_benchmark rule reads its opportunity scores
    ACTION = "action"  # the rules read what the sections before stored (health, propensity, call events, deals)
    PLANS = "plans"  # after the action: plans link the CTAs it opened
    SURVEYS = "surveys"  # last: invitations through the outbox, throttled by what the sections before sent


@dataclass(frozen=True)
class Section:
    """One section: its name and the computation, ``compute(wh, day) -> result`` (stores what it stores)."""

    name: str
    compute: Callable[[Warehouse, dt.date], Any]


SECTIONS: tuple[Section, ...] = (
    Section(SectionName.STATUS, status.status_section),
    Section(SectionName.RETENTION, retention.retention_section),
    Section(SectionName.HEALTH, health.health_section),
    Section(SectionName.PREDICTION, prediction.prediction_section),
    Section(SectionName.VALUE, value.value_section),
    Section(SectionName.CALLS, calls.calls_section),
    Section(SectionName.SALES, sales.sales_section),
    Section(SectionName.ACTION, action.action_section),
    Section(SectionName.PLANS, lambda wh, day: plans.plans_section(wh, action.database_url(wh), day)),
    Section(SectionName.SURVEYS, lambda wh, day: surveys.surveys_section(wh, action.database_url(wh), day)),
)


@dataclass(frozen=True)
class Skipped:
    """A section that could not run: its name and the error that said why (with its hint)."""

    section: str
    error: RetainError


@dataclass(frozen=True)
class SectionRun:
    """What one section did: its result, or why it was skipped; and how long it took."""

    section: str
    result: Any = None
    skipped: Skipped | None = None
    seconds: float = 0.0

    @property
    def ran(self) -> bool:
        return self.skipped is None


@dataclass
class JobResult:
    """Every section's run, in order, as of one day."""

    as_of: AsOfDay
    runs: list[SectionRun] = field(default_factory=list)

    @property
    def skipped(self) -> list[Skipped]:
        return [r.skipped for r in self.runs if r.skipped is not None]

    @property
    def complete(self) -> bool:
        return not self.skipped

    @property
    def exit_code(self) -> int:
        return 0 if self.complete else PARTIAL_RUN_EXIT

    def result(self, section: str) -> Any:
        """The result of ``section``; ``None`` when it was skipped or did not run."""
        return next((r.result for r in self.runs if r.section == section), None)


class JobListener(Protocol):
    """What a face hears while the job runs, to show each section as soon as it is done."""

    def started(self, section: str) -> None: ...

    def finished(self, run: SectionRun) -> None: ...


def run_section(section: Section, wh: Warehouse, day: dt.date) -> SectionRun:
    """Run one section; a :class:`RetainError` other than a :class:`ResultError` makes it a skipped run."""
    start = time.perf_counter()
    try:
        result = section.compute(wh, day)
    except ResultError:
        raise
    except RetainError as exc:
        return SectionRun(section.name, skipped=Skipped(section.name, exc), seconds=time.perf_counter() - start)
    return SectionRun(section.name, result=result, seconds=time.perf_counter() - start)


def run_main_job(wh: Warehouse, as_of: AsOfDay | dt.date | str | None = None,
                 listener: JobListener | None = None) -> JobResult:
    """Run every section of :data:`SECTIONS` as of one day (``as_of``, else :func:`as_of_day`'s choice)."""
    choice = as_of if isinstance(as_of, AsOfDay) else as_of_day(wh, as_of)
    job = JobResult(choice)
    for section in SECTIONS:
        if listener is not None:
            listener.started(section.name)
        run = run_section(section, wh, choice.day)
        job.runs.append(run)
        if listener is not None:
            listener.finished(run)
    return job
