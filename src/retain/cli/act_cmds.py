"""``retain act`` (rules -> calls to action, and their backtest), ``retain ctas`` and ``retain tasks done``.

Thin face: evaluating and storing is :mod:`retain.action` (through :mod:`retain.action.service`, which opens the
application database); this module resolves the options and prints.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import typer

from retain.cli.clock import chosen_day
from retain.cli.common import AsOfOption, OutOption, console, export, show_frame, state, working
from retain.warehouse.names import with_names

RulesOption = typer.Option(None, "--rules", help="Rule set YAML (default: the shipped rules); see docs/action.md.")


def _database_url(ctx: typer.Context) -> str:
    """The application database, as ``retain serve`` and ``retain publish`` resolve it: the settings'
    ``database_url`` (``$RETAIN_DATABASE_URL``), else ``retain.sqlite`` next to the warehouse."""
    from retain.server.settings import Settings
    from retain.state.db import default_url

    warehouse = state(ctx).db or os.environ.get("RETAIN_WAREHOUSE")
    settings = Settings(dev=True, **({"warehouse": warehouse} if warehouse else {}))
    return settings.database_url or default_url(settings.warehouse)


def _with_names(ctx: typer.Context, frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    wh = state(ctx).warehouse()
    return wh.execute(with_names(wh, frame, columns=("owner_id",)))


def _act(ctx: typer.Context, as_of: str | None, rules: Path | None, out: Path | None) -> None:
    from retain.action.service import act_at

    wh = state(ctx).warehouse()
    day = chosen_day(wh, as_of)
    with working("evaluating the rules"):
        report = act_at(wh, _database_url(ctx), day, rules)
    for rule, why in sorted(report.skipped_rules.items()):
        console.print(f"[yellow]skipped rule {rule}:[/yellow] {why}", highlight=False)
    console.print(f"{report.fired:,} (account, rule) pairs fired as of {day}; created {report.total('created'):,}, "
                  f"updated {report.total('updated'):,}, reopened {report.total('reopened'):,}, auto-closed "
                  f"{report.total('auto_closed'):,}, escalated {report.total('escalated'):,}; kept snoozed "
                  f"{report.snoozed_kept:,}, cooling down {report.cooling_down:,}", highlight=False)
    if steps := report.steps.summary():
        console.print(steps, highlight=False, soft_wrap=True)
    frame = _with_names(ctx, report.by_owner())
    if not frame.empty:
        show_frame(frame, title="CTAs per owner")
    export(frame, out)


def _backtest(ctx: typer.Context, as_of: str | None, rules: Path | None, months: int, out: Path | None) -> None:
    from retain.action.backtest import backtest

    wh = state(ctx).warehouse()
    day = chosen_day(wh, as_of)
    with working("replaying the rules"):
        result = backtest(wh, day, rules, months=months)
    console.print(f"replayed {len(result.dates)} dates from {result.dates[0]} to {result.dates[-1]} "
                  f"({result.owners} owners, {result.weeks:.1f} weeks after the first date)", highlight=False)
    for note in result.notes:
        console.print(f"[dim]{note}[/dim]", highlight=False)
    show_frame(result.per_rule, title="Rules replayed: CTAs per owner per week and what happened afterwards",
               floatfmt="{:,.3f}")
    export(result.per_rule, out)


def _ctas(ctx: typer.Context, owner: str | None, status: str | None, tasks: bool, limit: int,
          out: Path | None) -> None:
    from retain.action.service import cta_frame, task_frame

    wh = state(ctx).warehouse()
    frame = cta_frame(wh, _database_url(ctx), owner=owner, status=status, limit=limit)
    if frame.empty:
        console.print("no CTAs" + (f" for {owner}" if owner else "") + "; run `retain act` first")
        return
    show_frame(frame.drop(columns=["opened_on", "rule"]), title="Calls to action", floatfmt="{:,.0f}")
    export(frame, out)
    if tasks:
        show_frame(task_frame(wh, _database_url(ctx), [int(i) for i in frame["cta_id"]]), title="Tasks")


def register(app: typer.Typer) -> None:
    tasks_app = typer.Typer(help="Playbook tasks of the calls to action.", no_args_is_help=True)
    app.add_typer(tasks_app, name="tasks")

    @app.command()
    def act(
        ctx: typer.Context,
        as_of: str = AsOfOption,
        rules: Path = RulesOption,
        backtest: bool = typer.Option(False, "--backtest", help="Replay the rules over past dates and measure them."),
        months: int = typer.Option(12, "--months", min=2, max=36, help="Backtest: monthly dates replayed."),
        out: Path = OutOption,
    ) -> None:
        """Evaluate the rules as of a date: create, update, auto-close and escalate calls to action (CTAs).

        Idempotent: a second run on the same day changes nothing. With --backtest, replay the rules monthly over
        the past and report per rule the CTAs per owner per week, the share of churned accounts that had a risk
        CTA 30/60/90 days before, and the share of risk CTAs on accounts that churned or contracted.
        """
        if backtest:
            _backtest(ctx, as_of, rules, months, out)
        else:
            _act(ctx, as_of, rules, out)

    @app.command()
    def ctas(
        ctx: typer.Context,
        owner: str = typer.Option(None, "--owner", help="Only this member's CTAs (owned or escalated to them)."),
        status: str = typer.Option(None, "--status", help="open, snoozed, done, dismissed or auto_closed "
                                                          "(default: open and snoozed)."),
        tasks: bool = typer.Option(False, "--tasks", help="Also list their playbook tasks."),
        limit: int = typer.Option(500, "--limit", min=1, help="At most this many CTAs."),
        out: Path = OutOption,
    ) -> None:
        """List calls to action by priority and due date, with account and owner names."""
        _ctas(ctx, owner, status, tasks, limit, out)

    @tasks_app.command("done")
    def tasks_done(
        ctx: typer.Context,
        task_id: int = typer.Argument(..., help="The task's id (see `retain ctas --tasks`)."),
        by: str = typer.Option(os.environ.get("USER", "cli"), "--by", help="Who did it (for the audit log)."),
    ) -> None:
        """Check a playbook task off."""
        from retain.action.service import check_off

        cta_id, title = check_off(_database_url(ctx), task_id, by)
        console.print(f"task {task_id} of CTA {cta_id} done: {title}", highlight=False)
