"""The main job: what `make demo` (and `retain run`) prints, one section per domain, in a fixed order.

Each domain's CLI module defines ``main_job(wh, as_of)``; every section runs as of the one day chosen by
:func:`retain.warehouse.as_of_day`.
"""

from __future__ import annotations

import datetime as dt
import importlib

import typer

from retain.cli.clock import show_as_of
from retain.cli.common import AsOfOption, console, warehouse
from retain.warehouse import AsOfDay, Warehouse, as_of_day

SECTIONS = (
    "retain.cli.ingest_cmds",
    "retain.cli.metrics_cmds",
    "retain.cli.health_cmds",
    "retain.cli.models_cmds",
    "retain.cli.clv_cmds",  # after the models: value at risk uses their per-account churn probability
    "retain.cli.calls_cmds",
)


def run_main_job(wh: Warehouse, as_of: AsOfDay | dt.date | None = None) -> None:
    choice = as_of if isinstance(as_of, AsOfDay) else as_of_day(wh, as_of)
    console.rule(f"[bold]Retain main job, as of {choice.day.isoformat()}[/bold]")
    show_as_of(choice)
    for name in SECTIONS:
        importlib.import_module(name).main_job(wh, choice.day)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(ctx: typer.Context, as_of: str = AsOfOption) -> None:
        """Run the main job: status, retention, value, health and calls, as of a date."""
        wh = warehouse(ctx)
        run_main_job(wh, as_of_day(wh, as_of))
