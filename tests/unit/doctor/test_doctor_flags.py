"""The doctor's suspicious-data flags, line by line, on tiny hand-built warehouses."""

from __future__ import annotations

import datetime as dt

from doctor_data import accounts, ids, load, subscriptions, ts

from retain.doctor import FlagKind, examine
from retain.doctor.coverage import all_table_facts
from retain.doctor.suspicious import (
    all_quarantined,
    arr_implausible,
    churn_contradictions,
    health_components,
    quantity_outliers,
    single_values,
    survey_off_scale,
)
from retain.ingest.ledger import LOADS, QUARANTINE, ddl

DAY = dt.date(2024, 12, 31)
START = dt.date(2024, 1, 1)


def lines(flags) -> list[str]:
    return [f.line() for f in flags]


def test_quantity_100x_the_median_of_its_product(wh):
    names = ids(26)
    accounts(wh, names)
    rows = [(a, "seats", START, None, 100.0, 10) for a in names[:25]] + [(names[25], "seats", START, None, 100.0, 5000)]
    rows += [(a, "searches", START, None, 10.0, 5000) for a in names[:3]]  # an allowance: large but ordinary
    subscriptions(wh, rows)
    flags = quantity_outliers(wh, DAY)
    assert lines(flags) == [
        "subscriptions.quantity: 1 row(s) of product seats have a quantity over 100x its median (10); the largest is "
        "5,000 -> check the unit: an allowance (5,000 searches) is not seats: declare the product seat_based: false "
        "in products, or correct the rows"]
    assert flags[0].examples == ("s025",) and flags[0].count == 1


def test_survey_scores_off_their_scale(wh):
    accounts(wh, ["a00"])
    answers = [("csat", s) for s in (5, 6, 7, 8, 9, 10)] + [("nps", s) for s in (0, 7, 10)] + [("ces", 7)]
    load(wh, "survey_responses", [{"response_id": f"r{i}", "account_id": "a00", "responded_at": ts(START),
                                   "survey_type": kind, "score": score} for i, (kind, score) in enumerate(answers)])
    flags = survey_off_scale(wh, DAY)
    assert lines(flags) == [
        "survey_responses.score (csat): 5 of 6 CSAT scores are off its 1-5 scale (seen 5-10) -> declare the survey's "
        "scale in the mapping so scores are rescaled, or correct the type"]
    assert flags[0].count == 5 and flags[0].examples == ("r1",)


def test_churn_flags_contradicting_subscriptions(wh):
    names = ids(5)
    churned = {"a03": dt.date(2024, 3, 1), "a04": dt.date(2024, 3, 1)}
    accounts(wh, names, churned=churned)
    subscriptions(wh, [
        ("a00", "core", START, None, 100.0, 5),  # churn event, still running: contradiction
        ("a01", "core", START, dt.date(2024, 3, 1), 100.0, 5),  # churn event and end agree
        ("a02", "core", START, None, 100.0, 5),  # churn event only 10 days ago: not yet a contradiction
        ("a03", "core", START, None, 100.0, 5),  # churned_at, still running: contradiction
        ("a04", "core", START, dt.date(2024, 3, 20), 100.0, 5),  # churned_at, ended within the grace period
    ])
    load(wh, "churn_events", [
        {"event_id": "e0", "account_id": "a00", "occurred_on": dt.date(2024, 3, 1), "event_type": "churn"},
        {"event_id": "e1", "account_id": "a01", "occurred_on": dt.date(2024, 3, 1), "event_type": "churn"},
        {"event_id": "e2", "account_id": "a02", "occurred_on": DAY - dt.timedelta(days=10), "event_type": "churn"},
        {"event_id": "e3", "account_id": "a04", "occurred_on": dt.date(2024, 3, 1), "event_type": "downgrade"},
    ])
    flags = churn_contradictions(wh, DAY)
    assert lines(flags) == [
        "churn_events: 1 of 3 accounts have a churn event while a subscription that started by then still runs more "
        "than 31 days after it -> export the subscriptions' end dates, or correct the churn flags (a downgrade is "
        "not a churn)",
        "accounts.churned_at: 1 of 2 accounts have a churned_at while a subscription that started by then still runs "
        "more than 31 days after it -> export the subscriptions' end dates, or correct the churn flags (a downgrade "
        "is not a churn)"]
    assert [f.examples for f in flags] == [("a00",), ("a03",)]


def test_churn_event_of_one_product_checks_that_product_only(wh):
    accounts(wh, ["a00"])
    subscriptions(wh, [("a00", "core", START, None, 100.0, 5), ("a00", "addon", START, dt.date(2024, 3, 1), 10.0, 1)])
    load(wh, "churn_events", [{"event_id": "e0", "account_id": "a00", "occurred_on": dt.date(2024, 3, 1),
                               "event_type": "churn", "product_id": "addon"}])
    assert churn_contradictions(wh, DAY) == []


def test_arr_implausibly_high(wh):
    names = ids(3)
    accounts(wh, names)
    subscriptions(wh, [(a, "core", START, None, 2_000_000.0, 5) for a in names])
    assert lines(arr_implausible(wh, DAY)) == [
        "subscriptions.mrr: the median ARR per account is 24,000,000 over 3 accounts (total 72,000,000): implausibly "
        "high -> check the unit of mrr: monthly, in currency units (not cents, not an annual or whole-contract "
        "amount)"]
    wh.con.raw_sql("UPDATE subscriptions SET mrr = 2000")
    assert arr_implausible(wh, DAY) == []


def test_a_column_with_a_single_value(wh):
    names = ids(25)
    load(wh, "accounts", [{"account_id": a, "name": a, "created_at": ts(START + dt.timedelta(days=i)),
                           "segment": "smb", "region": "emea" if i else "apac"} for i, a in enumerate(names)])
    load(wh, "usage", [{"account_id": a, "usage_on": START + dt.timedelta(days=i), "feature": f"f{i % 3}",
                        "active_users": 0, "events": float(i)} for i, a in enumerate(names)])
    flags = single_values(all_table_facts(wh, DAY))
    assert lines(flags) == [
        "accounts.segment: holds one value (smb) on all 25 rows that have one -> check the export or the mapping: a "
        "column that never varies tells analytics nothing",
        "usage.active_users: holds one value (0) on all 25 rows that have one -> is the column missing from your "
        "files or from the mapping? (this is its default)"]


def _ledger(wh) -> None:
    for name in (LOADS, QUARANTINE):
        wh.con.raw_sql(ddl(name))
    at = "TIMESTAMPTZ '2024-06-01 00:00:00+00'"
    wh.con.raw_sql(f"INSERT INTO {LOADS} VALUES ('l1', 'usage', 'usage.csv', 5, 0, 5, 0, 0, {at}, {at}), "
                   f"('l2', 'survey_responses', 'nps.csv', 4, 4, 0, 4, 0, {at}, {at}), "
                   f"('l3', 'accounts', 'accounts.csv', 10, 9, 1, 9, 0, {at}, {at})")
    rows = [("l1", "usage", "usage.csv", i, "usage_on") for i in range(5)]
    rows += [("l2", "survey_responses", "nps.csv", i, "score") for i in range(4)]
    rows += [("l3", "accounts", "accounts.csv", 3, "created_at")]
    values = ", ".join(f"('{lid}', '{t}', '{f}', {i}, '{c}', 'bad', '{{}}', {at})" for lid, t, f, i, c in rows)
    wh.con.raw_sql(f"INSERT INTO {QUARANTINE} VALUES {values}")


def test_whole_files_and_columns_quarantined(wh):
    assert all_quarantined(wh) == []  # no ledger yet: nothing to say
    _ledger(wh)
    assert lines(all_quarantined(wh)) == [
        "usage: all 5 rows of usage.csv were quarantined -> see `retain quarantine` for the reasons, fix the file or "
        "its mapping and load it again",
        "survey_responses.score: every one of the 4 rows of nps.csv had this column quarantined -> see `retain "
        "quarantine --out bad_rows.csv`; fix the column's mapping or format"]


def test_health_components_nobody_can_score_on(wh):
    names = ids(3)
    accounts(wh, names)
    subscriptions(wh, [(a, "core", START, None, 100.0, 5) for a in names])
    load(wh, "usage", [{"account_id": a, "usage_on": DAY - dt.timedelta(days=k), "feature": "reports",
                        "active_users": 0, "events": 0.0} for a in names for k in range(100)])
    flags = health_components(wh, DAY)
    assert "scorecard standard / usage: every one of its 3 accounts scores 0 on it -> check the measure's unit and " \
           "bands (e.g. usage without user ids gives 0 active users)" in lines(flags)
    assert "scorecard standard / support: not applicable for any of its 3 accounts (its sources have no data) -> " \
           "load the source tables its measures read, or drop the component from the scorecard" in lines(flags)


def test_examine_collects_every_kind_and_the_report_is_json(wh):
    import json

    _ledger(wh)
    accounts(wh, ids(2))
    subscriptions(wh, [("a00", "core", START, None, 2_000_000.0, 5)])
    report = examine(wh, DAY)
    kinds = {f.kind for f in report.flags}
    assert {FlagKind.ALL_QUARANTINED, FlagKind.ARR_IMPLAUSIBLE, FlagKind.HEALTH_COMPONENT} <= kinds
    data = json.loads(json.dumps(report.to_dict()))
    assert data["as_of"] == "2024-12-31"
    assert [v["analytic"] for v in data["verdicts"]] == ["retention", "survival", "health", "churn model",
                                                         "upsell model", "CLV", "calls"]
    subs = next(t for t in data["tables"] if t["table"] == "subscriptions")
    assert (subs["rows"], subs["accounts"], subs["account_share"], subs["first_on"]) == (1, 1, 0.5, "2024-01-01")
    rows = report.to_rows()
    assert {r["section"] for r in rows} == {"verdict", "flag"} and all(set(r) == {"item", "section", "subject",
                                                                              "status", "message", "fix"} for r in rows)


def test_health_components_stored_for_the_day_are_reused(wh):
    from retain.health.history import score, store

    names = ids(3)
    accounts(wh, names)
    subscriptions(wh, [(a, "core", START, None, 100.0, 5) for a in names])
    result = score(wh, DAY)
    comps = result.components
    result.components = comps.assign(score=comps["score"].where(comps["component"] != "breadth", 0.0))
    store(wh, result, DAY)
    assert "scorecard standard / breadth: every one of its 3 accounts scores 0 on it -> check the measure's unit " \
           "and bands (e.g. usage without user ids gives 0 active users)" in lines(health_components(wh, DAY))
