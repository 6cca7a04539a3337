"""``retain init``: create the warehouse and its canonical tables."""

from __future__ import annotations

import typer

from retain.cli.common import console, state


def register(app: typer.Typer) -> None:
    @app.command()
    def init(ctx: typer.Context) -> None:
        """Create the warehouse (DuckDB file by default) with every canonical table, empty."""
        wh = state(ctx).warehouse(create=True)
        console.print(f"warehouse ready: [bold]{wh.con.name}[/bold] with {len(wh.con.list_tables())} tables")
