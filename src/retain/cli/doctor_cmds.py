"""``retain doctor``: what the loaded data supports, what is missing and how to supply it, and what looks wrong.

A thin adapter over :mod:`retain.doctor`; :func:`render_summary` is the few lines the main job prints first.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich import box
from rich.table import Table as RichTable

from retain.cli.clock import show_as_of
from retain.cli.common import console, day_option, warehouse, working
from retain.doctor import DoctorReport, Support, TableFacts, examine, summary_lines
from retain.health.history import resolve
from retain.warehouse import as_of_day

SUPPORT_STYLE = {Support.SUPPORTED: "green", Support.LIMITED: "yellow", Support.SKIPPED: "dim",
                 Support.UNSUPPORTED: "bold red"}
SHOWN_COLUMNS = 4  # sparse columns listed per table


def _json_path(value: Path | None) -> Path | None:
    if value is not None and value.suffix.lower() != ".json":
        raise typer.BadParameter(f"'{value}' is not a .json file name; the report is JSON, e.g. --out report.json")
    return value


def render_summary(report: DoctorReport) -> None:
    """Print :func:`retain.doctor.summary_lines` (the main job starts with it)."""
    for line in summary_lines(report):
        console.print(line, highlight=False, soft_wrap=True)


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _sparse(facts: TableFacts) -> str:
    """Optional columns with gaps: ``empty: a, b; ended_on 12%``."""
    empty = [c.name for c in facts.columns if c.non_null == 0]
    partial = sorted((c for c in facts.columns if 0 < c.share < 1), key=lambda c: c.share)
    parts = []
    if empty:
        more = f" +{len(empty) - SHOWN_COLUMNS}" if len(empty) > SHOWN_COLUMNS else ""
        parts.append("empty: " + ", ".join(empty[:SHOWN_COLUMNS]) + more)
    parts += [f"{c.name} {c.share:.0%}" for c in partial[:SHOWN_COLUMNS]]
    return "; ".join(parts)


def _table(title: str, *columns: tuple[str, str]) -> RichTable:
    table = RichTable(title=title, header_style="bold", box=box.SIMPLE_HEAD, title_justify="left")
    for name, how in columns:  # how: left, right, or nowrap (left, never wrapped)
        table.add_column(name, justify="right" if how == "right" else "left", no_wrap=how == "nowrap")
    return table


def show_tables(report: DoctorReport) -> None:
    table = _table("Tables", ("table", "nowrap"), ("rows", "right"), ("accounts", "right"), ("first", "nowrap"),
                   ("last", "nowrap"), ("months", "right"))
    gaps = _table("Columns with gaps", ("table", "nowrap"), ("columns", "left"))
    for t in report.tables:
        if not t.rows:
            continue
        months = "" if t.history_months is None else f"{t.history_months:g}"
        table.add_row(t.table, f"{t.rows:,}", _share(t.account_share), str(t.first_on or ""), str(t.last_on or ""),
                      months)
        if sparse := _sparse(t):
            gaps.add_row(t.table, sparse)
    console.print(table)
    empty = [t.table for t in report.tables if not t.rows]
    if empty:
        console.print(f"[dim]empty: {', '.join(empty)}[/dim]", highlight=False)
    if gaps.row_count:
        console.print(gaps)


def show_outcomes(report: DoctorReport) -> None:
    out = report.outcomes
    table = _table("Outcomes", ("outcome", "left"), ("count", "right"), ("when / detail", "left"))
    for s in out.churn_sources:
        table.add_row(f"churned accounts ({s.source})", f"{s.accounts:,}",
                      f"{s.dates:,} days in {s.months:,} months, {s.first_on} to {s.last_on}")
    if len(out.churn_sources) != 1:
        table.add_row("churned accounts (all sources)", f"{out.churned_accounts:,}",
                      f"{out.churn_dates:,} days in {out.churn_months:,} months" if out.churned_accounts else "")
    if out.label_rows:
        table.add_row("churn labels (outcome_labels)", f"{out.label_rows:,}",
                      f"{out.labels_churned:,} churned, on {out.label_dates:,} observation date(s)")
    table.add_row("expansions", f"{out.expansions:,}", f"{out.expansion_accounts:,} accounts")
    table.add_row("accounts with a running subscription", f"{out.running_accounts:,}",
                  f"of {out.subscription_accounts:,} with any; longest history {out.max_periods:g} billing periods")
    table.add_row("repeat buyers (transactions)", f"{out.repeat_buyers:,}", "")
    table.add_row("deals won / lost / open", f"{out.deals_won:,} / {out.deals_lost:,} / {out.deals_open:,}", "")
    surveys = "; ".join(f"{k} {v:,}" for k, v in out.surveys.items())
    table.add_row("survey answers", f"{sum(out.surveys.values()):,}", surveys)
    table.add_row("conversations", f"{out.conversations:,}", f"{out.conversations_with_words:,} with transcripts")
    console.print(table)


def show_verdicts(report: DoctorReport) -> None:
    table = _table("What the data supports", ("analytic", "nowrap"), ("verdict", "nowrap"), ("why", "left"),
                   ("how to supply what is missing", "left"))
    for v in report.verdicts:
        style = SUPPORT_STYLE[v.support]
        table.add_row(v.analytic.value, f"[{style}]{v.support.value}[/{style}]", v.reason, v.fix or "")
    console.print(table)


def show_flags(report: DoctorReport) -> None:
    if not report.flags:
        console.print("[green]no suspicious data found[/green]")
        return
    table = _table("Suspicious data", ("where", "left"), ("what", "left"), ("what to do", "left"))
    for f in report.flags:
        example = f" (e.g. {', '.join(f.examples)})" if f.examples else ""
        table.add_row(f"{f.where}\n[dim]{f.kind.value}[/dim]", f.message + example, f.fix)
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(
        ctx: typer.Context,
        as_of: str = day_option("--as-of", "Examine the data as known on this date (YYYY-MM-DD); default: latest "
                                "data."),
        out: Path = typer.Option(None, "--out", "-o", help="Also write the whole report as JSON (.json).",
                                 callback=_json_path),
        scorecard: Path = typer.Option(None, "--scorecard", help="Scorecard whose components are checked "
                                       "(default: the shipped one)."),
    ) -> None:
        """Per table coverage and history, outcome counts, what each analytic needs, and suspicious data."""
        wh = warehouse(ctx)
        choice = as_of_day(wh, as_of)
        show_as_of(choice)
        spec = resolve(scorecard) if scorecard is not None else None  # None: stored scores of the day are reused
        with working(f"examining the data as of {choice.day}"):
            report = examine(wh, choice.day, reason=choice.reason, scorecards=spec)
        render_summary(report)
        show_tables(report)
        show_outcomes(report)
        show_verdicts(report)
        show_flags(report)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            console.print(f"[green]wrote the report to {out}[/green]", highlight=False)
