from pathlib import Path

from typer.testing import CliRunner

from retain.cli.main import app
from retain.configs import detect_kind, validate_config

SHIPPED = Path(__file__).parents[3] / "src" / "retain"


def test_every_shipped_config_is_recognised_and_valid():
    for path, kind in [(SHIPPED / "health" / "default_scorecard.yaml", "scorecard"),
                       (SHIPPED / "conversations" / "default_trackers.yaml", "trackers"),
                       (SHIPPED / "ingest" / "mappings" / "salesforce.yaml", "mapping"),
                       (SHIPPED / "ingest" / "mappings" / "hubspot.yaml", "mapping")]:
        assert detect_kind(path) == kind
        assert [i for i in validate_config(path) if i.level == "error"] == [], path


def test_all_problems_of_a_trackers_file_are_reported_with_their_keys(tmp_path):
    bad = tmp_path / "trackers.yaml"
    bad.write_text("version: 1\ntrackers:\n  - name: pricing\n    kind: keywordz\n    keywords: [price]\n"
                   "sop:\n  stages: [{name: a, tracker: nope}]\n", encoding="utf-8")
    issues = validate_config(bad)
    keys = {i.key for i in issues}
    assert {"trackers.0.kind", "sop.stages.0.tracker"} <= keys
    assert all(i.file == str(bad) and i.fix for i in issues)


def test_validate_command_exits_non_zero_and_names_file_and_key(tmp_path):
    bad = tmp_path / "rfm.yaml"
    bad.write_text("version: 1\nbins: 50\nlookback_months: 0\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "bins" in result.output and "lookback_months" in result.output and str(bad) in result.output


def test_missing_file_is_an_error_not_a_traceback(tmp_path):
    issues = validate_config(tmp_path / "nope.yaml")
    assert issues and issues[0].message == "file not found"
