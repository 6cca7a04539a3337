"""``retain run``: the main job (:mod:`retain.jobs.main`) rendered section by section, as each one finishes.

The job computes and stores; this module prints: the header and the day (with its reason), each section's rule
and tables (each domain's CLI module has a ``render_section``), a section that could not run with what it needs
and how to get it, and a closing line naming the skipped sections. ``retain run`` exits 0 when every section ran
and :data:`PARTIAL_RUN_EXIT` (8) when some were skipped; a bug still propagates (see :mod:`retain.jobs.main`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import typer
from rich.markup import escape

from retain.cli import (
    calls_cmds,
    clv_cmds,
    health_cmds,
    ingest_cmds,
    metrics_cmds,
    models_cmds,
    plans_cmds,
    sales_cmds,
    surveys_cmds,
)
from retain.cli.clock import show_as_of
from retain.cli.common import AsOfOption, console, warehouse, working
from retain.errors import RetainError
from retain.jobs import main as job
from retain.jobs.action import ActionSection
from retain.jobs.main import PARTIAL_RUN_EXIT, JobResult, SectionName, SectionRun
from retain.warehouse import AsOfDay, Warehouse, as_of_day

__all__ = ["PARTIAL_RUN_EXIT", "print_section", "register", "run_main_job"]


def render_action(section: ActionSection) -> None:
    """Action section (:mod:`retain.jobs.action`): what changed, the customer-facing steps written or withdrawn,
    then one line per owner, most open CTAs first."""
    for rule, why in sorted(section.skipped_rules.items()):
        console.print(f"[yellow]skipped rule {rule}:[/yellow] {escape(why)}", highlight=False, soft_wrap=True)
    console.print(f"{section.fired:,} (account, rule) pairs fired; created {section.total('created'):,}, updated "
                  f"{section.total('updated'):,}, reopened {section.total('reopened'):,}, auto-closed "
                  f"{section.total('auto_closed'):,}, escalated {section.total('escalated'):,} "
                  f"(in {escape(section.database)}; `retain ctas --owner ID` lists them)", highlight=False)
    if steps := section.steps.summary():
        console.print(escape(steps), highlight=False, soft_wrap=True)
    for row in section.per_owner.itertuples(index=False):
        who = (row.owner_id if not row.owner_name else row.owner_name if row.owner_id in row.owner_name
               else f"{row.owner_name} ({row.owner_id})")
        changed = ", ".join(f"{n:,} {c.replace('_', '-')}" for c, n in
                            (("created", row.created), ("updated", row.updated), ("reopened", row.reopened),
                             ("auto_closed", row.auto_closed), ("escalated", row.escalated)) if n)
        console.print(f"  {escape(who)}: {row.open:,} open" + (f"; {changed}" if changed else ""), highlight=False)


RULES = {  # the rule printed above a section (the status section has none)
    SectionName.RETENTION: "Retention and revenue",
    SectionName.HEALTH: "Customer health",
    SectionName.PREDICTION: "Prediction: churn and upsell propensity",
    SectionName.VALUE: "Lifetime value",
    SectionName.CALLS: "Calls",
    SectionName.SALES: "Sales: goals, deals below benchmark, forecast",
    SectionName.ACTION: "Calls to action",
    SectionName.PLANS: "Success plans",
    SectionName.SURVEYS: "Surveys",
}
RENDERERS: dict[str, Callable[[Any], None]] = {
    SectionName.STATUS: ingest_cmds.render_section,
    SectionName.RETENTION: metrics_cmds.render_section,
    SectionName.HEALTH: health_cmds.render_section,
    SectionName.PREDICTION: models_cmds.render_section,
    SectionName.VALUE: clv_cmds.render_section,
    SectionName.CALLS: calls_cmds.render_section,
    SectionName.SALES: sales_cmds.render_section,
    SectionName.ACTION: render_action,
    SectionName.PLANS: plans_cmds.render_section,
    SectionName.SURVEYS: surveys_cmds.render_section,
}


class ConsoleListener:
    """Prints a section's rule when it starts (a spinner on stderr while it runs) and its tables when it is done."""

    def __init__(self) -> None:
        self._spinner = ExitStack()

    def started(self, section: str) -> None:
        if section in RULES:
            console.rule(f"[bold]{RULES[section]}[/bold]")
        self._spinner.enter_context(working(f"computing the {section} section"))

    def close(self) -> None:
        """Stop the spinner (also when a section raised: a bug propagates)."""
        self._spinner.close()

    def finished(self, run: SectionRun) -> None:
        self.close()
        if run.skipped is not None:
            error = run.skipped.error
            console.print(f"[bold yellow]skipped the {run.section} section:[/bold yellow] {escape(error.message)}",
                          highlight=False, soft_wrap=True)
            if error.hint:
                console.print(f"[yellow]to run it:[/yellow] {escape(error.hint)}", highlight=False, soft_wrap=True)
        elif run.section in RENDERERS:
            RENDERERS[run.section](run.result)


def print_section(wh: Warehouse, day: dt.date, name: str) -> SectionRun:
    """Run one section of the main job as of ``day`` and print it as ``retain run`` does (rule, tables)."""
    section = next((s for s in job.SECTIONS if s.name == name), None)
    if section is None:
        raise RetainError(f"no main-job section '{name}'", hint=f"one of: {', '.join(s.name for s in job.SECTIONS)}")
    listener = ConsoleListener()
    listener.started(section.name)
    try:
        run = job.run_section(section, wh, day)
    finally:
        listener.close()
    listener.finished(run)
    return run


def run_main_job(wh: Warehouse, as_of: AsOfDay | dt.date | None = None) -> JobResult:
    """Run the main job as of one day and print it; returns what ran and what was skipped."""
    choice = as_of if isinstance(as_of, AsOfDay) else as_of_day(wh, as_of)
    console.rule(f"[bold]Retain main job, as of {choice.day.isoformat()}[/bold]")
    show_as_of(choice)
    listener = ConsoleListener()
    try:
        result = job.run_main_job(wh, choice, listener)
    finally:
        listener.close()
    if result.skipped:
        names = ", ".join(s.section for s in result.skipped)
        console.rule(f"[bold yellow]Partial run: {len(result.skipped)} of {len(result.runs)} sections skipped "
                     f"({names})[/bold yellow]")
    return result


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(ctx: typer.Context, as_of: str = AsOfOption) -> None:
        """Run the main job: status, retention, value, health, calls and calls to action, as of a date.

        Exit code 0 when every section ran, 8 when some could not run on the data (each says what it needs).
        """
        wh = warehouse(ctx)
        result = run_main_job(wh, as_of_day(wh, as_of))
        if not result.complete:
            raise typer.Exit(result.exit_code)
