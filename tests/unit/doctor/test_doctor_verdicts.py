"""The doctor's verdicts per analytic, line by line, on tiny hand-built warehouses of each outcome shape."""

from __future__ import annotations

import datetime as dt

from doctor_data import (
    EXPORT,
    accounts,
    churn_over_months,
    ids,
    load,
    snapshot_churned_on_one_day,
    snapshot_with_labels,
    subscriptions,
)

from retain.doctor import Analytic, Support, examine, summary_lines

NO_CALLS = "calls: unsupported - no conversations -> import transcripts: retain calls import transcripts/*.vtt --rep " \
           "MEMBER_ID"
NO_EXPANSION = "upsell model: skipped - skipped: no expansion in this data (single-plan product?)"


def lines(report) -> dict[str, str]:
    return {v.analytic.value: v.line() for v in report.verdicts}


def test_snapshot_with_labels_on_one_date(wh):
    snapshot_with_labels(wh, churned=25, stayed=15)
    report = examine(wh, EXPORT)
    got = lines(report)
    assert got["churn model"] == ("churn model: supported - 40 labels on 1 observation date, 25 churned "
                                  "(grouped k-fold by account)")
    assert got["retention"] == (
        "retention: limited - 40 accounts with subscriptions but no churn recorded: logo retention reads 100 % -> "
        "load subscription end dates (subscriptions.ended_on), churn_events, accounts.churned_at, or a labels file "
        "(outcome_labels)")
    assert got["survival"] == (
        "survival: unsupported - needs churn dates; none recorded (outcome_labels say whether, not when) -> load "
        "subscription end dates, churn_events or accounts.churned_at")
    assert got["upsell model"] == NO_EXPANSION
    assert got["health"] == ("health: supported - 40 accounts to score from subscriptions; not applicable: usage, "
                             "tickets, surveys, billing")
    assert got["calls"] == NO_CALLS
    out = report.outcomes
    assert (out.label_rows, out.label_dates, out.labels_churned, out.churned_accounts) == (40, 1, 25, 0)
    assert summary_lines(report)[0] == ("Data doctor as of 2025-07-15: 3 of 20 tables hold data; supported: "
                                        "health, churn model, CLV.")


def test_labels_of_one_outcome_only_cannot_train(wh):
    snapshot_with_labels(wh, churned=30, stayed=0)
    got = lines(examine(wh, EXPORT))
    assert got["churn model"] == ("churn model: unsupported - outcome_labels: all 30 labels on 1 observation date "
                                  "say churned: only one outcome -> label the accounts that stayed too "
                                  "(happened = false)")


def test_churns_all_on_the_export_day(wh):
    snapshot_churned_on_one_day(wh, churned=30, stayed=10)
    report = examine(wh, EXPORT)
    assert lines(report)["churn model"] == (
        "churn model: unsupported - needs churned accounts at two or more observation dates; you have 30 churns, "
        "all on 2025-07-15 -> load a labels file (outcome_labels) or subscription end dates")
    sources = {s.source: (s.accounts, s.dates, s.months, s.first_on) for s in report.outcomes.churn_sources}
    assert sources == {"subscriptions": (30, 1, 1, EXPORT), "churned_at": (30, 1, 1, EXPORT)}
    assert report.verdict(Analytic.SURVIVAL).support is Support.SUPPORTED


def test_subscriptions_churning_over_many_dates(wh):
    churn_over_months(wh, churned=30, stayed=10)
    report = examine(wh, dt.date(2025, 1, 31))
    got = lines(report)
    assert got["churn model"] == ("churn model: supported - 30 churned accounts on 30 days in 6 months, 2024-07-01 "
                                  "to 2024-12-22 (from subscriptions; rolling-origin)")
    assert got["retention"] == "retention: supported - 40 accounts with subscriptions, 30 churned"
    assert got["survival"] == "survival: supported - 40 accounts with start dates, 30 with churn dates"
    assert got["health"].startswith("health: supported - 10 accounts to score from subscriptions")
    assert got["upsell model"] == NO_EXPANSION


def test_as_of_hides_churns_not_yet_known(wh):
    churn_over_months(wh, churned=30, stayed=10)
    report = examine(wh, dt.date(2024, 7, 31))  # ends on 2024-07-01, 07-07 ... 07-31: six so far
    assert report.outcomes.churned_accounts == 6
    assert lines(report)["churn model"] == (
        "churn model: unsupported - needs at least 20 churned accounts; you have 6, all in 2024-07, on 6 days -> "
        "load more history (older subscription ends or churn_events) or a labels file (outcome_labels)")


def test_too_few_churns(wh):
    churn_over_months(wh, churned=5, stayed=10)
    assert lines(examine(wh, dt.date(2025, 1, 31)))["churn model"] == (
        "churn model: unsupported - needs at least 20 churned accounts; you have 5, all in 2024-07, on 5 days -> "
        "load more history (older subscription ends or churn_events) or a labels file "
        "(outcome_labels)")


def test_expansions_counted_from_subscriptions_and_upgrade_events(wh):
    names = ids(6)
    accounts(wh, names)
    start, change = dt.date(2024, 1, 1), dt.date(2024, 6, 1)
    subscriptions(wh, [
        ("a00", "core", start, change, 100.0, 5), ("a00", "core", change, None, 150.0, 8),  # upgrade: expansion
        ("a01", "core", start, None, 100.0, 5), ("a01", "addon", change, None, 20.0, 1),  # new product: expansion
        ("a02", "core", start, change, 100.0, 5), ("a02", "core", change, None, 100.0, 5),  # renewal: none
        ("a03", "core", start, change, 100.0, 5), ("a03", "lite", change, None, 60.0, 5),  # cross-grade down: none
        ("a04", "core", change, None, 100.0, 5),  # a first subscription is new business, not expansion
    ])
    load(wh, "churn_events", [{"event_id": "e1", "account_id": "a05", "occurred_on": change,
                               "event_type": "upgrade"}])
    report = examine(wh, dt.date(2024, 12, 31))
    assert (report.outcomes.expansions, report.outcomes.expansion_accounts) == (3, 3)
    assert lines(report)["upsell model"] == (
        "upsell model: unsupported - needs at least 20 expansions; you have 3 (3 accounts) -> load the subscription "
        "history with its upgrades (a new period at a higher MRR), churn_events of type upgrade, or expansion labels")


def test_empty_warehouse_supports_nothing(wh):
    report = examine(wh, dt.date(2025, 1, 31))
    assert {v.analytic: v.support for v in report.verdicts if v.support is not Support.UNSUPPORTED} == {
        Analytic.UPSELL_MODEL: Support.SKIPPED}
    got = lines(report)
    assert got["health"] == (
        "health: unsupported - no measure source (usage, tickets, surveys, billing, subscriptions) has rows -> load "
        "subscriptions and at least one of usage, support_tickets, survey_responses, invoices")
    assert got["CLV"] == (
        "CLV: unsupported - needs repeat transactions or subscriptions with at least 2 periods; you have 0 "
        "transactions with no repeat buyer and a longest subscription history of 0 periods -> load transactions "
        "(account, occurred_at, amount) or a subscription history spanning two billing periods")
    assert summary_lines(report)[0] == ("Data doctor as of 2025-01-31: 0 of 20 tables hold data; supported: "
                                        "nothing.")
    assert summary_lines(report)[-1] == "  no suspicious data found."
