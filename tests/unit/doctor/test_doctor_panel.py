"""The Admin page's doctor panel renders a published doctor report, and says so when there is none."""

from __future__ import annotations

import datetime as dt

from doctor_data import EXPORT, snapshot_churned_on_one_day

from retain.doctor import examine
from retain.state.published import Rows, Visibility
from retain.web.render import make_templates


def render(doctor) -> str:
    return make_templates().env.get_template("doctor_panel.html").render(doctor=doctor)


def test_panel_shows_verdicts_and_flags(wh):
    snapshot_churned_on_one_day(wh)
    report = examine(wh, EXPORT)
    html = render(Rows("doctor", EXPORT, Visibility.COMPANY, report.to_rows()))
    assert "as of 2025-07-15" in html
    assert ('<td>churn model</td><td><b class="down">unsupported</b></td><td>needs churned accounts at two or more '
            'observation dates; you have 30 churns, all on 2025-07-15</td><td>load a labels file (outcome_labels) or '
            'subscription end dates</td>') in html
    assert '<td>accounts.churned_at</td><td>single value</td><td>holds one value (2025-07-15 12:00:00)' in html
    assert html.count("<tr") == 1 + len(report.verdicts) + 1 + len(report.flags)  # two heads, one row per finding


def test_panel_without_a_report(wh):
    assert "No data-doctor report published yet" in render(None)
    empty = render(Rows("doctor", dt.date(2025, 1, 1), Visibility.COMPANY, []))
    assert "No data-doctor report published yet" in empty
