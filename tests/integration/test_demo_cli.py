"""`retain demo` through the CLI runner: generate, ingest, main job (stubbed here: other domains test theirs)."""

from __future__ import annotations

from typer.testing import CliRunner

from retain.cli.main import app
from retain.warehouse import Warehouse


def test_demo_generates_ingests_and_runs_the_main_job(tmp_path, monkeypatch):
    import retain.cli.job as job

    ran = []
    monkeypatch.setattr(job, "run_main_job", lambda wh, as_of=None: ran.append(as_of))
    db = tmp_path / "demo.duckdb"
    out = tmp_path / "files"
    result = CliRunner().invoke(app, ["--db", str(db), "demo", "--accounts", "40", "--years", "1", "--seed", "5",
                                      "--end", "2025-06-30", "--out-dir", str(out), "--no-serve"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "40 accounts" in flat and " 0 quarantined" in flat
    assert (out / "accounts.parquet").exists() and (out / "_hidden" / "health_weekly.parquet").exists()
    assert [str(d) for d in ran] == ["2025-06-30"]
    wh = Warehouse.open(db)
    assert wh.count("accounts") == 40 and wh.count("usage") > 0


def test_demo_rejects_bad_options(tmp_path):
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "x.duckdb"), "demo", "--accounts", "0", "--no-serve"])
    assert result.exit_code == 2
    assert "invalid demo options" in result.output


def test_demo_again_skips_and_other_data_is_protected(tmp_path, monkeypatch):
    import retain.cli.job as job

    monkeypatch.setattr(job, "run_main_job", lambda wh, as_of=None: None)
    db = str(tmp_path / "demo.duckdb")
    args = ["--db", db, "demo", "--accounts", "30", "--years", "1", "--no-serve"]
    assert CliRunner().invoke(app, args).exit_code == 0
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "already holds this demo" in " ".join(again.output.split())
    other = CliRunner().invoke(app, [*args[:-1], "--seed", "8", "--no-serve"])
    assert other.exit_code == 5 and "--replace" in other.output
    replaced = CliRunner().invoke(app, [*args[:-1], "--seed", "8", "--no-serve", "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert Warehouse.open(db).count("accounts") == 30


def test_every_demo_option_is_documented():
    from pathlib import Path

    import typer.main

    command = typer.main.get_command(app).commands["demo"]
    doc = (Path(__file__).parents[2] / "docs" / "demo.md").read_text()
    options = [opt for p in command.params for opt in p.opts if opt.startswith("--") and opt != "--help"]
    assert options and all(opt in doc for opt in options), [o for o in options if o not in doc]
