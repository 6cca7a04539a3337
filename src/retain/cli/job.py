"""The main job: what `make demo` (and `retain run`) prints, one section per domain, in a fixed order.

Each domain's CLI module may define ``main_job(wh, as_of)``; sections of domains not installed are skipped.
"""

from __future__ import annotations

import datetime as dt
import importlib

import typer

from retain.cli.common import AsOfOption, console, warehouse
from retain.warehouse import Warehouse, as_of_date

SECTIONS = (
    "retain.cli.ingest_cmds",
    "retain.cli.metrics_cmds",
    "retain.cli.health_cmds",
    "retain.cli.models_cmds",
    "retain.cli.clv_cmds",  # after the models: value at risk uses their per-account churn probability
    "retain.cli.calls_cmds",
)


def latest_data_date(wh: Warehouse) -> dt.date:
    """The last day with subscription or usage data: the natural 'today' of a loaded data set."""
    candidates = []
    for table, column in (("subscriptions", "started_on"), ("usage", "usage_on"), ("accounts", "created_at")):
        value = wh.raw(table)[column].max().execute()
        if value is not None and value == value:  # not NaT/NaN
            candidates.append(as_of_date(value))
    return max(candidates) if candidates else dt.datetime.now(dt.UTC).date()


def run_main_job(wh: Warehouse, as_of: dt.date | None = None) -> None:
    day = as_of or latest_data_date(wh)
    console.rule(f"[bold]Retain main job, as of {day.isoformat()}[/bold]")
    for name in SECTIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        section = getattr(module, "main_job", None)
        if section is not None:
            section(wh, day)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(ctx: typer.Context, as_of: str = AsOfOption) -> None:
        """Run the main job: status, retention, value, health and calls, as of a date."""
        run_main_job(warehouse(ctx), as_of_date(as_of) if as_of else None)
