"""`retain calls/leads/tags` through the CLI runner, on a DuckDB file."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.cli.main import app

FX = Path(__file__).resolve().parents[1] / "fixtures" / "conversations"
runner = CliRunner()


def _run(db, *args):
    return runner.invoke(app, ["--db", str(db), *args])


def test_import_analyze_search_and_actions(tmp_path):
    db = tmp_path / "w.duckdb"
    bad = _run(db, "calls", "import", str(FX / "call.vtt"), str(FX / "bad.vtt"))
    assert bad.exit_code == 4
    assert "bad.vtt:6" in bad.output and "nothing was imported" in bad.output

    ok = _run(db, "calls", "import", str(FX / "call.vtt"), str(FX / "call.srt"), str(FX / "call.txt"),
              "--started-at", "2026-03-04T15:00:00", "--call-type", "cold_call")
    assert ok.exit_code == 0, ok.output
    assert "imported 3 call(s), 12 utterance(s)" in ok.output
    ok = _run(db, "calls", "import", str(FX / "call.json"))
    assert ok.exit_code == 0, ok.output

    out = tmp_path / "calls.csv"
    res = _run(db, "calls", "analyze", "--as-of", "2026-03-31", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "analysed 4 calls" in res.output
    frame = pd.read_csv(out)
    assert {"rep_talk_share", "qa_score", "event_callback_requested", "stages_missing"} <= set(frame.columns)

    res = _run(db, "calls", "search", "--as-of", "2026-03-31", "--event", "callback_requested")
    assert res.exit_code == 0, res.output
    assert "2 matching calls" in res.output
    res = _run(db, "calls", "search", "--as-of", "2026-03-31", "--competitor", "hubspot")
    assert "1 matching calls" in res.output
    res = _run(db, "calls", "search", "--as-of", "2026-03-31", "--min-talk-ratio", "0.99")
    assert "0 matching calls" in res.output

    for args in (("calls", "outcomes"), ("calls", "cadence"), ("leads", "recover"), ("tags", "suggest")):
        res = _run(db, *args, "--as-of", "2026-03-31")
        assert res.exit_code == 0, (args, res.output)

    res = _run(db, "tags", "suggest", "--accept", "nope")
    assert res.exit_code == 7 and "no tag suggestion" in res.output


def test_bad_trackers_file_is_a_config_error(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("version: 1\ntrackers: [{name: x, kind: regex}]\n")
    assert _run(tmp_path / "w.duckdb", "init").exit_code == 0
    res = _run(tmp_path / "w.duckdb", "calls", "analyze", "--trackers", str(bad), "--as-of", "2026-03-31")
    assert res.exit_code == 2 and "needs 'pattern'" in res.output


def test_import_with_an_unknown_lead_names_it_and_writes_nothing(tmp_path):
    db = tmp_path / "w.duckdb"
    res = _run(db, "calls", "import", str(FX / "call.vtt"), "--lead", "NOPE", "--started-at", "2026-03-04")
    assert res.exit_code == 4
    assert "conversations row 1 (lead_id): 'NOPE' not found in leads.lead_id" in " ".join(res.output.split())
    from retain.warehouse import Warehouse

    assert Warehouse.open(db).count("conversations") == 0


@pytest.mark.slow
def test_main_job_on_a_small_demo_company(tmp_path, capsys):
    """The demo company's EN + ZH calls go through the whole calls section of the main job."""
    from retain.cli.job import print_section
    from retain.demo import DemoSpec, build_demo
    from retain.warehouse import Warehouse

    wh = Warehouse.open(tmp_path / "demo.duckdb")
    build_demo(wh, DemoSpec(accounts=60))
    day = pd.Timestamp(wh.raw("conversations").started_at.max().execute()).date()
    print_section(wh, day, "calls")
    out = capsys.readouterr().out
    assert "calls analysed:" in out and "QA score per rep" in out and "Top 5 leads to recover" in out
    metrics = wh.execute(wh.result("call_metrics", day))
    assert len(metrics) > 20 and set(metrics["language"]) == {"en", "zh"}
    for name in ("tracker_hits", "call_events", "lead_recovery", "tag_suggestions", "call_outcomes"):
        assert len(wh.execute(wh.result(name, day))) > 0, name
