"""What every command shares: the warehouse option, the console, exports and error reporting."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table as RichTable

from retain.errors import RetainError, WarehouseError
from retain.exports import write_csv
from retain.warehouse import Warehouse, missing_duckdb_file

console = Console()
err_console = Console(stderr=True)
PROGRESS_ENV = "RETAIN_PROGRESS"  # "always" shows spinners even when stderr is not a terminal, "never" hides them


def progress_shown() -> bool:
    """Whether spinners are drawn: on a terminal's stderr by default, never into a pipe, a file or the test runner."""
    choice = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if choice in {"always", "1", "yes"}:
        return True
    if choice in {"never", "0", "no"}:
        return False
    return err_console.is_terminal


@contextmanager
def working(message: str) -> Iterator[Callable[[str], None]]:
    """A spinner with ``message`` on stderr while a slow step runs; yields ``update(text)`` to change the text.

    Every command that can take more than a couple of seconds wraps its computing (not its printing) in it:
    ``with working("fitting models"): ...``. It writes nothing to stdout, so tables and ``--out`` files are the
    same with or without it, and nothing at all when stderr is not a terminal (see :func:`progress_shown`).
    """
    if not progress_shown():
        yield lambda _text: None
        return
    out = err_console if err_console.is_terminal else Console(stderr=True, force_terminal=True)  # forced
    with out.status(f"{message}...") as status:
        yield lambda text: status.update(f"{text}...")


@dataclass
class State:
    db: str | None = None
    _warehouse: Warehouse | None = None

    def warehouse(self, *, create: bool = False) -> Warehouse:
        """The warehouse of ``--db``. Only the commands that make one (``init``, ``demo``, ``ingest``, ``calls
        import``) pass ``create=True``; for the others a DuckDB file that does not exist is an error, so a mistyped
        ``--db`` never reads as an empty company."""
        if self._warehouse is None:
            missing = missing_duckdb_file(self.db)
            if missing is not None and not create:
                raise WarehouseError(f"no warehouse at {missing}; run `retain init` or `retain demo`, or check --db")
            self._warehouse = Warehouse.open(self.db)
        return self._warehouse


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = State()
    return root.obj


def warehouse(ctx: typer.Context, *, create: bool = False) -> Warehouse:
    return state(ctx).warehouse(create=create)


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


def parse_day(value: str) -> str:
    """An option's date, checked when the command line is parsed: the ISO day (``YYYY-MM-DD``) as a string."""
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError as exc:
        reason = str(exc).removeprefix("Invalid isoformat string: ").strip()
        detail = "" if reason.startswith("'") else f" ({reason})"
        raise typer.BadParameter(f"'{value}' is not a date{detail}; expected YYYY-MM-DD, e.g. 2026-09-30") from None


def one_of(value: str, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices``, else a parse error (one line, exit 2) listing them."""
    allowed = [str(c) for c in choices]
    if value in allowed:
        return value
    close = get_close_matches(value, allowed, n=1)
    guess = f" (did you mean '{close[0]}'?)" if close else ""
    raise typer.BadParameter(f"'{value}' is not one of: {', '.join(allowed)}{guess}")


def day_option(flag: str, help: str) -> typer.models.OptionInfo:  # noqa: A002 - typer's own word
    """A ``YYYY-MM-DD`` option validated at parse time; the command receives an ISO string or ``None``."""
    return typer.Option(None, flag, help=help, parser=parse_day, metavar="YYYY-MM-DD")


AsOfOption = day_option("--as-of", "Compute as of this date (YYYY-MM-DD); default: latest data.")
