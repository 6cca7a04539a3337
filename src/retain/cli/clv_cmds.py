"""``retain clv``: customer lifetime value per account, by channel/campaign/cohort, and the CDNOW example.

Thin face over :mod:`retain.clv`: options are parsed here, everything else happens in the domain package.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pandas as pd
import typer
from rich.markup import escape

from retain.cli.clock import chosen_day
from retain.cli.common import AsOfOption, OutOption, console, export, show_frame, warehouse, working
from retain.clv.base import StatisticalWarning
from retain.clv.value import (
    By,
    ClvSettings,
    Method,
    account_clv,
    clv_by,
    value_at_risk,
    with_accounts,
)
from retain.errors import RetainError
from retain.warehouse import Warehouse

RESULT_NAME = "clv"

clv_app = typer.Typer(help="Customer lifetime value: per account, by channel/campaign/cohort; the CDNOW example.",
                      invoke_without_command=True, no_args_is_help=False)


def _print_params(models: dict) -> None:
    from retain.clv.example import params_table

    table = params_table(models)
    if not table.empty:
        show_frame(table, "Fitted models (estimate, standard error, 95% interval)", floatfmt="{:,.4f}")


def compute_and_store(wh: Warehouse, day: dt.date, settings: ClvSettings):
    """Compute per-account CLV as of ``day`` and store it for the dashboard (result ``clv``)."""
    result = account_clv(wh, day, settings)
    wh.store_result(RESULT_NAME, result.values, day)
    return result


def _compute_with_notes(wh: Warehouse, day: dt.date, settings: ClvSettings):
    """``compute_and_store``, then print its notes (fallbacks used, and why) as note lines.

    The fitters report problems as notes, not Python warnings; any warning a library still raises is shown as a
    note line too, never with a source path.
    """
    with warnings.catch_warnings(record=True) as caught, working(f"fitting lifetime-value models as of {day}"):
        warnings.simplefilter("always")
        result = compute_and_store(wh, day, settings)
    raised = [str(w.message) for w in caught if issubclass(w.category, UserWarning | StatisticalWarning)]
    for note in dict.fromkeys([*result.notes, *raised]):
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    return result


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
    result = _compute_with_notes(wh, day, settings)
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


def main_job(wh: Warehouse, as_of: dt.date) -> None:
    """Main-job section: top accounts by CLV and the value at risk (low P(alive) / renewal probability)."""
    console.rule("[bold]Lifetime value[/bold]")
    try:
        result = _compute_with_notes(wh, as_of, ClvSettings())
    except RetainError as exc:
        console.print(f"[yellow]CLV skipped:[/yellow] {exc.message}")
        return
    ranked = wh.execute(with_accounts(wh, as_of, result.values))
    show_frame(ranked[["name", "segment", "clv", "p_alive", "method"]], "Top accounts by CLV (36 months)",
               max_rows=10)
    churn = _stored_churn(wh, as_of)
    risky = value_at_risk(ranked, churn)
    total = result.values["clv"].sum()
    source = "the churn model" if churn is not None else "1 - P(alive) (run `retain predict` for per-account risk)"
    console.print(f"value at risk: {risky['value_at_risk'].sum():,.0f} of {total:,.0f} total CLV "
                  f"(CLV x P(churn), P(churn) from {source})")
    show_frame(risky[["name", "segment", "clv", "p_churn", "value_at_risk"]], "Most value at risk", max_rows=10)


def _stored_churn(wh: Warehouse, as_of: dt.date) -> pd.DataFrame | None:
    """Churn probabilities the propensity model stored for ``as_of``, if it ran (it runs earlier in the job)."""
    try:
        frame = wh.execute(wh.result("propensity", as_of).select("account_id", "churn_probability"))
    except RetainError:
        return None
    return frame if not frame.empty else None


def register(app: typer.Typer) -> None:
    app.add_typer(clv_app, name="clv")
