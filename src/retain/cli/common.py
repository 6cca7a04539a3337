"""What every command shares: the warehouse option, the console, exports and error reporting."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table as RichTable

from retain.errors import RetainError
from retain.exports import write_csv
from retain.warehouse import Warehouse

console = Console()
err_console = Console(stderr=True)


@dataclass
class State:
    db: str | None = None
    _warehouse: Warehouse | None = None

    def warehouse(self, *, create: bool = True) -> Warehouse:
        if self._warehouse is None:
            self._warehouse = Warehouse.open(self.db, create=create)
        return self._warehouse


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = State()
    return root.obj


def warehouse(ctx: typer.Context) -> Warehouse:
    return state(ctx).warehouse()


def show_frame(frame: pd.DataFrame, title: str | None = None, *, max_rows: int = 50, floatfmt: str = "{:,.2f}") -> None:
    """Print a DataFrame as a Rich table (first ``max_rows`` rows)."""
    table = RichTable(title=title, show_lines=False, header_style="bold")
    for col in frame.columns:
        table.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(frame[col]) else "left")
    for row in frame.head(max_rows).itertuples(index=False):
        table.add_row(*[_fmt(v, floatfmt) for v in row])
    console.print(table)
    if len(frame) > max_rows:
        console.print(f"[dim]... {len(frame) - max_rows:,} more rows (use --out to export all)[/dim]")


def _fmt(value, floatfmt: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return floatfmt.format(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def export(frame: pd.DataFrame, out: Path | None) -> None:
    """Write ``frame`` to CSV or Parquet, chosen by the file suffix."""
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(out, index=False)
    elif out.suffix.lower() in {".csv", ".txt"}:
        write_csv(frame, out)  # formula-like text cells neutralised (CSV injection)
    else:
        raise RetainError(f"cannot export to '{out}'", hint="use a .csv or .parquet file name")
    console.print(f"[green]wrote {len(frame):,} rows to {out}[/green]")


OutOption = typer.Option(None, "--out", "-o", help="Export the result to a .csv or .parquet file.")
AsOfOption = typer.Option(None, "--as-of", help="Compute as of this date (YYYY-MM-DD); default: latest data.")
