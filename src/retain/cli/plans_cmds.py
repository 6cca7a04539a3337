"""``retain plans create | show | refresh`` (success plans) and ``retain plays effectiveness`` (what each playbook
changed). Thin face: the work is :mod:`retain.action.plans` and :mod:`retain.action.effectiveness`."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import typer

from retain.cli.act_cmds import RulesOption, _database_url
from retain.cli.clock import chosen_day
from retain.cli.common import AsOfOption, OutOption, console, export, one_of, show_frame, state, working

OBJECTIVE_COLUMNS = ("objective_id", "kind", "title", "metric", "start_value", "current_value", "target_value",
                     "due_on", "progress", "status")


def render_section(section) -> None:
    """The plans section of ``retain run``: plans measured and their objectives by status."""
    if section.empty:
        console.print("no active success plans (`retain plans create ACCOUNT` starts one)", highlight=False)
        return
    by_status = ", ".join(f"{n:,} {s.replace('_', ' ')}" for s, n in sorted(section.by_status.items()))
    console.print(f"{section.plans:,} success plan(s), {section.objectives:,} objective(s) measured as of "
                  f"{section.as_of}: {by_status}; {section.linked:,} call(s) to action newly linked", highlight=False)


def _objectives(view) -> pd.DataFrame:
    rows = [{"objective_id": v.objective.id, "kind": v.objective.kind, "title": v.objective.title,
             "metric": v.objective.metric, "start_value": v.objective.start_value,
             "current_value": v.objective.current_value, "target_value": v.objective.target_value,
             "due_on": v.objective.due_on, "progress": v.progress, "status": v.status.label}
            for v in view.objectives]
    return pd.DataFrame(rows, columns=list(OBJECTIVE_COLUMNS))


def _show(ctx: typer.Context, account: str, out: Path | None) -> None:
    from retain.action.plans import account_plan
    from retain.state.db import app_database

    with app_database(_database_url(ctx)) as db:
        view = account_plan(db, account)
        if view is None:
            console.print(f"no active success plan for '{account}'; create one with `retain plans create "
                          f"{account}`", highlight=False)
            raise typer.Exit(1)
        frame = _objectives(view)
        console.print(f"plan {view.plan.id} · {view.summary.line} · measured as of {view.plan.refreshed_on}",
                      highlight=False)
        show_frame(frame, title="Objectives", floatfmt="{:,.3f}")
        if view.ctas:
            show_frame(pd.DataFrame([{"cta_id": c.id, "reason": c.reason, "status": c.status, "due_on": c.due_on,
                                      "tasks_open": sum(t.status == "open" for t in c.tasks)} for c in view.ctas]),
                       title="Linked calls to action")
    export(frame, out)


def _effectiveness(ctx: typer.Context, as_of: str | None, days: int, source: str, months: int, act_days: int,
                   rules: Path | None, out: Path | None) -> None:
    from retain.action.effectiveness import EpisodeSource, playbook_effectiveness
    from retain.state.db import app_database

    chosen = EpisodeSource(one_of(source, [s.value for s in EpisodeSource]))
    wh = state(ctx).warehouse()
    day = chosen_day(wh, as_of)
    with working("measuring the playbooks"), app_database(_database_url(ctx)) as db:
        result = playbook_effectiveness(wh, db, day, days=days, source=chosen, months=months, act_days=act_days,
                                        rules=rules)
    for note in result.notes:
        console.print(f"[dim]{note}[/dim]", highlight=False)
    if result.table.empty:
        console.print("nothing to compare yet", highlight=False)
        return
    show_frame(result.table, title=f"Playbooks ({result.source.value}): outcomes within {days} days, treated vs "
                                   f"comparable untreated (95 % intervals)", floatfmt="{:,.3f}")
    export(result.table, out)


def register(app: typer.Typer) -> None:
    plans_app = typer.Typer(help="Success plans per account: objectives, targets, progress.", no_args_is_help=True)
    plays_app = typer.Typer(help="Playbooks: what running them changed.", no_args_is_help=True)
    app.add_typer(plans_app, name="plans")
    app.add_typer(plays_app, name="plays")

    @plans_app.command("create")
    def create(
        ctx: typer.Context,
        account: str = typer.Argument(..., help="The account's id."),
        template: str = typer.Option(None, "--template", help="A template of the plan templates file (default: "
                                                              "the one for the account's segment)."),
        templates: Path = typer.Option(None, "--templates", help="Plan templates YAML (default: the shipped ones)."),
        as_of: str = AsOfOption,
        by: str = typer.Option(os.environ.get("USER", "cli"), "--by", help="Who creates it (for the audit log)."),
    ) -> None:
        """Create an account's success plan from a template; start values measured as of the date."""
        from retain.action.plans import create_plan
        from retain.state.db import app_database

        wh = state(ctx).warehouse()
        day = chosen_day(wh, as_of)
        with app_database(_database_url(ctx)) as db:
            plan = create_plan(db, wh, account, day, template, by=by, templates=templates)
            console.print(f"plan {plan.id} ({plan.template}) created for {account} with {len(plan.objectives)} "
                          f"objectives", highlight=False)
        _show(ctx, account, None)

    @plans_app.command("show")
    def show(ctx: typer.Context, account: str = typer.Argument(..., help="The account's id."),
             out: Path = OutOption) -> None:
        """An account's success plan: objectives with start, current and target values, status, linked CTAs."""
        _show(ctx, account, out)

    @plans_app.command("refresh")
    def refresh(ctx: typer.Context, as_of: str = AsOfOption) -> None:
        """Measure every active plan's objectives as of the date (one engine query per metric)."""
        from retain.jobs.plans import plans_section

        wh = state(ctx).warehouse()
        day = chosen_day(wh, as_of)
        with working("measuring the success plans"):
            section = plans_section(wh, _database_url(ctx), day)
        counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in section.by_status.items()) or "none"
        console.print(f"{section.plans} plans, {section.objectives} objectives measured as of {day}: {counts}; "
                      f"{section.linked} CTAs newly linked", highlight=False)

    @plays_app.command("effectiveness")
    def effectiveness(
        ctx: typer.Context,
        as_of: str = AsOfOption,
        days: int = typer.Option(90, "--days", min=7, max=730, help="Judge outcomes this many days after firing."),
        source: str = typer.Option("auto", "--source", help="ctas (the CTAs in the app database), backtest (the "
                                                            "rules replayed) or auto (the CTAs when enough)."),
        months: int = typer.Option(12, "--months", min=2, max=36, help="Backtest: monthly dates replayed."),
        act_days: int = typer.Option(14, "--act-days", min=1, max=90, help="Backtest: a touch within this many "
                                                                          "days counts as the play run."),
        rules: Path = RulesOption,
        out: Path = OutOption,
    ) -> None:
        """For each playbook: health recovered, renewed and churned within --days, against comparable accounts
        the same rule fired on that got no play (matched on rule, health band and ARR tertile), with intervals."""
        _effectiveness(ctx, as_of, days, source, months, act_days, rules, out)
