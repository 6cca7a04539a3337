"""Outcomes, cadence, lead recovery and tag suggestions on a tiny hand-made warehouse."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from retain.conversations.analysis import analyze_warehouse
from retain.conversations.cadence import REFERENCE_TOUCHES, lead_cadence, lead_touches
from retain.conversations.leads import recover_leads
from retain.conversations.outcomes import behaviour_outcomes, deal_outcomes, top_findings, wilson_interval
from retain.conversations.search import CallFilter, search_calls
from retain.conversations.tags import accept_suggestion, suggest_tags, tag_suggestions
from retain.ingest import ingest_frames

AS_OF = dt.date(2026, 3, 31)
T = pd.Timestamp("2026-03-02 10:00", tz="UTC")


def _calls(n_leads: int = 12):
    """Leads L0..L11: even ones converted; L1 dropped after one call asking for a callback; others lost."""
    leads, convs, utts, acts = [], [], [], []
    for i in range(n_leads):
        lid = f"L{i}"
        converted = i % 2 == 0
        status = "converted" if converted else ("dropped" if i in (1, 3) else "disqualified")
        leads.append({"lead_id": lid, "created_at": T - pd.Timedelta(days=5), "source": "outbound", "status": status,
                      "company": f"Co{i}", "owner_id": "m1" if i < 6 else "m2", "industry": "saas",
                      "employees": 50 + i, "converted_at": T + pd.Timedelta(days=10) if converted else None})
        cid = f"c{i}"
        start = T + pd.Timedelta(hours=i)
        convs.append({"conversation_id": cid, "started_at": start, "duration_seconds": 60.0, "language": "en",
                      "call_type": "cold_call", "member_id": "m1" if i < 6 else "m2", "lead_id": lid})
        lines = [("rep", "Hello, this call is recorded. What challenges do you have with your process?")]
        if converted:
            lines += [("customer", "We have budget approved. What is the price per seat? And the pricing for add-ons?"),
                      ("rep", "Let's schedule a demo as a next step.")]
        elif i == 1:
            lines += [("customer", "What does it cost? Too expensive maybe. Call me back on 5 March in the evening.")]
        else:
            lines += [("customer", "We have no budget and we use Salesforce. Not interested.")]
        for seq, (role, text) in enumerate(lines):
            utts.append({"conversation_id": cid, "seq": seq, "speaker": role.title(), "role": role,
                         "start_seconds": seq * 20.0, "end_seconds": seq * 20.0 + 15.0, "text": text})
        touches = 1 if i == 1 else (6 if converted else 3)
        for k in range(touches):
            acts.append({"activity_id": f"a{i}_{k}", "occurred_at": start + pd.Timedelta(hours=k * 20 - 1),
                         "activity_type": "call" if k == 0 else "email", "lead_id": lid, "member_id": "m1"})
    return {
        "team_members": pd.DataFrame({"member_id": ["m1", "m2"], "name": ["Ann Rep", "Wang Rep"], "role": "rep"}),
        "products": pd.DataFrame({"product_id": ["p1"], "name": ["Retain Pro"]}),
        "leads": pd.DataFrame(leads), "conversations": pd.DataFrame(convs), "utterances": pd.DataFrame(utts),
        "activities": pd.DataFrame(acts),
        "tags": pd.DataFrame({"entity_type": "lead", "entity_id": ["L0", "L2"], "tag": "budget",
                              "tagged_at": T - pd.Timedelta(days=1), "value": ["none", "yes"], "source": "manual"}),
    }


@pytest.fixture
def loaded(wh):
    report = ingest_frames(wh, _calls(), source="test", strict=True)
    assert report.committed
    return wh


def test_wilson_interval_matches_known_values():
    low, high = wilson_interval(np.array([8]), np.array([10]))
    assert low[0] == pytest.approx(0.4902, abs=1e-3) and high[0] == pytest.approx(0.9433, abs=1e-3)
    low, high = wilson_interval(np.array([0]), np.array([5]))
    assert low[0] == 0 and high[0] == pytest.approx(0.4345, abs=1e-3)


def test_behaviour_outcomes_buckets_with_intervals_and_small_flags():
    metrics = pd.DataFrame({"conversation_id": [f"c{i}" for i in range(80)],
                            "rep_talk_share": np.r_[np.full(40, 0.45), np.full(40, 0.75)],
                            "rep_questions": np.r_[np.full(40, 6), np.full(40, 1)]})
    outcomes = pd.DataFrame({"conversation_id": metrics["conversation_id"], "deal_id": metrics["conversation_id"],
                             "won": np.r_[np.ones(30), np.zeros(10), np.ones(5), np.zeros(35)]})
    hits = pd.DataFrame({"conversation_id": ["c0", "c1", "c50"], "tracker": "how_are_you_opener"})
    table = behaviour_outcomes(metrics, hits, outcomes, min_deals=30)
    talk = table[table["factor"] == "rep talk share"].set_index("bucket")
    assert talk.loc["40-50%", "win_rate"] == 0.75 and talk.loc[">=70%", "deals"] == 40
    opener = table[table["factor"] == "tracker: how_are_you_opener"].set_index("bucket")
    assert opener.loc["present", "deals"] == 3 and bool(opener.loc["present", "too_small"])
    findings = top_findings(table)
    assert len(findings) and not findings["too_small"].any()
    assert set(findings["bucket"]) >= {"40-50%", ">=70%"}


def test_deal_outcomes_from_leads(loaded):
    conv = loaded.execute(loaded.raw("conversations"))
    leads = loaded.execute(loaded.raw("leads"))
    opps = pd.DataFrame(columns=["opportunity_id", "lead_id", "closed_at", "is_won"])
    out = deal_outcomes(conv, opps, leads).set_index("conversation_id")
    assert out.loc["c0", "won"] == 1 and out.loc["c1", "won"] == 0 and out.loc["c0", "deal_id"] == "lead:L0"


def test_cadence_counts_touches_before_dropping(loaded):
    t = lead_touches(loaded, AS_OF).set_index("lead_id")
    assert t.loc["L1", "touches"] == 1 and t.loc["L0", "touches"] == 6
    per_rep, hist = lead_cadence(loaded, AS_OF)
    total = per_rep.set_index("member_id").loc["(all)"]
    assert total["dropped"] == 6 and total["dropped_after_one"] == 1
    assert hist.loc[hist["reference"] != "", "touches"].item() == str(REFERENCE_TOUCHES)


def test_analysis_search_recovery_and_tags(loaded):
    result = analyze_warehouse(loaded, AS_OF)
    assert len(result.metrics) == 12
    assert loaded.execute(loaded.result("call_metrics", AS_OF)).shape[0] == 12
    found = loaded.execute(search_calls(loaded, AS_OF, CallFilter(events=("callback_requested",))))
    assert list(found["conversation_id"]) == ["c1"]
    found = loaded.execute(search_calls(loaded, AS_OF, CallFilter(competitor="Salesforce", member_id="m2")))
    assert set(found["conversation_id"]) == {"c7", "c9", "c11"}

    ranked = recover_leads(loaded, AS_OF, result.events, result.metrics)
    assert set(ranked["lead_id"]) == {"L1", "L3"}  # the dropped ones
    l1 = ranked.set_index("lead_id").loc["L1"]
    assert "asked to be called back on 5 March in the evening; never called back" in l1["reasons"]
    assert "asked about pricing once" in l1["reasons"]

    sugg = tag_suggestions(loaded, AS_OF, result.utterances, result.conversations, result.events)
    by = sugg.set_index(["entity_id", "tag"])
    assert by.loc[("L0", "budget"), "kind"] == "correction" and by.loc[("L0", "budget"), "suggested_value"] == "yes"
    assert ("L2", "budget") not in by.index  # manual tag agrees with the call
    assert by.loc[("L5", "budget"), "kind"] == "missing" and by.loc[("L5", "budget"), "suggested_value"] == "none"
    assert by.loc[("L5", "competitor"), "suggested_value"] == "salesforce"
    assert "We have budget approved" in by.loc[("L0", "budget"), "evidence"]

    loaded.store_result("tag_suggestions", sugg, AS_OF)
    sid = by.loc[("L0", "budget"), "suggestion_id"]
    accept_suggestion(loaded, sid, member_id="m1")
    tags = loaded.execute(loaded.raw("tags")).set_index(["entity_id", "tag"])
    assert tags.loc[("L0", "budget"), "value"] == "yes" and tags.loc[("L0", "budget"), "source"] == "inferred"
    assert "budget approved" in tags.loc[("L0", "budget"), "evidence"]
    again = suggest_tags(sugg[["entity_type", "entity_id", "tag"]].assign(
        value=sugg["suggested_value"], evidence="", conversation_id="", said_at=T).iloc[:0],
        loaded.execute(loaded.raw("tags")))
    assert again.empty
