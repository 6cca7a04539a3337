"""The triggers on calls, leads and deals (``callback_missed``, ``lead_dropped``, ``deal_below_benchmark``) on a
tiny hand-built warehouse: exactly the subjects they should fire for, their owner, evidence and words; skipped with
the reason when their stored input is missing."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from tests.unit.action.act_company import DAY, company, one_rule, put

from retain.action import act, evaluate
from retain.state.actions import Cta


def fired(wh, config, day=DAY):
    ev = evaluate(wh, day, config)
    return ev, {r["account_id"]: r for r in ev.fired.to_dict("records")}


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def ago(days: int, hour: int = 12) -> dt.datetime:
    return at(DAY - dt.timedelta(days=days), hour)


def calls(wh, rows: list[dict]) -> None:
    """Conversations (id, started_at, account_id / lead_id)."""
    put(wh, "conversations", rows)


def events(wh, rows: list[dict], day: dt.date = DAY) -> None:
    """Stored ``call_events`` as of ``day``: conversation, event, role, occurred_at, due_at, due_expression."""
    frame = pd.DataFrame([{"detail": "", "seq": i, "hit_seconds": 30.0, "quote": "call me", "due_at": pd.NaT,
                           "due_expression": None, "role": "customer", **r} for i, r in enumerate(rows)])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    frame["due_at"] = pd.to_datetime(frame["due_at"], utc=True)
    wh.store_result("call_events", frame, day)


# -- callback_missed -----------------------------------------------------------------------------------------------

def _callback_company():
    wh = company()
    calls(wh, [
        {"conversation_id": "k1", "started_at": ago(10), "account_id": "a1"},  # asked, never called back
        {"conversation_id": "k2", "started_at": ago(10), "account_id": "a2"},  # asked, called back 3 days later
        {"conversation_id": "k2b", "started_at": ago(7), "account_id": "a2"},
        {"conversation_id": "k3", "started_at": ago(10), "account_id": "a3"},  # asked, answered by an e-mail
        {"conversation_id": "k4", "started_at": ago(1), "account_id": "a4"},  # asked yesterday: not yet due
        {"conversation_id": "k5", "started_at": ago(60), "account_id": "a5"},  # asked 60 days ago: beyond lookback
        {"conversation_id": "k6", "started_at": ago(20), "account_id": "ended"},  # not a customer any more
    ])
    put(wh, "activities", [
        {"activity_id": "x1", "account_id": "a3", "occurred_at": ago(9), "activity_type": "email"},
        {"activity_id": "x2", "account_id": "a1", "occurred_at": ago(5), "activity_type": "note",
         "direction": "internal"},  # an internal note is no callback
        {"activity_id": "x3", "account_id": "a1", "occurred_at": ago(30), "activity_type": "call"},  # before it
    ])
    cb = {"event": "callback_requested"}
    events(wh, [
        {**cb, "conversation_id": "k1", "occurred_at": ago(10), "due_at": ago(8, 15), "due_expression": "Friday"},
        {**cb, "conversation_id": "k2", "occurred_at": ago(10)},
        {**cb, "conversation_id": "k3", "occurred_at": ago(10)},
        {**cb, "conversation_id": "k4", "occurred_at": ago(1)},
        {**cb, "conversation_id": "k5", "occurred_at": ago(60)},
        {**cb, "conversation_id": "k6", "occurred_at": ago(20)},
        {"event": "pricing_discussed", "conversation_id": "k4", "occurred_at": ago(1)},
    ])
    return wh


def test_callback_missed_fires_when_nobody_called_or_wrote_back_in_time(tmp_path):
    wh = _callback_company()
    config = one_rule(tmp_path, "{kind: callback_missed, within_days: 2, lookback_days: 30}", type_="activity",
                      owner="csm")
    _, rows = fired(wh, config)
    assert set(rows) == {"a1"}
    ev = json.loads(rows["a1"]["evidence"])
    assert ev["requested_on"] == str(DAY - dt.timedelta(days=10)) and ev["asked_for"] == "Friday"
    assert (ev["days_since_request"], ev["days_overdue"]) == (10, 6)  # due 8 days ago + 2 days of grace
    assert rows["a1"]["owner_id"] == "c1"  # the rule's role: the account's CSM
    assert "to be called back Friday; no call or activity since (10 days, 6 overdue)" in rows["a1"]["detail"]


def test_callback_missed_waits_for_the_grace_and_forgets_old_requests(tmp_path):
    wh = _callback_company()
    # with no grace, yesterday's request (a4) is due; a5's request of 60 days ago enters a 90-day lookback
    _, rows = fired(wh, one_rule(tmp_path, "{kind: callback_missed, within_days: 0, lookback_days: 90}",
                                 type_="activity"))
    assert set(rows) == {"a1", "a4", "a5"}
    # as of a day before the callback request, nothing was asked yet
    _, rows = fired(wh, one_rule(tmp_path, "{kind: callback_missed}", type_="activity"), DAY - dt.timedelta(days=11))
    assert rows == {}


def test_callback_missed_is_skipped_without_stored_call_events(tmp_path):
    wh = company()
    ev, rows = fired(wh, one_rule(tmp_path, "{kind: callback_missed}", type_="activity"))
    assert rows == {} and "call_events" in ev.skipped["r"] and "retain calls analyze" in ev.skipped["r"]


# -- lead_dropped ------------------------------------------------------------------------------------------------

def _lead_company():
    wh = company()
    put(wh, "leads", [
        {"lead_id": "L1", "created_at": ago(90), "source": "inbound", "status": "working", "company": "Acme",
         "owner_id": "r1"},  # pricing asked on one call 40 days ago, nothing since
        {"lead_id": "L2", "created_at": ago(90), "source": "inbound", "status": "working", "company": "Beta",
         "owner_id": "r1"},  # asked about pricing, then two e-mails: worked
        {"lead_id": "L3", "created_at": ago(90), "source": "inbound", "status": "dropped", "company": "Gamma",
         "owner_id": None},  # one call, no interest heard (the rep spoke of budget, not the customer)
        {"lead_id": "L4", "created_at": ago(90), "source": "inbound", "status": "working", "company": "Delta",
         "owner_id": "c2"},  # interest 5 days ago: too recent
        {"lead_id": "L5", "created_at": ago(90), "source": "inbound", "status": "converted", "company": "Eps",
         "owner_id": "r1", "converted_at": ago(30)},
        {"lead_id": "L6", "created_at": ago(90), "source": "inbound", "status": "dropped", "company": "Zeta",
         "owner_id": None},  # a callback asked; nobody owns the lead
    ])
    calls(wh, [{"conversation_id": f"q{i}", "started_at": ago(d), "lead_id": lead}
               for i, (lead, d) in enumerate([("L1", 40), ("L2", 40), ("L3", 40), ("L4", 5), ("L5", 40),
                                              ("L6", 20)])])
    put(wh, "activities", [
        {"activity_id": "e1", "lead_id": "L2", "occurred_at": ago(30), "activity_type": "email"},
        {"activity_id": "e2", "lead_id": "L2", "occurred_at": ago(20), "activity_type": "email"},
        {"activity_id": "e3", "lead_id": "L1", "occurred_at": ago(40), "activity_type": "call"},  # logs the call
    ])
    events(wh, [
        {"conversation_id": "q0", "event": "pricing_discussed", "occurred_at": ago(40)},
        {"conversation_id": "q0", "event": "budget", "occurred_at": ago(40)},
        {"conversation_id": "q1", "event": "pricing_discussed", "occurred_at": ago(40)},
        {"conversation_id": "q2", "event": "budget", "occurred_at": ago(40), "role": "rep"},
        {"conversation_id": "q3", "event": "pricing_discussed", "occurred_at": ago(5)},
        {"conversation_id": "q4", "event": "pricing_discussed", "occurred_at": ago(40)},
        {"conversation_id": "q5", "event": "callback_requested", "occurred_at": ago(20)},
    ])
    return wh


def test_lead_dropped_fires_on_interested_leads_touched_once_long_ago(tmp_path):
    wh = _lead_company()
    config = one_rule(tmp_path, "{kind: lead_dropped, days: 14, max_touches: 1}", type_="opportunity")
    _, rows = fired(wh, config)
    assert set(rows) == {"L1", "L6"}  # the CTA is on the lead: its id where an account id goes
    ev = json.loads(rows["L1"]["evidence"])
    # the call and the call activity that logged it are one touch
    assert (ev["touches"], ev["days_since_touch"], ev["interest_signals"], ev["company"]) == (1, 40, 2, "Acme")
    assert rows["L1"]["owner_id"] == "r1" and rows["L1"]["routed_by"] == "account_owner"
    assert rows["L1"]["detail"] == ("lead Acme showed interest on a call (2 buying signals) and was touched 1 "
                                    f"time(s), last on {DAY - dt.timedelta(days=40)} (40 days ago)")
    assert rows["L6"]["owner_id"] is None and rows["L6"]["routed_by"] == "round_robin"  # nobody owns it
    # three touches allowed: L2 (a call and two e-mails) too
    _, rows = fired(wh, one_rule(tmp_path, "{kind: lead_dropped, days: 14, max_touches: 3}", type_="opportunity"))
    assert set(rows) == {"L1", "L2", "L6"}


def test_lead_ctas_are_created_for_the_lead_owner_and_close_when_the_lead_is_touched(tmp_path, db):
    wh = _lead_company()
    config = one_rule(tmp_path, "{kind: lead_dropped, days: 14}", type_="opportunity")
    report = act(wh, db, DAY, config)
    assert report.total("created") == 2
    cta = db.query(Cta).filter(Cta.account_id == "L1").one()
    assert cta.owner_id == "r1" and cta.priority == "low"  # a lead has no value at stake: auto is low
    put(wh, "activities", [{"activity_id": "e9", "lead_id": "L1", "occurred_at": at(DAY + dt.timedelta(days=1)),
                            "activity_type": "call"}])
    report = act(wh, db, DAY + dt.timedelta(days=2), config)
    db.refresh(cta)
    assert cta.status == "auto_closed" and report.total("auto_closed") == 1


# -- deal_below_benchmark -----------------------------------------------------------------------------------------

def _deal_company(scores_day: dt.date = DAY):
    wh = company()
    put(wh, "opportunities", [
        {"opportunity_id": o, "created_at": ago(50), "opportunity_type": t, "stage": "proposal", "account_id": a,
         "owner_id": own, "amount": amount, **({"closed_at": ago(1), "is_won": False} if closed else {})}
        for o, t, a, own, amount, closed in [
            ("o1", "add_on", "a1", "r1", 20_000.0, False), ("o2", "add_on", "a1", "r1", 5_000.0, False),
            ("o3", "renewal", "a2", "c1", 50_000.0, False), ("o4", "new_business", "newco", "r1", 90_000.0, False),
            ("o5", "add_on", "a3", "r1", 8_000.0, True), ("o6", "new_business", None, "r1", 7_000.0, False)]])
    scores = pd.DataFrame({
        "opportunity_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "account_id": ["a1", "a1", "a2", "newco", "a3", None],
        "owner_id": ["r1", "r1", "c1", "r1", "r1", "r1"],
        "p_win": [0.20, 0.30, 0.55, 0.10, 0.05, 0.05],
        "stage_benchmark": [0.45, 0.45, 0.50, 0.45, 0.45, 0.45],
        "below_benchmark": [True, True, False, True, True, True],
        "reasons": ["no activity for 30 days", "stalled", "", "single-threaded", "", ""],
    })
    wh.store_result("opportunity_scores", scores, scores_day)
    return wh


def test_deal_below_benchmark_one_cta_per_account_to_the_deal_owner(tmp_path):
    wh = _deal_company()
    config = one_rule(tmp_path, "{kind: deal_below_benchmark, min_gap: 0.1}", type_="opportunity")
    _, rows = fired(wh, config)
    # a1: o1 (25 points below) and o2 (15 below) -> one CTA on o1; a2 above; o5 closed on the day before;
    # newco is no customer yet and still fires; o6 has no account
    assert set(rows) == {"a1", "newco"}
    ev = json.loads(rows["a1"]["evidence"])
    assert (ev["opportunity_id"], ev["p_win"], ev["stage_benchmark"], ev["deals_below"]) == ("o1", 0.2, 0.45, 2)
    assert rows["a1"]["owner_id"] == "r1" and rows["a1"]["value"] == pytest.approx(20_000)  # the deal's amount
    assert rows["a1"]["detail"] == ("deal o1: win probability 20% below its stage benchmark 45% (+1 more below); "
                                    "no activity for 30 days; deal amount 20,000")
    assert rows["newco"]["priority"] == "high"  # auto: 90,000 at stake
    _, rows = fired(wh, one_rule(tmp_path, "{kind: deal_below_benchmark, min_gap: 0.2}", type_="opportunity"))
    assert set(rows) == {"a1", "newco"} and json.loads(rows["a1"]["evidence"])["deals_below"] == 1


def test_deal_below_benchmark_needs_fresh_scores(tmp_path):
    wh = _deal_company(DAY - dt.timedelta(days=20))
    config = one_rule(tmp_path, "{kind: deal_below_benchmark, max_age_days: 14}", type_="opportunity")
    ev, rows = fired(wh, config)
    assert rows == {} and "no 'opportunity_scores' stored within 14 days" in ev.skipped["r"]
    ev, rows = fired(wh, one_rule(tmp_path, "{kind: deal_below_benchmark, max_age_days: 30}", type_="opportunity"))
    assert set(rows) == {"a1", "newco"} and ev.skipped == {}


def test_rules_of_every_subject_run_together(tmp_path):
    """Account rules and own-subject rules in one evaluation: one expression, each row with its owner."""
    wh = _deal_company()
    from tests.unit.action.act_company import health, rules_file

    from retain.action import load_rules

    health(wh, DAY, {"a1": (40, "red", "champion_left"), "newco": (10, "red", "champion_left")})
    config = load_rules(rules_file(tmp_path, """\
        - {name: critical, type: risk, reason: Critical, trigger: {kind: critical_factor}, owner: csm}
        - {name: deals, type: opportunity, reason: Deal low, trigger: {kind: deal_below_benchmark}}
        - {name: leads, type: opportunity, reason: Lead dropped, trigger: {kind: lead_dropped}}
        """))
    ev = evaluate(wh, DAY, config)
    got = {(r["rule"], r["account_id"], r["owner_id"]) for r in ev.fired.to_dict("records")}
    # newco is not in service: its critical factor does not fire, its deal does
    assert got == {("critical", "a1", "c1"), ("deals", "a1", "r1"), ("deals", "newco", "r1")}
    assert list(ev.skipped) == ["leads"]  # no call events stored
