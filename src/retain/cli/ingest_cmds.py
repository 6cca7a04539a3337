"""``retain ingest``, ``retain status``, ``retain quarantine``: thin adapters over :mod:`retain.ingest`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from retain import ingest
from retain.cli.common import OutOption, console, export, show_frame, warehouse
from retain.errors import IngestError
from retain.schema import table as table_spec
from retain.warehouse import Warehouse

SHOWN_REASONS = 10


def _table(value: str) -> str:
    """A canonical table's name, checked when the command line is parsed (the error names the closest)."""
    return table_spec(value).name


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        ctx: typer.Context,
        path: Path = typer.Argument(..., help="A file, or a folder of files named after tables (accounts.csv...)."),
        table: str = typer.Option(None, "--table", "-t", help="Table of a single file whose name is not a table."),
        mapping: str = typer.Option(
            None, "--mapping", "-m",
            help=f"Column mapping: a YAML file or a built-in name ({', '.join(ingest.BUILT_IN)}).",
        ),
        strict: bool = typer.Option(False, "--strict", help="Write nothing if any row is invalid."),
    ) -> None:
        """Load CSV, Parquet, JSON or JSONL files: valid rows are upserted, bad rows quarantined with reasons."""
        wh = warehouse(ctx, create=True)  # a first load may create the warehouse
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("loading", total=None)

            def progress(done: int, total: int, message: str) -> None:
                bar.update(task, completed=done, total=total, description=message)

            report = ingest.ingest_path(wh, path, table=table, mapping=mapping, progress=progress, strict=strict)
        print_report(report)
        if not report.committed:
            raise IngestError(
                f"{report.quarantined:,} invalid row(s) with --strict: nothing was written",
                hint="fix the rows listed above, or ingest without --strict to load the valid rows",
            )

    @app.command("status")
    def status_cmd(ctx: typer.Context, out: Path = OutOption) -> None:
        """Tables, row counts, date ranges, quarantined rows and last loads."""
        frame = ingest.status(warehouse(ctx))
        show_status(frame)
        export(frame, out)

    @app.command("quarantine")
    def quarantine_cmd(
        ctx: typer.Context,
        table: str = typer.Option(None, "--table", "-t", help="Only this table.", parser=_table),
        load_id: str = typer.Option(None, "--load", help="Only this load."),
        out: Path = OutOption,
    ) -> None:
        """Rows that were not loaded, with every reason (export them with --out, fix them, ingest again)."""
        frame = ingest.quarantined_rows(warehouse(ctx), table=table, load_id=load_id)
        if frame.empty:
            console.print("[green]no quarantined rows[/green]")
            return
        shown = frame[["table_name", "file", "row_number", "column_name", "reason", "raw_row"]]
        show_frame(shown, title=f"Quarantined problems ({len(frame):,})")
        export(frame, out)


def print_report(report: ingest.IngestReport) -> None:
    show_frame(report.table()[["table", "file", "read", "loaded", "quarantined"]], title=f"Load {report.load_id}")
    unchanged = sum(r.unchanged for r in report.results)
    console.print(f"[dim]by key: {report.inserted:,} new, {report.updated:,} changed, {unchanged:,} unchanged[/dim]")
    for derived in report.derived:
        origin = derived.source.removeprefix("rollup of ")
        console.print(f"[dim]{derived.table}: {derived.loaded:,} rows rebuilt from {origin} "
                      f"({derived.inserted:,} new, {derived.updated:,} changed)[/dim]")
    console.print(f"read {report.read:,} = loaded {report.loaded:,} + quarantined {report.quarantined:,}")
    if report.quarantined:
        verb = "would be quarantined" if not report.committed else "quarantined"
        console.print(f"[bold yellow]{report.quarantined:,} row(s) {verb}[/bold yellow]; first reasons:")
        first = report.errors.head(SHOWN_REASONS)
        show_frame(first.rename(columns={"table_name": "table", "row_number": "row", "column_name": "column"}))
        if report.committed:
            tables = sorted(set(report.errors["table_name"]))
            example = f" --table {tables[0]}" if len(tables) == 1 else ""
            console.print(f"see all: [bold]retain quarantine{example} --out quarantine.csv[/bold]")


def show_status(frame: pd.DataFrame) -> None:
    shown = frame.copy()
    for col, fmt in (("first_on", "%Y-%m-%d"), ("last_on", "%Y-%m-%d"), ("last_load", "%Y-%m-%d %H:%M")):
        shown[col] = pd.to_datetime(shown[col], utc=True).dt.strftime(fmt).fillna("")
    show_frame(shown, title="Warehouse status")


def main_job(wh: Warehouse, as_of: dt.date) -> None:
    """The status section of the main job: what is loaded, its date range, what was quarantined."""
    frame = ingest.status(wh)
    show_status(frame[frame["rows"] > 0] if (frame["rows"] > 0).any() else frame)
