"""`retain demo --profile bank|app` end to end through the CLI runner: generate, ingest and the real main job.

The main job degrades on shapes it cannot fully use: each section that cannot run says why and what it needs, and
the demo still ends normally (no traceback).
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.jobs.main import SECTIONS as JOB_SECTIONS
from retain.warehouse import Warehouse

SECTIONS = tuple(s.name for s in JOB_SECTIONS)


def _run(tmp_path, *args: str):
    db = tmp_path / "demo.duckdb"
    result = CliRunner().invoke(app, ["--db", str(db), "demo", *args, "--seed", "5", "--end", "2026-06-30",
                                      "--no-serve"])
    return result, " ".join(result.output.split()), db


def _sections_accounted_for(flat: str) -> list[str]:
    """The sections the job skipped; each named with its reason, and the closing line agrees."""
    skipped = re.findall(r"skipped the (\w+) section: ", flat)
    assert set(skipped) <= set(SECTIONS), skipped
    if skipped:
        assert f"Partial run: {len(skipped)} of {len(SECTIONS)} sections skipped" in flat
    return skipped


@pytest.mark.parametrize(("profile", "size"), [("bank", "60"), ("app", "100")])
def test_demo_profile_runs_end_to_end(tmp_path, profile, size):
    result, flat, db = _run(tmp_path, "--profile", profile, "--accounts", size, "--years", "1.25")
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert f"demo company ({profile}): {size} accounts" in flat and " 0 quarantined" in flat
    assert "Retain main job, as of 2026-06-30" in flat
    _sections_accounted_for(flat)
    for rule in ("Retention and revenue", "Customer health", "Prediction", "Lifetime value", "Calls"):
        assert rule in flat, rule  # every section starts; one that cannot run says why
    wh = Warehouse.open(db)
    assert wh.count("accounts") == int(size) and wh.count("churn_events") > 0 and wh.count("usage") > 0
    assert wh.count("conversations") == 0 and wh.count("leads") == 0


def test_demo_profile_is_remembered_and_validated(tmp_path, monkeypatch):
    import retain.cli.job as job

    monkeypatch.setattr(job, "run_main_job", lambda wh, as_of=None: None)
    args = ["--profile", "app", "--accounts", "40", "--years", "1"]
    first, _, _ = _run(tmp_path, *args)
    assert first.exit_code == 0, first.output
    again, flat, _ = _run(tmp_path, *args)
    assert again.exit_code == 0 and "already holds this demo company (app, 40 accounts" in flat
    other, flat, _ = _run(tmp_path, "--profile", "bank", "--accounts", "40", "--years", "1")
    assert other.exit_code == 5 and "--replace" in flat
    bad, flat, _ = _run(tmp_path, "--profile", "insurer")
    assert bad.exit_code == 2 and "insurer" in flat and "saas" in flat and "Traceback" not in bad.output
