"""``retain ingest``, ``retain status``, ``retain quarantine``: thin adapters over :mod:`retain.ingest`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from retain import ingest
from retain.cli.common import OutOption, console, export, show_frame, state, warehouse
from retain.errors import IngestError, WarehouseError
from retain.ingest.locks import locked_error
from retain.ingest.report import NoteKind
from retain.jobs.status import StatusSection
from retain.schema import table as table_spec
from retain.warehouse import Warehouse
from retain.warehouse.connection import missing_duckdb_file

SHOWN_REASONS = 10
_WARNINGS = {NoteKind.OVERLAP, NoteKind.OVERWRITE, NoteKind.CONFLICT}


def _table(value: str) -> str:
    """A canonical table's name, checked when the command line is parsed (the error names the closest)."""
    return table_spec(value).name


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        ctx: typer.Context,
        path: Path = typer.Argument(None, help="A file, or a folder of files named after tables (accounts.csv...); "
                                               "optional when the --mapping's queries name their files."),
        table: str = typer.Option(None, "--table", "-t", help="Table of a single file whose name is not a table."),
        mapping: str = typer.Option(
            None, "--mapping", "-m",
            help=f"Column mapping: a YAML file or a built-in name ({', '.join(ingest.BUILT_IN)}).",
        ),
        strict: bool = typer.Option(False, "--strict", help="Write nothing if any row is invalid."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Check everything, show what would load, write nothing."),
        merge: bool = typer.Option(False, "--merge", help="Columns absent from a file keep their stored values."),
    ) -> None:
        """Load CSV, Parquet, JSON or JSONL files: valid rows are upserted, bad rows quarantined with reasons."""
        wh = _open(ctx, dry_run)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("loading", total=None)

            def progress(done: int, total: int, message: str) -> None:
                bar.update(task, completed=done, total=total, description=message)

            try:
                report = ingest.ingest_path(wh, path, table=table, mapping=mapping, progress=progress,
                                            strict=strict, dry_run=dry_run, merge=merge)
            except WarehouseError as exc:
                raise (locked_error(exc) or exc) from None
        print_report(report)
        if report.dry_run:
            console.print("[bold]dry run: nothing was written[/bold]")
        elif not report.committed:
            raise IngestError(
                f"{report.quarantined:,} invalid row(s) with --strict: nothing was written",
                hint="fix the rows listed above, or ingest without --strict to load the valid rows",
            )
        empty = report.all_quarantined
        if empty:
            which = ", ".join(f"{r.source} ({r.read:,} rows)" for r in empty)
            written = "nothing was written" if report.dry_run else "the other rows were written"
            raise IngestError(f"every row of {which} was quarantined; {written}",
                              hint="see the reasons above (`retain quarantine`): usually a wrong mapping or export")

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


def _open(ctx: typer.Context, dry_run: bool) -> Warehouse:
    """The warehouse to load into; a dry run never creates nor changes one (no file yet: an empty one in memory)."""
    try:
        if not dry_run:
            return warehouse(ctx, create=True)  # a first load may create the warehouse
        db = state(ctx).db
        if missing_duckdb_file(db) is not None:
            console.print("[dim]no warehouse yet: the dry run checks against an empty one[/dim]")
            return Warehouse.open(":memory:")
        return Warehouse.open(db, create=False)
    except WarehouseError as exc:
        raise (locked_error(exc) or exc) from None


def print_report(report: ingest.IngestReport) -> None:
    if report.dry_run:
        frame = report.table()[["table", "file", "read", "loaded", "quarantined"]]
        frame = frame.rename(columns={"loaded": "would load", "quarantined": "would quarantine"})
        show_frame(frame, title="Dry run (nothing written)")
    else:
        show_frame(report.table()[["table", "file", "read", "loaded", "quarantined"]], title=f"Load {report.load_id}")
        unchanged = sum(r.unchanged for r in report.results)
        console.print(f"[dim]by key: {report.inserted:,} new, {report.updated:,} changed, "
                      f"{unchanged:,} unchanged[/dim]")
    for derived in report.derived:
        if derived.source.startswith("rollup of "):
            console.print(f"[dim]{derived.table}: {derived.loaded:,} rows rebuilt from "
                          f"{derived.source.removeprefix('rollup of ')} ({derived.inserted:,} new, "
                          f"{derived.updated:,} changed)[/dim]")
    for note in report.notes:
        examples = f" (e.g. {'; '.join(note.examples)})" if note.examples else ""
        style = "yellow" if note.kind in _WARNINGS else "dim"
        console.print(f"[{style}]{note.table}: {escape(note.message)}{escape(examples)}[/{style}]", soft_wrap=True)
    for label, sample in report.samples.items():
        if not sample.empty:
            shown = sample[[c for c in sample.columns if sample[c].notna().any()]]
            show_frame(shown, title=f"{label}: first rows that would load")
    verb = "would load" if report.dry_run else "loaded"
    console.print(f"read {report.read:,} = {verb} {report.loaded:,} + "
                  f"{'would be ' if report.dry_run else ''}quarantined {report.quarantined:,}")
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


def render_section(section: StatusSection) -> None:
    """The status section of the main job (:mod:`retain.jobs.status`): what is loaded, its dates, quarantined rows,
    then the data doctor's summary."""
    show_status(section.tables)
    if section.doctor is not None:
        from retain.cli.doctor_cmds import render_summary

        render_summary(section.doctor)
