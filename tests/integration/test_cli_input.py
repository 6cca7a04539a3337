"""The CLI as a careful tool: every bad argument (date, path, id, enum value) is one line with the valid form or
choices and a non-zero exit, never a traceback; a mistyped ``--db`` never reads as an empty company.

Runs on the tiny hand-made health tables plus four imported and analysed calls, in a DuckDB file.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.warehouse import Warehouse

runner = CliRunner()
HERE = Path(__file__).resolve().parent
CALLS = HERE.parent / "fixtures" / "conversations"
CALLS_DAY = "2026-03-31"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    spec = importlib.util.spec_from_file_location("health_data_input",
                                                  HERE.parent / "unit" / "health" / "health_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("input") / "w.duckdb"
    wh = Warehouse.open(path)
    module.fill_tiny(wh)
    wh.con.disconnect()
    imported = run(str(path), "calls", "import", str(CALLS / "call.vtt"), str(CALLS / "call.srt"),
                   "--started-at", "2026-03-04T15:00:00", "--call-type", "cold_call")
    assert imported.exit_code == 0, imported.output
    analysed = run(str(path), "calls", "analyze", "--as-of", CALLS_DAY)
    assert analysed.exit_code == 0, analysed.output
    return str(path)


def run(db: str, *args: str):
    return runner.invoke(app, ["--db", db, *args])


def error_line(result, code: int) -> str:
    """The single ``error:`` line of a failed command (after checking the exit code and that no traceback shows)."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize("args", [
    ("score", "--as-of", "2026-13-01"),
    ("retention", "--as-of", "2026-13-01"),
    ("calls", "search", "--as-of", "2026-13-01"),
    ("run", "--as-of", "2026-13-01"),
    ("explain", "A", "--as-of", "2026-13-01"),
    ("explain", "A", "--since", "2026-13-01"),
    ("backfill", "--start", "2026-13-01"),
    ("backtest", "--as-of", "2026-13-01"),
    ("train", "--as-of", "2026-13-01"),
])
def test_a_bad_date_is_one_line_naming_the_option_the_value_and_the_form(db, args):
    flag = args[args.index("2026-13-01") - 1]
    line = error_line(run(db, *args), 2)
    assert f"'{flag}'" in line and "'2026-13-01'" in line and "YYYY-MM-DD" in line
    assert "month must be in 1..12" in line


def test_a_bad_date_is_refused_before_the_warehouse_is_opened(tmp_path):
    line = error_line(run(str(tmp_path / "none.duckdb"), "score", "--as-of", "yesterday"), 2)
    assert "'yesterday' is not a date" in line and "YYYY-MM-DD" in line


def test_a_good_date_still_reaches_the_command(db):
    res = run(db, "score", "--as-of", "2024-06-30")
    assert res.exit_code == 0, res.output
    assert "as of 2024-06-30 (requested)" in res.output


@pytest.mark.parametrize("args", [("status",), ("score",), ("retention",), ("explain", "A"), ("calls", "search"),
                                  ("publish",)])
def test_a_missing_warehouse_file_is_an_error_and_is_not_created(tmp_path, args):
    typo = tmp_path / "retian.duckdb"
    line = error_line(run(str(typo), *args), 5)
    assert f"no warehouse at {typo}" in line and "retain init" in line and "retain demo" in line and "--db" in line
    assert not typo.exists()


def test_the_commands_that_create_a_warehouse_still_do(tmp_path):
    fresh = tmp_path / "a" / "new.duckdb"
    res = run(str(fresh), "init")
    assert res.exit_code == 0, res.output
    assert fresh.exists() and run(str(fresh), "status").exit_code == 0

    loaded = tmp_path / "loaded.duckdb"
    members = tmp_path / "team_members.csv"
    members.write_text("member_id,name,role\nm1,Ann Lee,csm\n")
    res = run(str(loaded), "ingest", str(members))
    assert res.exit_code == 0, res.output
    assert Warehouse.open(loaded).count("team_members") == 1

    calls = tmp_path / "calls.duckdb"
    res = run(str(calls), "calls", "import", str(CALLS / "call.vtt"), "--started-at", "2026-03-04T15:00:00")
    assert res.exit_code == 0, res.output
    assert Warehouse.open(calls).count("conversations") == 1


def test_an_unknown_account_is_named_with_the_closest_ids(db):
    line = error_line(run(db, "explain", "acc_9999999", "--as-of", "2024-06-30"), 7)
    assert "no account 'acc_9999999'" in line and "running subscription" not in line
    res = run(db, "explain", "AB", "--as-of", "2024-06-30")
    assert "no account 'AB'" in error_line(res, 7)
    assert "closest ids: A, B" in res.output or "closest ids: B, A" in res.output


@pytest.mark.parametrize(("args", "code", "named", "choices"), [
    (("calls", "search", "--event", "callback"), 2, "'callback'", ["callback_requested", "pricing_discussed"]),
    (("calls", "search", "--tracker", "pricng"), 2, "tracker 'pricng'", ["pricing"]),
    (("calls", "search", "--call-type", "webinar"), 2, "call type 'webinar'", ["cold_call"]),
    (("calls", "search", "--language", "fr"), 2, "language 'fr'", ["en"]),
    (("calls", "search", "--rep", "nobody"), 2, "rep (member_id) 'nobody'", []),
    (("retention", "--grain", "weekly"), 2, "'weekly'", ["month", "quarter", "year"]),
    (("churn-reasons", "--grain", "week"), 2, "'week'", ["month", "quarter", "year"]),
    (("retention", "--by", "chanel"), 2, "'chanel'", ["segment", "acquisition_channel", "signup_cohort"]),
    (("backfill", "--freq", "M"), 2, "'M'", ["'D'", "'W'", "'MS'", "'QS'"]),
    (("survey-insight", "--survey-type", "npx"), 2, "'npx'", ["nps", "csat", "ces"]),
    (("keys", "create", "someone", "--scope", "admin"), 2, "'admin'", ["read", "write"]),
    (("quarantine", "--table", "acounts"), 3, "'acounts'", []),
    (("sql", "retentoin"), 1, "'retentoin'", []),
])
def test_an_unknown_value_is_one_line_listing_the_valid_ones(db, args, code, named, choices):
    res = run(db, *args, *(["--as-of", CALLS_DAY] if args[0] == "calls" else []))
    line = error_line(res, code)
    assert named in line
    for choice in choices:
        assert choice in line, line


def test_known_values_still_match(db):
    for args in (("--event", "callback_requested"), ("--call-type", "cold_call"), ("--language", "en")):
        res = run(db, "calls", "search", "--as-of", CALLS_DAY, *args)
        assert res.exit_code == 0, (args, res.output)
    res = run(db, "retention", "--grain", "month", "--by", "channel", "--as-of", "2024-06-30")
    assert res.exit_code == 0, res.output
