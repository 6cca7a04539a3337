"""``retain goals``, ``deals``, ``forecast``, ``winloss`` and ``retain sales backtest|capacity``: the sales side.

Thin face: options are parsed here; :mod:`retain.sales` computes and :mod:`retain.jobs.sales` stores.
``render_section`` prints the sales section of ``retain run``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.markup import escape

from retain.cli.clock import chosen_day
from retain.cli.common import AsOfOption, OutOption, console, export, show_frame, warehouse, working
from retain.errors import RetainError
from retain.jobs.sales import SalesSection, score_deals, teams, won_deals
from retain.sales.capacity import capacity
from retain.sales.forecast import backtest, category_note, forecast, mean_abs_error
from retain.sales.goals import all_goals, progress
from retain.sales.pipeline import score_pipeline
from retain.sales.scores import ScoreSettings, history
from retain.sales.warnings import describe
from retain.sales.winloss import attributes, win_loss

GoalsOption = typer.Option(None, "--goals", help="A goals.yaml with unit and add-on-share goals (docs/sales.md).")
MarginOption = typer.Option(0.10, "--margin", min=0.0, max=1.0,
                            help="Below benchmark: P(win) under the stage's win rate by more than this.")

GOAL_COLUMNS = ["goal_id", "metric", "member_id", "target", "actual", "pace", "attainment", "projected",
                "projected_low", "projected_high", "projected_attainment"]
DEAL_COLUMNS = ["opportunity_id", "name", "owner_id", "stage", "amount", "p_win", "stage_benchmark", "reasons",
                "warnings"]


def show_goals(goals: pd.DataFrame, title: str) -> None:
    if goals.empty:
        console.print("no goals cover this day (load a goals table or pass --goals)")
        return
    show_frame(goals[["description", *GOAL_COLUMNS[3:]]], title, floatfmt="{:,.2f}")


def show_deals(deals: pd.DataFrame, title: str, max_rows: int = 20) -> None:
    frame = deals.assign(warnings=deals["warnings"].map(describe))
    show_frame(frame[DEAL_COLUMNS], title, max_rows=max_rows, floatfmt="{:,.2f}")


def show_backtest(bt: pd.DataFrame, error: dict[str, float]) -> None:
    if bt.empty:
        console.print("no past quarter to backtest the forecast on yet")
        return
    show_frame(bt, "Forecast backtest: the forecast at each quarter's start against what those deals won")
    console.print("mean absolute error: " + ", ".join(f"{k} {v:.1%}" for k, v in error.items()))


def show_category_note(fc: pd.DataFrame) -> None:
    """Say so when the CRM category columns are empty because the export has none (not because they are 0)."""
    note = category_note(fc)
    if note:
        console.print(f"CRM categories (commit, best case, pipeline, omitted): {note}", highlight=False)


def goal_line(g: dict) -> str:
    """A goal's attainment in one line: actual of target, pace, projection with its interval."""
    if g["metric"] == "add_on_share":
        fig = "{:.0%}".format
    else:
        def fig(v):
            return f"{v:,.0f}"
    return (f"{g['description']}: {fig(g['actual'])} of {fig(g['target'])} ({g['attainment']:.0%}), pace "
            f"{fig(g['pace'])}, projected {fig(g['projected'])} ({fig(g['projected_low'])}-"
            f"{fig(g['projected_high'])}, {g['projected_attainment']:.0%} of target)")


def deal_line(d: dict, names: dict[str, str] | None = None) -> str:
    owner = (names or {}).get(d["owner_id"], d["owner_id"])
    warn = describe(d.get("warnings"))
    return (f"{d['name'] or d['opportunity_id']} ({owner}, {d['stage']}, {d['amount']:,.0f}): P(win) "
            f"{d['p_win']:.0%} vs {d['stage_benchmark']:.0%} for the stage - {d['reasons']}"
            + (f"; warnings: {warn}" if warn else ""))


def render_section(section: SalesSection, top: int = 10) -> None:
    """Print the sales section of ``retain run``: goal attainment, deals below benchmark, the forecast."""
    for note in section.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    console.print(f"[bold]Goals as of {section.as_of}[/bold]")
    for g in section.product_goals.to_dict("records"):
        console.print("  " + escape(goal_line(g)), highlight=False)
    current = section.current_goals
    if len(current):
        console.print(f"  {len(current)} goals running: mean attainment {current['attainment'].mean():.0%}, "
                      f"mean projected {current['projected_attainment'].mean():.0%}")
    if section.open_deals:
        console.print(f"[bold]{len(section.below)} of {section.open_deals} open deals below benchmark[/bold]"
                      f" (largest {min(top, len(section.below))}):")
        for d in section.below.head(top).to_dict("records"):
            console.print("  " + escape(deal_line(d)), highlight=False)
    if not section.model_check.empty:
        show_frame(section.model_check, "Opportunity model vs CRM probability vs stage only (past quarters)",
                   floatfmt="{:,.3f}")
    if not section.forecast.empty:
        show_frame(section.forecast[section.forecast["team"] == "all"], "Forecast per quarter (company)",
                   floatfmt="{:,.0f}")
        show_category_note(section.forecast)
    show_backtest(section.backtest, section.backtest_error)


def goals_cmd(ctx: typer.Context, as_of: str = AsOfOption, goals: Path | None = GoalsOption,
              out: Path | None = OutOption) -> None:
    """Progress of every goal: actual, pace, attainment and projected attainment with its 90 % interval."""
    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    goal_list, notes = all_goals(wh, goals)
    for note in notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    frame = progress(wh, day, goal_list)
    show_goals(frame, f"Goals as of {day}")
    export(frame, out)


def deals_cmd(ctx: typer.Context, as_of: str = AsOfOption,
              below_benchmark: bool = typer.Option(False, "--below-benchmark", help="Only deals below benchmark."),
              with_warnings: bool = typer.Option(False, "--warnings", help="Only deals with a warning."),
              margin: float = MarginOption, out: Path | None = OutOption) -> None:
    """Every open deal's P(win), stage benchmark, reasons and warnings (stored as ``opportunity_scores``)."""
    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    with working(f"scoring the pipeline as of {day}"):
        scored = score_deals(wh, day, ScoreSettings(margin=margin))
    deals = scored.scores.sort_values("amount", ascending=False)
    if below_benchmark:
        deals = deals[deals["below_benchmark"]]
    if with_warnings:
        deals = deals[deals["warning_count"] > 0]
    show_deals(deals, f"{len(deals)} open deals as of {day}", max_rows=50)
    export(deals, out)


def forecast_cmd(ctx: typer.Context, as_of: str = AsOfOption,
                 with_backtest: bool = typer.Option(False, "--backtest", help="Also backtest on past quarters."),
                 out: Path | None = OutOption) -> None:
    """Expected bookings per quarter and team with a simulation interval, CRM categories and coverage."""
    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    with working(f"forecasting as of {day}"):
        scored = score_pipeline(wh, day, validate_model=with_backtest)
        goal_list, _ = all_goals(wh)
        fc = forecast(scored.scores, day, teams(wh), progress(wh, day, goal_list), won_deals(wh, day))
    show_frame(fc, f"Forecast as of {day}", floatfmt="{:,.0f}")
    show_category_note(fc)
    if with_backtest:
        if scored.validation is None:
            console.print(f"[yellow]note:[/yellow] {escape(scored.note or 'no validation')}", highlight=False)
        else:
            bt = backtest(scored.validation)
            show_backtest(bt, mean_abs_error(bt))
    export(fc, out)


def winloss_cmd(ctx: typer.Context, as_of: str = AsOfOption,
                by: str = typer.Option("segment", "--by", help="Dimension to print: segment, product, "
                                       "opportunity_type, period, competitor, rep, renewal, churn or attribute."),
                out: Path | None = OutOption) -> None:
    """Why deals are won and lost (win rates and loss reasons with Wilson intervals), renewals beside churn
    reasons, and the deal attributes that go with winning; ``--out`` exports the whole report."""
    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    with working(f"win/loss as of {day}"):
        report = pd.concat([win_loss(wh, day, with_rep=True), attributes(history(wh, day))], ignore_index=True)
    known = sorted(report["dimension"].unique())
    if by not in known:
        raise RetainError(f"--by {by}: no such win/loss dimension", hint="use one of " + ", ".join(known))
    show_frame(report[report["dimension"] == by].drop(columns="dimension"), f"Win/loss by {by} as of {day}",
               max_rows=60, floatfmt="{:,.2f}")
    export(report, out)


def capacity_cmd(ctx: typer.Context, as_of: str = AsOfOption, out: Path | None = OutOption) -> None:
    """New business or existing customers first: saturation and conversion per team and month, and the call."""
    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    frame = capacity(wh, day)
    show_frame(frame[["team", "month", "open_deals_per_rep", "capacity_per_rep", "saturation", "win_rate",
                      "historical_win_rate", "situation"]], f"Pipeline saturation and conversion as of {day}")
    last = frame.sort_values("month").groupby("team").tail(1)
    for r in last.itertuples():
        console.print(f"{escape(str(r.team))}: {escape(r.advice)}", highlight=False)
    export(frame, out)


sales_app = typer.Typer(help="The opportunity model: validate it on past quarters.", no_args_is_help=True)


@sales_app.command("backtest")
def sales_backtest(ctx: typer.Context, as_of: str = AsOfOption, out: Path | None = OutOption) -> None:
    """The model against the CRM probability and the stage-only baseline on past quarters (AUC, Brier)."""
    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    with working(f"validating the opportunity model as of {day}"):
        scored = score_pipeline(wh, day)
    if scored.validation is None:
        console.print(f"[yellow]note:[/yellow] {escape(scored.note or '')}", highlight=False)
        raise typer.Exit(1)
    show_frame(scored.validation.table, f"Opportunity model as of {day}: {scored.validation.why}",
               floatfmt="{:,.3f}")
    bt = backtest(scored.validation)
    show_backtest(bt, mean_abs_error(bt))
    export(scored.validation.table, out)


def register(app: typer.Typer) -> None:
    """Adds this module's commands to ``app``."""
    app.command("goals")(goals_cmd)
    app.command("deals")(deals_cmd)
    app.command("forecast")(forecast_cmd)
    app.command("winloss")(winloss_cmd)
    app.add_typer(sales_app, name="sales")
    sales_app.command("capacity")(capacity_cmd)
