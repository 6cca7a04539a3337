"""``retain doctor`` end to end on a small demo company (CLI runner, DuckDB file)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.doctor import examine, summary_lines
from retain.warehouse import Warehouse, as_of_day

runner = CliRunner()


@pytest.fixture(scope="module")
def db(demo_file, tmp_path_factory) -> str:
    """The session's small demo (250 accounts, two years, seed 7), copied: built once per run, not per module."""
    return str(demo_file.copy_to(tmp_path_factory.mktemp("doctor")))


def test_doctor_on_the_demo_prints_every_section_and_writes_json(db, tmp_path):
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["--db", db, "doctor", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for title in ("Data doctor as of", "Tables", "Outcomes", "What the data supports", "wrote the report to"):
        assert title in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    verdicts = {v["analytic"]: v["support"] for v in report["verdicts"]}
    # the demo is a multi-product SaaS company with years of history, calls and purchases: everything is supported
    assert verdicts == {a: "supported" for a in ("retention", "survival", "health", "churn model", "upsell model",
                                                  "CLV", "calls")}
    tables = {t["table"]: t for t in report["tables"]}
    assert tables["accounts"]["rows"] == 250 and tables["accounts"]["account_share"] == 1.0
    assert tables["usage"]["rows"] > 0 and tables["usage"]["history_days"] > 365
    assert report["outcomes"]["churned_accounts"] >= 20 and report["outcomes"]["churn_months"] >= 2
    assert report["as_of"] == result.output.split("as of ", 1)[1][:10]


def test_doctor_as_of_before_any_data_says_what_is_missing(db):
    result = runner.invoke(app, ["--db", db, "doctor", "--as-of", "2000-01-31"])
    assert result.exit_code == 0, result.output
    assert "supported: nothing" in result.output
    assert "no subscriptions known by 2000-01-31" in result.output
    assert "Traceback" not in result.output


def test_summary_lines_match_the_command(db):
    wh = Warehouse.open(db)
    try:
        choice = as_of_day(wh)
        lines = summary_lines(examine(wh, choice.day, reason=choice.reason))
    finally:
        wh.con.disconnect()
    assert lines[0].startswith(f"Data doctor as of {choice.day.isoformat()}: ")
    result = runner.invoke(app, ["--db", db, "doctor"])
    assert lines[0] in " ".join(result.output.split())  # the command prints it first (wrapped to the terminal)


@pytest.mark.parametrize(("args", "code", "text"), [
    (["doctor", "--as-of", "2025-13-01"], 2, "expected YYYY-MM-DD"),
    (["doctor", "--out", "report.csv"], 2, "is not a .json file name"),
])
def test_bad_options_are_one_line_errors(db, args, code, text):
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code
    assert text in result.output and "Traceback" not in result.output


def test_a_missing_warehouse_is_refused(tmp_path):
    result = runner.invoke(app, ["--db", str(tmp_path / "nope.duckdb"), "doctor"])
    assert result.exit_code == 5 and "no warehouse at" in result.output
