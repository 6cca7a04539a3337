"""The main job: what `make demo` (and `retain run`) prints, one section per domain, in a fixed order.

Each domain's CLI module defines ``main_job(wh, as_of)``; every section runs as of the one day chosen by
:func:`retain.warehouse.as_of_day`.

Degrade, never abort: a section that cannot run on the data at hand (it raises a :class:`RetainError`, e.g. too
little history for a time split) prints what it needs and how to get it, and the next section runs. ``retain run``
exits 0 when every section ran and :data:`PARTIAL_RUN_EXIT` when some were skipped, naming them at the end.
A bug still propagates: any other exception, and a :class:`ResultError` (a computed result that does not fit its
declaration is our mistake, not the data's).
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass

import typer
from rich.markup import escape

from retain.cli.clock import show_as_of
from retain.cli.common import AsOfOption, console, warehouse
from retain.errors import ResultError, RetainError
from retain.warehouse import AsOfDay, Warehouse, as_of_day

SECTIONS = (
    "retain.cli.ingest_cmds",
    "retain.cli.metrics_cmds",
    "retain.cli.health_cmds",
    "retain.cli.models_cmds",
    "retain.cli.clv_cmds",  # after the models: value at risk uses their per-account churn probability
    "retain.cli.calls_cmds",
)
SECTION_TITLES = {
    "retain.cli.ingest_cmds": "status", "retain.cli.metrics_cmds": "retention",
    "retain.cli.health_cmds": "health", "retain.cli.models_cmds": "prediction",
    "retain.cli.clv_cmds": "value", "retain.cli.calls_cmds": "calls",
}
PARTIAL_RUN_EXIT = 8  # some sections were skipped; distinct from every RetainError exit code (1-7, 9, 10)


@dataclass(frozen=True)
class Skipped:
    """A section that could not run: its title and the error that said why (with its hint)."""

    section: str
    error: RetainError


def run_main_job(wh: Warehouse, as_of: AsOfDay | dt.date | None = None) -> list[Skipped]:
    """Run every section as of one day; returns the sections skipped because the data could not support them."""
    choice = as_of if isinstance(as_of, AsOfDay) else as_of_day(wh, as_of)
    console.rule(f"[bold]Retain main job, as of {choice.day.isoformat()}[/bold]")
    show_as_of(choice)
    skipped: list[Skipped] = []
    for name in SECTIONS:
        title = SECTION_TITLES.get(name, name)
        try:
            importlib.import_module(name).main_job(wh, choice.day)
        except ResultError:
            raise
        except RetainError as exc:
            skipped.append(Skipped(title, exc))
            console.print(f"[bold yellow]skipped the {title} section:[/bold yellow] {escape(exc.message)}",
                          highlight=False, soft_wrap=True)
            if exc.hint:
                console.print(f"[yellow]to run it:[/yellow] {escape(exc.hint)}", highlight=False, soft_wrap=True)
    if skipped:
        names = ", ".join(s.section for s in skipped)
        console.rule(f"[bold yellow]Partial run: {len(skipped)} of {len(SECTIONS)} sections skipped ({names})"
                     "[/bold yellow]")
    return skipped


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(ctx: typer.Context, as_of: str = AsOfOption) -> None:
        """Run the main job: status, retention, value, health and calls, as of a date.

        Exit code 0 when every section ran, 8 when some could not run on the data (each says what it needs).
        """
        wh = warehouse(ctx)
        if run_main_job(wh, as_of_day(wh, as_of)):
            raise typer.Exit(PARTIAL_RUN_EXIT)
