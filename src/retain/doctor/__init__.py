"""The data doctor: what the loaded data supports, what is missing and how to supply it, and what looks wrong.

Stable API:

- :func:`examine` ``(wh, day) -> DoctorReport``: per-table facts (:mod:`.coverage`), outcome counts
  (:mod:`.outcome_counts`), per-analytic verdicts (:mod:`.requirements`) and suspicious-data flags (:mod:`.suspicious`),
  all as of ``day`` (choose it with :func:`retain.warehouse.as_of_day`);
- :func:`summary_lines` ``(report) -> list[str]``: the few lines the main job prints first.
"""

from __future__ import annotations

from retain.doctor.coverage import all_table_facts
from retain.doctor.outcome_counts import outcomes
from retain.doctor.report import (
    Analytic,
    ChurnSource,
    ColumnFacts,
    DoctorReport,
    Flag,
    FlagKind,
    Outcomes,
    Support,
    TableFacts,
    Verdict,
)
from retain.doctor.requirements import verdicts
from retain.doctor.suspicious import flags
from retain.warehouse import AsOf, Warehouse, as_of_date


def examine(wh: Warehouse, day: AsOf, *, reason: str = "requested", scorecards=None) -> DoctorReport:
    """Everything the doctor checks, as of ``day`` (``reason``: why that day, as :class:`AsOfDay` says).

    ``scorecards``: the health scorecard whose components are checked (default: the shipped one)."""
    on = as_of_date(day)
    tables = all_table_facts(wh, on)
    found = outcomes(wh, on)
    return DoctorReport(as_of=on, as_of_reason=reason, tables=tables, outcomes=found,
                        verdicts=verdicts(tables, found, on), flags=flags(wh, on, tables, scorecards))


def summary_lines(report: DoctorReport) -> list[str]:
    """A few plain lines: tables with data, what is supported, what is not and why, and how many flags."""
    loaded = [t for t in report.tables if t.rows]
    ok = [v.analytic.value for v in report.verdicts if v.support is Support.SUPPORTED]
    lines = [f"Data doctor as of {report.as_of.isoformat()}: {len(loaded)} of {len(report.tables)} tables hold "
             f"data; supported: {', '.join(ok) if ok else 'nothing'}."]
    lines += [f"  {v.line()}" for v in report.verdicts if v.support is not Support.SUPPORTED]
    if report.flags:
        kinds = sorted({f.kind.value for f in report.flags})
        lines.append(f"  {len(report.flags)} suspicious-data flag(s): {', '.join(kinds)} (see `retain doctor`).")
    else:
        lines.append("  no suspicious data found.")
    return lines


__all__ = [
    "Analytic", "ChurnSource", "ColumnFacts", "DoctorReport", "Flag", "FlagKind", "Outcomes", "Support",
    "TableFacts", "Verdict", "examine", "summary_lines",
]
