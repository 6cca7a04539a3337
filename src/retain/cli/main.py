"""Entry point of the ``retain`` command. Each domain registers its commands from its own module."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.markup import escape
from typer.core import TyperGroup

from retain.cli.common import err_console, state
from retain.errors import RetainError


class RetainGroup(TyperGroup):
    """Turns a :class:`RetainError` or a bad option value into a one-line message and its exit code (runner too)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:  # a bad value (date, choice) of a command's option: one line, exit 2
            if exc.ctx is None:
                raise
            err_console.print(f"[bold red]error:[/bold red] {escape(exc.format_message())}", highlight=False,
                              soft_wrap=True)
            err_console.print(f"[yellow]fix:[/yellow] see `{exc.ctx.command_path} --help`", highlight=False)
            sys.exit(exc.exit_code)
        except RetainError as exc:
            err_console.print(f"[bold red]error:[/bold red] {exc.message}", highlight=False, soft_wrap=True)
            if exc.hint:
                err_console.print(f"[yellow]fix:[/yellow] {exc.hint}", highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)


app = typer.Typer(
    cls=RetainGroup,
    name="retain",
    help="Retain: which customers are healthy, which are about to leave, what each is worth, what to do today.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Modules that add commands with ``register(app)``; each belongs to one domain.
COMMAND_MODULES = (
    "retain.cli.setup_cmds",
    "retain.cli.job",
    "retain.cli.ingest_cmds",
    "retain.cli.doctor_cmds",
    "retain.cli.demo_cmds",
    "retain.cli.metrics_cmds",
    "retain.cli.clv_cmds",
    "retain.cli.health_cmds",
    "retain.cli.health_fit_cmds",
    "retain.cli.models_cmds",
    "retain.cli.features_cmds",
    "retain.cli.calls_cmds",
    "retain.cli.web_cmds",
    "retain.cli.act_cmds",
    "retain.cli.deliver_cmds",
    "retain.cli.plans_cmds",
    "retain.cli.surveys_cmds",
    "retain.cli.sales_cmds",
)


@app.callback()
def main(
    ctx: typer.Context,
    db: str = typer.Option(
        None, "--db", envvar="RETAIN_DB",
        help="Warehouse: a DuckDB file (default ./retain.duckdb) or an Ibis URL; $RETAIN_WAREHOUSE also works.",
    ),
) -> None:
    state(ctx).db = db


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def run() -> None:
    """Console-script entry point."""
    app()
