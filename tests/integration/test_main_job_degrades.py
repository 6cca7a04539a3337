"""`retain run` degrades, never aborts: a section the data cannot support is skipped with what it needs (issue 11)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retain.cli import job
from retain.cli.main import app
from retain.errors import ModelError, ResultError
from retain.jobs import main as jobs_main
from retain.warehouse import Warehouse

runner = CliRunner()
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    """The tiny health tables (18 months, 4 accounts): too little history for the models' time split."""
    spec = importlib.util.spec_from_file_location("health_data_job", HERE.parent / "unit" / "health" / "health_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("job") / "w.duckdb"
    wh = Warehouse.open(path)
    module.fill_tiny(wh)
    wh.con.disconnect()
    return str(path)


def test_a_section_that_cannot_run_is_skipped_and_the_rest_runs(db, monkeypatch):
    # health, then the models (too little history for their time split), then value, which needs the health only
    kept = [s for s in jobs_main.SECTIONS if s.name in ("health", "prediction", "value")]
    monkeypatch.setattr(jobs_main, "SECTIONS", tuple(kept))
    res = runner.invoke(app, ["--db", db, "run", "--as-of", "2024-06-30"])
    assert res.exit_code == job.PARTIAL_RUN_EXIT == 8, res.output
    out = res.output
    # what it needs and how to get it (the wording is the models' own, tested with them)
    assert re.search(r"skipped the prediction section: \S.*\nto run it: \S", out)
    assert out.index("Customer health") < out.index("skipped the prediction section") < out.index("Lifetime value")
    assert "Top accounts by CLV" in out  # the later section printed its results
    assert "Partial run: 1 of 3 sections skipped (prediction)" in out
    assert "Traceback" not in out


def _fake_sections(monkeypatch, **behaviours) -> list[str]:
    ran: list[str] = []
    sections = []
    for name, error in behaviours.items():

        def compute(wh, as_of, _name=name, _error=error):
            ran.append(_name)
            if _error is not None:
                raise _error

        sections.append(jobs_main.Section(name, compute))
    monkeypatch.setattr(jobs_main, "SECTIONS", tuple(sections))
    return ran


def test_all_sections_ran_is_exit_0_and_a_bug_still_propagates(db, monkeypatch):
    ran = _fake_sections(monkeypatch, fake_a=None, fake_b=None)
    res = runner.invoke(app, ["--db", db, "run", "--as-of", "2024-06-30"])
    assert res.exit_code == 0 and ran == ["fake_a", "fake_b"] and "Partial run" not in res.output

    ran = _fake_sections(monkeypatch, fake_c=ModelError("cannot fit", hint="load more"), fake_d=None)
    skipped = jobs_main.run_main_job(Warehouse.open(db), None).skipped  # no face needed
    assert [s.section for s in skipped] == ["fake_c"] and ran == ["fake_c", "fake_d"]

    for bug in (RuntimeError("a bug"), ResultError("result 'x' does not fit its spec")):
        _fake_sections(monkeypatch, fake_e=bug, fake_f=None)
        with pytest.raises(type(bug)):
            jobs_main.run_main_job(Warehouse.open(db), None)
