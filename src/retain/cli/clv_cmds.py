"""``retain clv``: customer lifetime value per account, by channel/campaign/cohort, and the CDNOW example.

Thin face: options are parsed here; :mod:`retain.jobs.value` computes, stores and collects the notes.
``render_section`` prints the value section of ``retain run``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.markup import escape

from retain.cli.clock import chosen_day
from retain.cli.common import AsOfOption, OutOption, console, export, show_frame, warehouse, working
from retain.clv.value import By, ClvSettings, Method, clv_by, with_accounts
from retain.jobs.value import ClvRun, ValueSection, compute_and_store
from retain.warehouse import Warehouse

clv_app = typer.Typer(help="Customer lifetime value: per account, by channel/campaign/cohort; the CDNOW example.",
                      invoke_without_command=True, no_args_is_help=False)


def _print_params(models: dict) -> None:
    from retain.clv.example import params_table

    table = params_table(models)
    if not table.empty:
        show_frame(table, "Fitted models (estimate, standard error, 95% interval)", floatfmt="{:,.4f}")


def show_notes(run: ClvRun) -> None:
    """The fitters' notes (fallbacks used, and why) as note lines, never as Python warnings."""
    for note in run.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)


def _compute_with_notes(wh: Warehouse, day: dt.date, settings: ClvSettings) -> ClvRun:
    with working(f"fitting lifetime-value models as of {day}"):
        run = compute_and_store(wh, day, settings)
    show_notes(run)
    return run


@clv_app.callback()
def clv(
    ctx: typer.Context,
    as_of: str = AsOfOption,
    model: Method = typer.Option(Method.BGNBD, "--model", help="bgnbd or pareto (with sBG for contracts), or simple."),
    horizon_months: int = typer.Option(36, "--horizon-months", min=1, help="How far ahead value is counted."),
    discount_rate: float = typer.Option(0.10, "--discount-rate", min=0.0, help="Yearly discount rate."),
    margin: float = typer.Option(0.8, "--margin", min=0.0, max=1.0, help="Gross margin applied to revenue."),
    by: By | None = typer.Option(None, "--by", help="Also show CLV by acquisition channel, campaign or cohort."),
    top: int = typer.Option(15, "--top", min=1, help="How many top accounts to print."),
    out: Path | None = OutOption,
    plot: Path | None = typer.Option(None, "--plot", help="Draw the CLV distribution to a .png or .svg file."),
) -> None:
    """CLV of every current account as of a date, stored in the warehouse for the dashboard."""
    if ctx.invoked_subcommand is not None:
        return
    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    settings = ClvSettings(method=model, horizon_months=horizon_months, discount_rate=discount_rate, margin=margin)
    run = _compute_with_notes(wh, day, settings)
    result = run.result
    _print_params(result.models)
    ranked = wh.execute(with_accounts(wh, day, result.values))
    show_frame(ranked, f"Top accounts by CLV as of {day} ({horizon_months} months, {discount_rate:.0%}/year, "
               f"margin {margin:.0%})", max_rows=top)
    console.print(f"total CLV {result.values['clv'].sum():,.0f} over {len(result.values):,} accounts")
    if by is not None:
        show_frame(wh.execute(clv_by(wh, day, result.values, by)), f"CLV by {by.value}")
    if plot is not None:
        from retain.clv.plot import plot_clv_distribution

        console.print(f"[green]wrote {plot_clv_distribution(result.values, plot)}[/green]")
    export(ranked, out)


@clv_app.command("cdnow")
def cdnow(out: Path | None = OutOption) -> None:
    """Fit BG/NBD, Pareto/NBD and Gamma-Gamma on the shipped CDNOW sample; print ours beside the papers."""
    from retain.clv.example import cdnow_example

    example = cdnow_example()
    console.print("CDNOW sample: 2,357 customers, calibration 1997-01-01..1997-09-30 (39 weeks), weeks")
    show_frame(example.comparison, "Ours vs the published estimates", floatfmt="{:,.4f}")
    show_frame(example.holdout, "Holdout (weeks 40-78): mean repeat purchases by calibration frequency",
               floatfmt="{:,.3f}")
    export(example.comparison, out)


def render_section(section: ValueSection) -> None:
    """Value section of the main job (:mod:`retain.jobs.value`): top accounts by CLV and the value at risk."""
    if section.unavailable is not None:
        console.print(f"[yellow]CLV skipped:[/yellow] {section.unavailable.message}")
        return
    show_notes(section.run)
    show_frame(section.ranked[["name", "segment", "clv", "p_alive", "method"]], "Top accounts by CLV (36 months)",
               max_rows=10)
    console.print(f"value at risk: {section.value_at_risk:,.0f} of {section.run.total:,.0f} total CLV "
                  f"(CLV x P(churn), P(churn) from {section.churn_source.value})")
    show_frame(section.at_risk[["name", "segment", "clv", "p_churn", "value_at_risk"]], "Most value at risk",
               max_rows=10)


def register(app: typer.Typer) -> None:
    app.add_typer(clv_app, name="clv")
