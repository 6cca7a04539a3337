"""``retain demo``: generate the demo company, ingest it like user data, run the main job, serve the dashboard."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from retain.cli.common import console, err_console, progress_shown, state
from retain.demo.spec import DemoProfile
from retain.errors import ConfigError


def _spec(accounts: int | None, years: float | None, seed: int, end: str | None, profile: str = "saas"):
    from pydantic import ValidationError

    from retain.demo import DemoSpec

    try:
        kwargs = {"accounts": accounts, "years": years, "seed": seed, "profile": profile}
        if end:
            kwargs["end"] = dt.date.fromisoformat(end)
        return DemoSpec(**kwargs)
    except ValueError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()) \
            if isinstance(exc, ValidationError) else str(exc)
        raise ConfigError(f"invalid demo options: {detail}",
                          hint="e.g. retain demo --profile saas --accounts 3000 --years 3 --end 2026-10-31") from None


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
        profile: DemoProfile = typer.Option(
            DemoProfile.SAAS.value, "--profile", case_sensitive=False,
            help="Kind of company: saas (B2B SaaS), bank (retail bank) or app (consumer subscription app)."),
        accounts: int = typer.Option(None, "--accounts", "-n", show_default="3000 saas, 5000 bank, 10000 app",
                                     help="Customer accounts created over the span."),
        years: float = typer.Option(None, "--years", show_default="3 saas and bank, 1.5 app", help="Years of history."),
        seed: int = typer.Option(7, "--seed", help="Random seed: the same seed gives identical data."),
        end: str = typer.Option(None, "--end", help="Last day of data (YYYY-MM-DD); default 2026-10-31."),
        out_dir: Path = typer.Option(None, "--out-dir", help="Also keep the generated Parquet files here."),
        no_serve: bool = typer.Option(False, "--no-serve", help="Do not start the dashboard at the end."),
        replace: bool = typer.Option(False, "--replace", help="Empty the warehouse first if it holds other data."),
    ) -> None:
        """Generate a realistic demo company, ingest it, run the main job, then serve the dashboard."""
        from retain.cli.job import run_main_job
        from retain.demo import build_demo
        from retain.demo.company import profile_steps

        spec = _spec(accounts, years, seed, end, profile)
        st = state(ctx)
        wh = st.warehouse(create=True)
        steps = [*profile_steps(spec.profile), "write", "ingest"]
        with Progress(TextColumn("[bold]demo[/bold] {task.description:<12}"), BarColumn(), TimeElapsedColumn(),
                      console=err_console, transient=True, disable=not progress_shown()) as progress:
            task = progress.add_task("starting", total=len(steps))

            def step(name: str) -> None:
                progress.update(task, description=name, completed=steps.index(name))

            result = build_demo(wh, spec, out_dir=out_dir, step=step, replace=replace)
        secs = result.seconds
        if result.skipped:
            console.print(f"the warehouse already holds this demo company ({spec.profile.value}, {spec.accounts:,} "
                          f"accounts, seed {spec.seed}); nothing to load")
        else:
            console.print(
                f"demo company ({spec.profile.value}): [bold]{spec.accounts:,}[/bold] accounts, {spec.start} to "
                f"{spec.end}, seed "
                f"{spec.seed}: {result.report.loaded:,} rows loaded, {result.report.quarantined:,} quarantined "
                f"(generate {secs['generate']:.1f}s, write {secs['write']:.1f}s, ingest {secs['ingest']:.1f}s)")
        if result.out_dir is not None:
            console.print(f"Parquet files in [bold]{out_dir}[/bold] (hidden truth in {out_dir}/_hidden)")
        run_main_job(wh, spec.end)
        if not no_serve:
            _serve(st.db)
