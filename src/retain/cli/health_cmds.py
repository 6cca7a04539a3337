"""``retain validate | score | explain | books | backfill``: health scorecards from the command line.

Thin adapters: :mod:`retain.jobs.health` scores, stores, backfills and explains; this module parses and prints.
``render_section`` prints the health section of ``retain run``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from retain.cli.clock import chosen_day
from retain.cli.common import AsOfOption, OutOption, console, day_option, export, show_frame, warehouse, working
from retain.configs import validate_config
from retain.errors import ConfigError
from retain.health import books as health_books
from retain.health.choice import ScorecardChoice, probability_text
from retain.health.history import Frequency
from retain.health.measures import measure_values_expr
from retain.health.validate import Level, default_path
from retain.jobs import health as health_job
from retain.jobs.health import Explanation, HealthScoring, HealthSection
from retain.warehouse import as_of_date

ScorecardOption = typer.Option(None, "--scorecard", help="Scorecard YAML (default: the one `retain run` used: "
                               "fitted to your outcomes when they suffice, else the shipped one).")
GRADE_STYLE = {"red": "bold red", "yellow": "yellow", "green": "green"}
BOOK_HEADERS = {"owner": "owner", "accounts": "accts", "avg_health": "health", "change_30d": "Δ30d",
                "change_90d": "Δ90d", "red": "red", "moved_up_90d": "up", "moved_down_90d": "down",
                "arr_at_risk": "ARR at risk"}


def show_choice(choice: ScorecardChoice | None) -> None:
    """Which scorecard scored and why; the shipped default's warning in yellow."""
    if choice is None:
        return
    if choice.warning:
        console.print(f"[bold yellow]warning:[/bold yellow] [yellow]{choice.warning}[/yellow]", highlight=False,
                      soft_wrap=True)
    else:
        console.print(f"scorecard '{choice.name}': {choice.reason}", highlight=False, soft_wrap=True)


def show_scoring(scoring: HealthScoring) -> None:
    """Which scorecard, the riskiest accounts and the grade distribution (or why there is nothing to show)."""
    show_choice(scoring.choice)
    if scoring.empty:
        console.print(f"[yellow]no account holds a running subscription as of {scoring.as_of}[/yellow]")
        return
    show_frame(scoring.riskiest, title=f"Health: the {scoring.n} riskiest accounts as of {scoring.as_of}",
               floatfmt="{:,.0f}")
    show_frame(scoring.grades, title="Grade distribution", floatfmt="{:,.1f}")


def render_section(section: HealthSection) -> None:
    """Health section of the main job (:mod:`retain.jobs.health`): the history filled in, then the riskiest (after
    which scorecard and why)."""
    if section.backfilled:
        console.print(f"health history: scored {len(section.backfilled)} monthly dates since "
                      f"{section.history_start.isoformat()}")
    show_scoring(section.scoring)


def show_explanation(ex: Explanation) -> None:
    """Components, measures, critical factor, why it changed and what to improve, for one account."""
    change, now = ex.change, ex.change.after
    style = GRADE_STYLE.get(now["grade"], "")
    odds = probability_text(ex.churn_probability, ex.choice.horizon_days if ex.choice else None)
    console.print(f"[bold]{ex.account_id}[/bold] as of {ex.day}: total [{style}]{now['total']:.0f} ({now['grade']})"
                  f"[/{style}] on scorecard '{now['scorecard']}'" + (f": {odds}" if odds else ""), highlight=False)
    show_choice(ex.choice)
    if isinstance(now.get("critical_factor"), str):
        console.print(f"[bold red]critical:[/bold red] {now['critical_factor']} caps the total at "
                      f"{now['cap']:.0f} (uncapped {now['raw_total']:.0f})")
    show_frame(ex.measures,
               title="Measures (weight_pct = share of the total after re-weighting; empty = not applicable)")
    console.print(f"change since {ex.before}: {change.before['total']:.1f} -> {now['total']:.1f} "
                  f"({change.total_change:+.1f}); critical caps {change.critical_effect:+.1f}")
    cols = ["component", "score_before", "score_after", "weight_pct_after", "change", "score_effect",
            "weight_effect"]
    show_frame(change.components[cols], title="Why it changed (points of the total)")
    show_frame(ex.improve, title="What to improve (each component alone reaching its peers' 75th percentile)")
    if isinstance(now.get("critical_factor"), str):
        console.print(f"  first resolve the critical factor '{now['critical_factor']}': while it holds, the "
                      f"total stays at most {now['cap']:.0f} (uncapped_if = the total once it is resolved)")
    for row in ex.improve.head(3).itertuples():
        console.print(f"  {row.component} {row.score:.0f} -> {row.target:.0f} lifts the total "
                      f"{row.total_now:.0f} -> {row.total_if:.0f}"
                      + (f" ({row.uncapped_if:.0f} once the critical factor is resolved)"
                         if row.uncapped_if > row.total_if + 0.5 else ""))


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(
        files: list[Path] = typer.Argument(None, help="YAML files (default: the shipped scorecard)."),
        kind: str = typer.Option(None, "--kind", help="scorecard, trackers, mapping, profitability or rfm "
                                 "(default: recognised from the file's keys)."),
    ):
        """Check scorecard, trackers, mapping, profitability or RFM files: every problem with file, key and fix."""
        paths = files or [default_path()]
        issues = [issue for path in paths for issue in validate_config(path, kind)]
        for issue in issues:  # one line per problem, compiler style: file:line: level: key: message (fix: ...)
            style = "red" if issue.level is Level.ERROR else "yellow"
            console.print(f"[{style}]{issue}[/{style}]", highlight=False, soft_wrap=True)
        errors = sum(i.level is Level.ERROR for i in issues)
        if errors:
            raise ConfigError(f"{errors} error(s) in {len(paths)} file(s)", hint="fix each key listed above")
        console.print(f"[green]{len(paths)} file(s) valid[/green]" + (f" ({len(issues)} warning(s))" if issues else ""))

    @app.command("score")
    def score_cmd(ctx: typer.Context, as_of: str = AsOfOption, scorecard: Path = ScorecardOption,
                  top: int = typer.Option(10, "--top", help="How many of the riskiest accounts to show."),
                  sql: bool = typer.Option(False, "--sql", help="Print the SQL of the measure values and stop."),
                  out: Path = OutOption) -> None:
        """Score every account as of a date, store the scores and show the riskiest accounts."""
        wh = warehouse(ctx)
        if sql:
            day = chosen_day(wh, as_of)
            spec = health_job.scorecard_for(wh, day, scorecard).spec
            console.print(wh.sql(measure_values_expr(wh, day, spec)), highlight=False)
            return
        day = chosen_day(wh, as_of)
        with working(f"scoring every account as of {day}"):
            scoring = health_job.score_accounts(wh, day, scorecard, top)
        show_scoring(scoring)
        export(scoring.result.scores, out)

    @app.command()
    def explain(ctx: typer.Context, account: str = typer.Argument(..., help="Account id."),
                as_of: str = AsOfOption,
                since: str = day_option("--since", "Compare with this date (default: 30 days before)."),
                scorecard: Path = ScorecardOption, out: Path = OutOption) -> None:
        """Why an account scores what it does: components, measures, critical factors, change, what to improve."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        before = as_of_date(since) if since else day - dt.timedelta(days=30)
        explanation = health_job.explain_account(wh, account, day, before, scorecard)
        show_explanation(explanation)
        export(explanation.change.measures, out)

    @app.command()
    def books(ctx: typer.Context, as_of: str = AsOfOption, out: Path = OutOption) -> None:
        """Owners' books: average health per CSM, its change over 30/90 days, grade moves, ARR at risk."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        frame = health_books(wh, day)
        shown = frame[list(BOOK_HEADERS)].rename(columns=BOOK_HEADERS)
        show_frame(shown, title=f"Owners' books as of {day} (all columns with --out)", floatfmt="{:,.1f}")
        export(frame, out)

    @app.command()
    def backfill(ctx: typer.Context,
                 start: str = day_option("--start", "First date (default: the whole history)."),
                 end: str = day_option("--end", "Last date (default: latest data)."),
                 freq: Frequency = typer.Option(Frequency.WEEK, "--freq",
                                                help="D (daily), W (weekly), MS (monthly) or QS (quarterly)."),
                 scorecard: Path = ScorecardOption,
                 measures: bool = typer.Option(False, "--measures", help="Also store per-measure rows."),
                 out: Path = OutOption) -> None:
        """Compute and store health scores at every date of a range (weekly by default)."""
        wh = warehouse(ctx)
        first, last = health_job.backfill_range(wh, start, chosen_day(wh, end))
        with working(f"backfilling health scores {first} .. {last}") as update:
            done = health_job.backfill_scores(wh, first, last, freq, scorecard, measures=measures,
                                              progress=lambda d, n: update(f"scored {n:,} accounts as of {d}"))
        title = f"Health backfill {done.first} .. {done.last} ({freq}, {len(done.summary)} dates; the last 20)"
        show_frame(done.summary.tail(20), title=title, floatfmt="{:,.1f}")
        export(done.summary, out)
