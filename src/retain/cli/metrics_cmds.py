"""``retain retention | cohorts | survival | products-held | pareto | profitability | churn-reasons | rfm | sql``.

Thin adapters over :mod:`retain.metrics`: parse options, run the expression, print, export, plot.
``render_section`` prints the retention section of ``retain run`` (:mod:`retain.jobs.retention`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import typer

from retain.cli.clock import chosen_day
from retain.cli.common import AsOfOption, OutOption, console, export, one_of, show_frame, warehouse, working
from retain.errors import RetainError
from retain.jobs import retention as retention_job
from retain.jobs.retention import PERIODS, RetentionSection
from retain.metrics import cohorts as cohorts_mod
from retain.metrics import plots
from retain.metrics.churn_reasons import churn_reasons, reason_totals
from retain.metrics.dimensions import Dimension, parse_dimension
from retain.metrics.pareto import pareto_curve, top_share
from retain.metrics.periods import Grain, parse_grain
from retain.metrics.products_held import products_held
from retain.metrics.profitability import load_profitability_spec, profitability, profitability_summary
from retain.metrics.results import metric_query
from retain.metrics.retention import decomposition
from retain.metrics.rfm import load_rfm_spec, rfm_accounts, rfm_segments
from retain.metrics.survival import median_lifetime, survival, survival_at
from retain.warehouse import Warehouse
from retain.warehouse.names import Named, labels

GrainOption = typer.Option(Grain.QUARTER, "--grain", "-g", help="Period length.")
PeriodsOption = typer.Option(4, "--periods", "-n", min=1, help="How many periods, the running one last.")


def _dimension(value: str) -> str:
    """``--by`` normalised when the command line is parsed (aliases such as ``channel`` allowed); a name that is not
    built in is an attributes key, checked against the data when the metric is built (exit 2 when unknown)."""
    try:
        return parse_dimension(value).value
    except RetainError:
        return one_of(value, [d.value for d in Dimension])


ByOption = typer.Option(
    None, "--by", parser=_dimension, help="Split by: segment, owner, region, acquisition_channel, industry, "
    "campaign, country, product, signup_cohort, or any key of the accounts' attributes (e.g. contract).",
)
TrialsOption = typer.Option(False, "--include-trials", help="Count trial subscriptions (status 'trial') as customers.")
METRIC_HELP = "retention, cohorts, survival, products_held, pareto, profitability, churn_reasons, rfm"
PlotOption = typer.Option(None, "--plot", help="Write a chart to this .png or .svg file.")

LOGO_SHOWN = ["period", "start", "churned", "retained", "new", "reactivated", "end", "came_and_went",
              "logo_retention", "net_logo_change", "annualized_churn_rate"]
REVENUE_SHOWN = ["period", "start_mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
                 "reactivated_mrr", "end_mrr", "grr", "nrr", "annualized_grr", "annualized_nrr"]
RATIOS = ["logo_retention", "net_logo_change", "annualized_churn_rate", "grr", "nrr", "annualized_grr",
          "annualized_nrr"]
# printed headers: end / start is the net change in customers, never called retention
HEADERS = {"logo_retention": "logo retention", "net_logo_change": "net change (end/start)",
           "annualized_churn_rate": "churn /yr", "grr": "GRR", "nrr": "NRR", "annualized_grr": "GRR /yr",
           "annualized_nrr": "NRR /yr"}




def _pct(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Display copy with ratio columns as percentages."""
    out = frame.copy()
    for col in columns:
        if col in out:
            values = pd.to_numeric(out[col], errors="coerce") * 100
            out[col] = values.round(1).astype("string").fillna("") + "%"
            out.loc[values.isna(), col] = ""
    return out


def _owner_names(wh: Warehouse, day: dt.date, by: str | None) -> dict[str, str]:
    """With ``--by owner``, each owner id's display name ("Alex Kim (m_007)"); else nothing to name."""
    if parse_dimension(by) is not Dimension.OWNER:
        return {}
    names = wh.execute(labels(wh, Named.MEMBER, day))
    return {i: label if label.endswith(f"({i})") else f"{label} ({i})"
            for i, label in zip(names["id"], names["label"], strict=True)}


def _show_by_group(frame: pd.DataFrame, columns: list[str], title: str, pct: list[str],
                   names: dict[str, str] | None = None) -> None:
    for value, group in frame.groupby("dimension_value", sort=True):
        shown = (names or {}).get(value, value)
        label = title if value == "all" else f"{title}: {group['dimension'].iloc[0]} = {shown}"
        show_frame(_pct(group[columns], pct).rename(columns=HEADERS), title=label, floatfmt="{:,.0f}")


def _mark_partial(frame: pd.DataFrame) -> pd.DataFrame:
    """Display copy with "(partial)" beside each period still running at the as-of date."""
    out = frame.copy()
    running = ~out["complete"].astype(bool)
    out["period"] = out["period"].astype(str).where(~running, out["period"].astype(str) + " (partial)")
    return out


def _note_partial(frame: pd.DataFrame, day: dt.date) -> None:
    for period in sorted(set(frame.loc[~frame["complete"].astype(bool), "period"])):
        console.print(f"[dim]{period} (partial): counted to {day}, before the period ends; its annualised rates "
                      "extrapolate the days so far[/dim]")


def show_retention(wh: Warehouse, day: dt.date, grain: Grain | str = Grain.QUARTER, periods: int = 4,
                   by: str | None = None, *, revenue: bool = True, include_trials: bool = False) -> pd.DataFrame:
    frame = wh.execute(decomposition(wh, day, parse_grain(grain), periods, parse_dimension(by),
                                     include_trials=include_trials))
    if frame.empty:
        console.print(f"[yellow]no subscriptions known as of {day}[/yellow]")
        return frame
    shown, names = _mark_partial(frame), _owner_names(wh, day, by)
    _show_by_group(shown, LOGO_SHOWN, f"Logo retention (retained / start) by {grain} as of {day}", RATIOS, names)
    if revenue:
        _show_by_group(shown, REVENUE_SHOWN, f"MRR movements by {grain} as of {day}", RATIOS, names)
    _note_partial(frame, day)
    return frame


SECTION_SHOWN = ["period", "start", "churned", "new", "reactivated", "end", "logo_retention", "net_logo_change", "grr",
                 "nrr", "annualized_nrr"]


def render_section(section: RetentionSection) -> None:
    """Retention section of the main job (:mod:`retain.jobs.retention`): the last quarters decomposed, and how many
    metric results were stored."""
    as_of, frame = section.as_of, section.decomposition
    if section.empty:
        console.print(f"[yellow]no subscriptions known as of {as_of}[/yellow]")
        return
    show_frame(_pct(_mark_partial(frame)[SECTION_SHOWN], RATIOS).rename(columns=HEADERS),
               title=f"Retention decomposition, last {PERIODS} quarters as of {as_of}", floatfmt="{:,.0f}")
    _note_partial(frame, as_of)
    console.print(f"[dim]stored {len(section.stored)} metric results for {as_of}[/dim]")


def register(app: typer.Typer) -> None:  # noqa: C901 - one small adapter per command
    @app.command()
    def retention(ctx: typer.Context, as_of: str = AsOfOption, grain: Grain = GrainOption,
                  periods: int = PeriodsOption, by: str = ByOption, out: Path = OutOption,
                  plot: Path = PlotOption, include_trials: bool = TrialsOption) -> None:
        """Logo retention (retained / start), net change (end / start), decomposition; MRR movements, GRR, NRR."""
        wh = warehouse(ctx)
        frame = show_retention(wh, chosen_day(wh, as_of), grain, periods, by, include_trials=include_trials)
        export(frame, out)
        if plot and not frame.empty:
            console.print(f"[green]wrote {plots.retention_plot(frame, plot)}[/green]")

    @app.command()
    def cohorts(ctx: typer.Context, as_of: str = AsOfOption,
                revenue: bool = typer.Option(False, "--revenue", help="Revenue retention instead of logos."),
                count: int = typer.Option(12, "--cohorts", min=1, help="How many monthly cohorts, latest last."),
                by: str = ByOption, out: Path = OutOption, plot: Path = PlotOption,
                include_trials: bool = TrialsOption) -> None:
        """Monthly signup cohorts × months since start: logo (or revenue) retention matrix."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        frame = wh.execute(cohorts_mod.cohorts(wh, day, count, parse_dimension(by), include_trials=include_trials))
        value = "revenue_retention" if revenue else "logo_retention"
        names = _owner_names(wh, day, by)
        for dim_value, group in frame.groupby("dimension_value", sort=True):
            matrix = cohorts_mod.cohort_matrix(group, value)
            matrix.columns = [str(c) for c in matrix.columns]
            sizes = group.groupby("cohort")["accounts"].first()
            shown = _pct(matrix.reset_index(), list(matrix.columns))
            shown.insert(1, "accounts", sizes.reindex(matrix.index).to_numpy())
            title = f"{value.replace('_', ' ')} by signup cohort as of {day}"
            show_frame(shown, title=title if dim_value == "all" else f"{title}: {names.get(dim_value, dim_value)}",
                       floatfmt="{:,.0f}")
        running = sorted({str(m)[:7] for m in frame.loc[~frame["complete"].astype(bool), "month_start"]})
        if running:
            console.print(f"[dim]{running[0]} (partial): the last cell of each cohort is counted to {day}[/dim]")
        export(frame, out)
        if plot and not frame.empty:
            console.print(f"[green]wrote {plots.cohort_heatmap(frame, plot, value)}[/green]")

    @app.command("survival")
    def survival_cmd(ctx: typer.Context, as_of: str = AsOfOption, by: str = ByOption, out: Path = OutOption,
                     plot: Path = PlotOption, include_trials: bool = TrialsOption) -> None:
        """Kaplan–Meier survival of account lifetime with 95% bands and median lifetime."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        curve = survival(wh, day, parse_dimension(by), include_trials=include_trials)
        if curve.empty:
            console.print(f"[yellow]no subscriptions known as of {day}[/yellow]")
            return
        median = median_lifetime(curve)
        names = _owner_names(wh, day, by)
        if names:
            median["dimension_value"] = median["dimension_value"].map(names).fillna(median["dimension_value"])
        show_frame(median, title=f"Median account lifetime as of {day}", floatfmt="{:,.2f}")
        at = survival_at(curve)
        show_frame(_pct(at, ["survival", "ci_lower", "ci_upper"]), title="Still a customer after N months")
        export(curve, out)
        if plot:
            console.print(f"[green]wrote {plots.survival_plot(curve, plot)}[/green]")

    @app.command("products-held")
    def products_held_cmd(ctx: typer.Context, as_of: str = AsOfOption,
                          horizon: int = typer.Option(12, "--horizon", min=1, help="Months between the snapshots."),
                          out: Path = OutOption, include_trials: bool = TrialsOption) -> None:
        """Retention by number of products held, overall and within tenure bands (a fair comparison)."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        frame = wh.execute(products_held(wh, day, horizon, include_trials=include_trials))
        show_frame(_pct(frame.drop(columns=["horizon_months"]), ["retention", "net_revenue_retention"]),
                   title=f"Retention over {horizon} months to {day} by products held", floatfmt="{:,.0f}")
        bands = sorted(set(frame["tenure_band"]) - {"all"})
        if bands:
            console.print(f"[dim]'all' counts every tenure; tenure bands with accounts {horizon} months before "
                          f"{day}: {', '.join(bands)}[/dim]")
        export(frame, out)

    @app.command()
    def pareto(ctx: typer.Context, as_of: str = AsOfOption,
               top: float = typer.Option(0.2, "--top", min=0.0, max=1.0, help="Top share of customers."),
               out: Path = OutOption, plot: Path = PlotOption) -> None:
        """Share of revenue and profit from the top customers; the concentration curve."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        summary = wh.execute(top_share(wh, day, top))
        show_frame(_pct(summary, ["top_revenue_share", "top_profit_share"]),
                   title=f"Top {top:.0%} of customers, trailing 12 months to {day}", floatfmt="{:,.0f}")
        curve = wh.execute(pareto_curve(wh, day, points=10))
        show_frame(_pct(curve, ["customer_share", "revenue_share", "profit_share"]), title="Concentration curve")
        export(wh.execute(pareto_curve(wh, day)), out)
        if plot and not curve.empty:
            console.print(f"[green]wrote {plots.pareto_plot(wh.execute(pareto_curve(wh, day)), plot)}[/green]")

    @app.command("profitability")
    def profitability_cmd(ctx: typer.Context, as_of: str = AsOfOption,
                          config: Path = typer.Option(None, "--config", help="Cost rates YAML (profitability.yaml)."),
                          top: int = typer.Option(10, "--top", help="How many loss-making accounts to list."),
                          out: Path = OutOption) -> None:
        """Revenue − cost to serve (tickets, discounts, cost of revenue) per customer: who loses money."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        spec = load_profitability_spec(config)
        show_frame(wh.execute(profitability_summary(wh, day, spec)),
                   title=f"Profitability, trailing {spec.window_months} months to {day}", floatfmt="{:,.0f}")
        frame = wh.execute(profitability(wh, day, spec))
        losers = frame[frame["loses_money"]].head(top)
        if not losers.empty:
            show_frame(_pct(losers[["account_id", "name", "segment", "revenue", "tickets", "cost_to_serve", "profit",
                                    "margin"]], ["margin"]), title="Customers that lose money", floatfmt="{:,.0f}")
        export(frame, out)

    @app.command("churn-reasons")
    def churn_reasons_cmd(ctx: typer.Context, as_of: str = AsOfOption, grain: Grain = GrainOption,
                          periods: int = PeriodsOption, by: str = ByOption, out: Path = OutOption) -> None:
        """Churned accounts and revenue lost by cancel reason, and their trend per period."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        g, dim = parse_grain(grain), parse_dimension(by)
        totals = wh.execute(reason_totals(wh, day, g, periods, dim))
        _show_by_group(totals, ["cancel_reason", "churned", "mrr_lost", "arr_lost", "share_of_churned",
                                "share_of_mrr_lost"], f"Churn reasons, last {periods} {g.value}s to {day}",
                       ["share_of_churned", "share_of_mrr_lost"], _owner_names(wh, day, by))
        trend = wh.execute(churn_reasons(wh, day, g, periods, dim))
        if not trend.empty and dim.value == "all":
            pivot = _mark_partial(trend).pivot_table(index="period", columns="cancel_reason", values="churned",
                                                     aggfunc="sum", fill_value=0)
            show_frame(pivot.reset_index(), title="Churned accounts per period and reason", floatfmt="{:,.0f}")
        export(trend, out)

    @app.command()
    def rfm(ctx: typer.Context, as_of: str = AsOfOption,
            config: Path = typer.Option(None, "--config", help="RFM rules YAML (rfm.yaml)."),
            out: Path = OutOption) -> None:
        """RFM segments (champions, loyal, at risk, hibernating, lost...) with counts and value."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        spec = load_rfm_spec(config)
        segments = wh.execute(rfm_segments(wh, day, spec))
        show_frame(_pct(segments.drop(columns=["lookback_months"]), ["share", "monetary_share"]),
                   title=f"RFM segments as of {day} (frequency and value over {spec.lookback_months} months)")
        export(wh.execute(rfm_accounts(wh, day, spec)), out)

    @app.command()
    def sql(ctx: typer.Context, metric: str = typer.Argument(..., help=METRIC_HELP), as_of: str = AsOfOption,
            grain: Grain = GrainOption, by: str = ByOption) -> None:
        """Print the SQL a metric compiles to on this warehouse (never a black box)."""
        wh = warehouse(ctx)
        query = metric_query(metric)
        expr = query.build(wh, chosen_day(wh, as_of), parse_grain(grain), parse_dimension(by))
        console.print(f"-- {query.name}: {query.description}", highlight=False)
        console.print(wh.sql(expr), highlight=False, markup=False, soft_wrap=True)

    @app.command("store-metrics")
    def store_metrics(ctx: typer.Context, as_of: str = AsOfOption) -> None:
        """Compute every retention metric as of a date and store it for the dashboard."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        with working(f"computing every retention metric as of {day}"):
            stored = retention_job.store_metrics(wh, day)
        show_frame(pd.DataFrame({"result": list(stored), "rows": list(stored.values())}),
                   title=f"Stored metric results as of {day}")
