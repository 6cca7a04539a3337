"""The main job runs without any face: sections in order, typed results, degrade never abort (issue 11)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from retain.errors import ModelError, ResultError
from retain.jobs import main
from retain.jobs.main import PARTIAL_RUN_EXIT, Section, SectionName, run_main_job
from retain.warehouse import AsOfDay

AS_OF = dt.date(2024, 6, 30)  # the tiny health company's day


def _fakes(monkeypatch, **behaviours) -> list[str]:
    ran: list[str] = []

    def section(name, error):
        def compute(wh, day):
            ran.append(name)
            if error is not None:
                raise error
            return {"day": day}

        return Section(name, compute)

    monkeypatch.setattr(main, "SECTIONS", tuple(section(n, e) for n, e in behaviours.items()))
    return ran


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def started(self, section: str) -> None:
        self.events.append(f"start {section}")

    def finished(self, run) -> None:
        self.events.append(f"{'done' if run.ran else 'skip'} {run.section}")


def test_sections_are_declared_once_in_their_order():
    assert [s.name for s in main.SECTIONS] == list(SectionName)
    assert [s.name for s in main.SECTIONS].index("prediction") < [s.name for s in main.SECTIONS].index("value")


def test_a_skipped_section_is_recorded_and_the_rest_runs(tiny_wh, monkeypatch):
    ran = _fakes(monkeypatch, a=None, b=ModelError("too little history", hint="load more"), c=None)
    listener = Recorder()
    job = run_main_job(tiny_wh, AS_OF, listener)
    assert ran == ["a", "b", "c"]
    assert isinstance(job.as_of, AsOfDay) and job.as_of.day == AS_OF
    assert [s.section for s in job.skipped] == ["b"] and job.skipped[0].error.hint == "load more"
    assert job.result("a") == {"day": AS_OF} and job.result("b") is None
    assert not job.complete and job.exit_code == PARTIAL_RUN_EXIT == 8
    assert listener.events == ["start a", "done a", "start b", "skip b", "start c", "done c"]


def test_every_section_ran_is_exit_0(tiny_wh, monkeypatch):
    _fakes(monkeypatch, a=None)
    job = run_main_job(tiny_wh, AS_OF)
    assert job.complete and job.exit_code == 0 and job.skipped == []


@pytest.mark.parametrize("bug", [RuntimeError("a bug"), ResultError("result 'x' does not fit its spec")],
                         ids=["exception", "result-error"])
def test_a_bug_propagates(tiny_wh, monkeypatch, bug):
    ran = _fakes(monkeypatch, a=bug, b=None)
    with pytest.raises(type(bug)):
        run_main_job(tiny_wh, AS_OF)
    assert ran == ["a"]


def test_the_job_imports_no_face():
    code = ("import sys, retain.jobs.main, retain.jobs.publish; "
            "print(sorted(m for m in sys.modules if m.split('.')[:2] in (['retain', 'cli'], ['retain', 'web'], "
            "['retain', 'api'], ['retain', 'server'])))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_real_sections_on_the_tiny_company(tiny_wh, monkeypatch):
    """Status, retention, health and value on real data (the models and calls have tests of their own)."""
    keep = {SectionName.STATUS, SectionName.RETENTION, SectionName.HEALTH, SectionName.VALUE}
    monkeypatch.setattr(main, "SECTIONS", tuple(s for s in main.SECTIONS if s.name in keep))
    job = run_main_job(tiny_wh, AS_OF)
    assert [r.section for r in job.runs] == ["status", "retention", "health", "value"] and job.complete
    status = job.result("status")
    assert "accounts" in set(status.tables["table"]) and (status.tables["rows"] > 0).all()
    retention = job.result("retention")
    assert list(retention.decomposition["period"])[-1] == "2024-Q2" and retention.stored["retention"] > 0
    health = job.result("health")
    # the history policy: the first of each month of the year before, up to four weeks before the day (the last
    # date of that range, 2024-06-02, included); then the day itself, with per-measure rows
    assert health.backfilled[0] == dt.date(2023, 7, 1) and health.backfilled[-2:] == [dt.date(2024, 6, 1),
                                                                                      dt.date(2024, 6, 2)]
    assert len(health.backfilled) == 13 and health.history_start == dt.date(2023, 7, 1)
    assert health.scoring.riskiest["account_id"].iloc[0] == "B" and "account_name" in health.scoring.riskiest
    assert len(tiny_wh.execute(tiny_wh.result("health_measures", AS_OF))) > 0
    again = run_main_job(tiny_wh, AS_OF).result("health")
    assert again.backfilled == []  # dates already stored are kept
    value = job.result("value")
    assert value.unavailable is None and value.churn_source.name == "P_ALIVE"
    assert value.value_at_risk == pytest.approx((value.at_risk["clv"] * value.at_risk["p_churn"]).sum())
    assert len(tiny_wh.execute(tiny_wh.result("clv", AS_OF))) == len(value.run.result.values)
