"""``retain features``: the generated features of every customer on a day, summarised, exported, or as SQL.

A thin adapter over :mod:`retain.models.feature_table`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich import box
from rich.table import Table as RichTable

from retain.cli.clock import show_as_of
from retain.cli.common import console, day_option, export, warehouse, working
from retain.models.feature_table import family_sql, feature_table, summary
from retain.warehouse import as_of_day

TABLE_SUFFIXES = (".csv", ".parquet")
SQL_SUFFIXES = (".sql", ".txt")


def _check_out(out: Path | None, sql: bool) -> None:
    """``--out`` must suit what is written: a table (.csv/.parquet) or, with ``--sql``, the SQL (.sql/.txt)."""
    if out is None:
        return
    allowed = SQL_SUFFIXES if sql else TABLE_SUFFIXES
    if out.suffix.lower() not in allowed:
        what = "the SQL (with --sql)" if sql else "the feature table"
        raise typer.BadParameter(f"'{out}' cannot hold {what}; use a file ending in {' or '.join(allowed)}",
                                 param_hint="--out")


def _sql_text(header: str, sqls: dict[str, str]) -> str:
    parts = [f"-- family: {name}\n{text.rstrip()};" for name, text in sqls.items()]
    return f"-- {header}\n\n" + "\n\n".join(parts) + "\n"


def show_summary(info: pd.DataFrame, title: str) -> None:
    """One line per feature: name (never cut), family, correlated group, share with a value, mean or top value."""
    table = RichTable(title=title, header_style="bold", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("feature", no_wrap=True)
    table.add_column("family")
    table.add_column("group")
    table.add_column("with value", justify="right")
    table.add_column("mean / top", justify="right")
    for row in info.itertuples(index=False):
        share = f"{row.non_missing:.0%}" if row.non_missing == row.non_missing else ""
        value = row.top if row.kind == "category" else (f"{row.mean:,.3g}" if row.mean == row.mean else "")
        table.add_row(row.feature, row.family, row.group, share, value)
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command()
    def features(
        ctx: typer.Context,
        as_of: str = day_option("--as-of", "Features as known at the end of this day (YYYY-MM-DD); default: "
                                           "latest data."),
        sql: bool = typer.Option(False, "--sql", help="Print the SQL of each feature family's query instead of "
                                                       "computing it."),
        out: Path = typer.Option(None, "--out", "-o", help="Write the feature table (.csv or .parquet), or with "
                                                           "--sql the SQL (.sql)."),
    ) -> None:
        """The generated features of every customer (those the models learn from): a summary per feature
        (family, correlated group, share with a value, mean), the table with --out, the SQL with --sql."""
        _check_out(out, sql)
        wh = warehouse(ctx)
        choice = as_of_day(wh, as_of)
        day = choice.day
        if sql:  # stdout stays valid SQL: the as-of line is a comment
            text = _sql_text(str(choice), family_sql(wh, day))
            if out is None:
                typer.echo(text, nl=False)
            else:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(text)
                console.print(f"[green]wrote the SQL of the feature queries to {out}[/green]")
            return
        show_as_of(choice)
        with working(f"computing the features as of {day}"):
            table = feature_table(wh, day)
            info = summary(table)
        show_summary(info, f"{len(table.features)} features of {len(table.frame):,} customers as of {day}")
        export(table.frame, out)
