"""``retain demo``: generate the demo company, ingest it like user data, run the main job, serve the dashboard."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from retain.cli.common import console, err_console, progress_shown, state
from retain.errors import ConfigError


def _spec(accounts: int, years: float, seed: int, end: str | None):
    from pydantic import ValidationError

    from retain.demo import DemoSpec

    try:
        kwargs = {"accounts": accounts, "years": years, "seed": seed}
        if end:
            kwargs["end"] = dt.date.fromisoformat(end)
        return DemoSpec(**kwargs)
    except ValueError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()) \
            if isinstance(exc, ValidationError) else str(exc)
        raise ConfigError(f"invalid demo options: {detail}",
                          hint="e.g. retain demo --accounts 3000 --years 3 --end 2026-10-31") from None


def _serve(db: str | None) -> None:
    if importlib.util.find_spec("fastapi") is None:  # the optional 'web' extra
        console.print("[yellow]the dashboard is not installed; skipping it (pip install 'retain[web]')[/yellow]")
        return
    from retain.cli.web_cmds import serve_dashboard
    from retain.warehouse import DEFAULT_DB

    serve_dashboard(db or DEFAULT_DB)


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        ctx: typer.Context,
        accounts: int = typer.Option(3000, "--accounts", "-n", help="Customer accounts created over the span."),
        years: float = typer.Option(3.0, "--years", help="Years of history."),
        seed: int = typer.Option(7, "--seed", help="Random seed: the same seed gives identical data."),
        end: str = typer.Option(None, "--end", help="Last day of data (YYYY-MM-DD); default 2026-10-31."),
        out_dir: Path = typer.Option(None, "--out-dir", help="Also keep the generated Parquet files here."),
        no_serve: bool = typer.Option(False, "--no-serve", help="Do not start the dashboard at the end."),
        replace: bool = typer.Option(False, "--replace", help="Empty the warehouse first if it holds other data."),
    ) -> None:
        """Generate a realistic demo company, ingest it, run the main job, then serve the dashboard."""
        from retain.cli.job import run_main_job
        from retain.demo import build_demo
        from retain.demo.pipeline import STEPS

        spec = _spec(accounts, years, seed, end)
        st = state(ctx)
        wh = st.warehouse(create=True)
        steps = [*STEPS, "write", "ingest"]
        with Progress(TextColumn("[bold]demo[/bold] {task.description:<12}"), BarColumn(), TimeElapsedColumn(),
                      console=err_console, transient=True, disable=not progress_shown()) as progress:
            task = progress.add_task("starting", total=len(steps))

            def step(name: str) -> None:
                progress.update(task, description=name, completed=steps.index(name))

            result = build_demo(wh, spec, out_dir=out_dir, step=step, replace=replace)
        secs = result.seconds
        if result.skipped:
            console.print(f"the warehouse already holds this demo company ({spec.accounts:,} accounts, seed "
                          f"{spec.seed}); nothing to load")
        else:
            console.print(
                f"demo company: [bold]{spec.accounts:,}[/bold] accounts, {spec.start} to {spec.end}, seed "
                f"{spec.seed}: {result.report.loaded:,} rows loaded, {result.report.quarantined:,} quarantined "
                f"(generate {secs['generate']:.1f}s, write {secs['write']:.1f}s, ingest {secs['ingest']:.1f}s)")
        if result.out_dir is not None:
            console.print(f"Parquet files in [bold]{out_dir}[/bold] (hidden truth in {out_dir}/_hidden)")
        run_main_job(wh, spec.end)
        if not no_serve:
            _serve(st.db)
