"""``retain surveys plan | send | report | opt-out`` through the CLI runner on the tiny survey company."""

from __future__ import annotations

import pytest
from tests.unit.surveys.survey_company import build
from typer.testing import CliRunner

from retain.cli.main import app
from retain.warehouse import Warehouse

runner = CliRunner()


@pytest.fixture
def paths(tmp_path, monkeypatch):
    wh = build(Warehouse.open(tmp_path / "wh.duckdb"))
    wh.con.disconnect()
    monkeypatch.setenv("RETAIN_DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite'}")
    monkeypatch.setenv("COLUMNS", "200")
    return ["--db", str(tmp_path / "wh.duckdb")]


def test_plan_is_a_dry_run_with_reasons_then_send_queues_once(paths, tmp_path):
    plan = runner.invoke(app, [*paths, "surveys", "plan", "--as-of", "2024-06-30", "--out", str(tmp_path / "p.csv")])
    assert plan.exit_code == 0, plan.output
    assert "3 contact(s) would be surveyed, 6 held back (nothing was sent)" in " ".join(plan.output.split())
    assert "open_escalation" in plan.output and "critical_ticket" in plan.output
    assert (tmp_path / "p.csv").read_text().count("\n") == 10  # header + 9 candidates
    sent = runner.invoke(app, [*paths, "surveys", "send", "--as-of", "2024-06-30"])
    assert sent.exit_code == 0, sent.output
    assert "3 invitation(s) in the outbox" in sent.output and "onboarding_nps 2, support_ces 1" in sent.output
    again = runner.invoke(app, [*paths, "surveys", "send", "--as-of", "2024-06-30"])
    assert "0 invitation(s) in the outbox" in again.output  # idempotent
    report = runner.invoke(app, [*paths, "surveys", "report", "--as-of", "2024-06-30", "--by", "touchpoint"])
    assert report.exit_code == 0 and "support_ticket" in report.output and "onboarding" in report.output


def test_opt_out_and_a_bad_dimension(paths):
    first = runner.invoke(app, [*paths, "surveys", "opt-out", "e_champ"])
    assert first.exit_code == 0 and "e_champ opted out of surveys" in first.output
    assert "already" in runner.invoke(app, [*paths, "surveys", "opt-out", "e_champ"]).output
    plan = runner.invoke(app, [*paths, "surveys", "plan", "--as-of", "2024-06-30"])
    assert "2 contact(s) would be surveyed" in " ".join(plan.output.split()) and "opted_out" in plan.output
    bad = runner.invoke(app, [*paths, "surveys", "report", "--by", "colour"])
    assert bad.exit_code == 2 and "programme, touchpoint, segment" in bad.output


def test_a_broken_programmes_file_names_the_key(paths, tmp_path):
    broken = tmp_path / "programmes.yaml"
    broken.write_text("version: 1\nprogrammes:\n  - name: x1\n    survey: nsp\n    trigger: {kind: qbr_held}\n")
    out = runner.invoke(app, [*paths, "surveys", "plan", "--programmes", str(broken)])
    assert out.exit_code == 2 and "programmes.0.survey" in out.output and "docs/surveys.md" in out.output
