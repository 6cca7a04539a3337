import datetime as dt

import numpy as np
import pandas as pd
import pytest

from retain.conversations.analysis import analyze
from retain.conversations.compliance import compliance
from retain.conversations.metrics import call_metrics, utterance_features
from retain.conversations.sop import sop_flow
from retain.conversations.tracker_spec import SopSpec, load_playbook

U = pd.DataFrame([
    ("c1", 0, "Ann", "rep", 0, 10, "Hi, this is Ann, this call is recorded. How are you doing today?"),
    ("c1", 1, "Bob", "customer", 11, 20, "Good thanks. Um what are your prices? We use Salesforce."),
    ("c1", 2, "Ann", "rep", 19, 30, "What challenges do you have? Our platform costs 20 dollars per seat."),
    ("c1", 3, "Bob", "customer", 40, 60, "Too expensive for now. Call me back next Monday morning."),
    ("c2", 0, "王", "rep", 0, 5, "您好，请问您是负责人吗？"),
    ("c2", 1, "李", "customer", 6, 20, "是的，价格是多少？我们在用销售易。下周一上午再打给我吧。"),
    ("c2", 2, "王", "rep", 21, 25, "好的，我们保证收益。"),
], columns=["conversation_id", "seq", "speaker", "role", "start_seconds", "end_seconds", "text"])
C = pd.DataFrame({
    "conversation_id": ["c1", "c2"], "started_at": pd.to_datetime(["2026-03-04 15:00", "2026-03-04 10:00"], utc=True),
    "duration_seconds": [60.0, 25.0], "language": ["en", "zh"], "call_type": ["cold_call", "discovery"],
    "member_id": ["m1", "m2"], "account_id": [None, None], "lead_id": ["l1", "l2"], "opportunity_id": [None, None],
    "title": ["a", "b"],
})


def test_call_metrics_by_hand():
    pb = load_playbook()
    m = call_metrics(U, C, fillers=pb.fillers, benchmarks=pb.benchmarks).set_index("conversation_id")
    c1 = m.loc["c1"]
    assert c1["rep_talk_seconds"] == 21 and c1["customer_talk_seconds"] == 29
    assert c1["rep_talk_share"] == pytest.approx(21 / 50)
    assert c1["benchmark_rep_share"] == 0.55 and c1["talk_share_gap"] == pytest.approx(21 / 50 - 0.55)
    assert c1["longest_customer_story_seconds"] == 20 and c1["longest_monologue_seconds"] == 11
    assert c1["switches_per_minute"] == pytest.approx(3.0)
    assert c1["patience_seconds"] == pytest.approx(0.0)  # Ann cut in at 19 s (Bob ended at 20)
    assert c1["interruptions_by_rep"] == 1 and c1["interruptions_by_customer"] == 0
    assert c1["silences"] == 1 and c1["longest_silence_seconds"] == 10
    assert c1["rep_questions"] == 2 and c1["customer_questions"] == 1
    assert c1["filler_count"] == 0  # 'um' was said by the customer
    assert m.loc["c2", "pace_unit"] == "chars" and m.loc["c1", "pace_unit"] == "words"
    assert m.loc["c2", "benchmark_rep_share"] == 0.43


def test_sentiment_per_language():
    f = utterance_features(pd.DataFrame({
        "conversation_id": "x", "seq": [0, 1, 2, 3], "speaker": "s", "role": "customer", "start_seconds": 0.0,
        "end_seconds": 1.0,
        "text": ["This is great, I love it", "This is terrible", "非常好，很满意", "太差了，很失望"]}))
    s = f["sentiment"].to_numpy()
    assert s[0] > 0.5 and s[1] < -0.3 and s[2] > 0.3 and s[3] < -0.3


def test_analyze_end_to_end_events_callbacks_compliance_and_sop():
    r = analyze(C, U)
    ev = r.events.set_index(["conversation_id", "event"])
    assert ev.loc[("c1", "competitor_mentioned"), "detail"] == "salesforce"
    assert ev.loc[("c2", "competitor_mentioned"), "detail"] == "销售易"
    assert ev.loc[("c1", "callback_requested"), "due_at"] == pd.Timestamp("2026-03-09 09:00", tz="UTC")
    assert ev.loc[("c2", "callback_requested"), "due_at"] == pd.Timestamp("2026-03-09 09:00", tz="UTC")
    assert ev.loc[("c2", "callback_requested"), "due_expression"] == "下周一上午"
    m = r.metrics.set_index("conversation_id")
    assert bool(m.loc["c1", "compliant"]) and not bool(m.loc["c2", "compliant"])
    assert m.loc["c2", "forbidden_quotes"] == "保证收益"
    assert m.loc["c2", "missing_disclosures"] == "recording_disclosure"
    assert m.loc["c1", "stages_missing"] == "next_steps"
    assert m.loc["c1", "stages_out_of_order"] == "pricing"  # prices came up before discovery
    assert m.loc["c2", "qa_score"] == pytest.approx(max(m.loc["c2", "sop_score"] - 20 - 10, 0))
    assert set(r.qa_by_rep["member_id"]) == {"m1", "m2"}


def test_sop_order_and_score():
    hits = pd.DataFrame({"conversation_id": "c", "seq": [0, 1, 2], "tracker": ["a", "c", "b"]})
    spec = SopSpec(stages=[{"name": "A", "trackers": ["a"]}, {"name": "B", "trackers": ["b"]},
                           {"name": "C", "trackers": ["c"]}, {"name": "D", "trackers": ["d"]}], order_weight=0.2)
    flow = sop_flow(hits, pd.DataFrame({"conversation_id": ["c", "empty"]}), spec).set_index("conversation_id")
    assert flow.loc["c", "stages_done"] == "A > C > B"
    assert flow.loc["c", "stages_out_of_order"] == "C"
    assert flow.loc["c", "stages_missing"] == "D"
    assert flow.loc["c", "sop_score"] == pytest.approx(100 * (0.8 * 3 / 4 + 0.2 * 2 / 3), abs=0.05)
    assert flow.loc["empty", "sop_score"] == 0


def test_compliance_counts_rep_side_only():
    hits = pd.DataFrame({"conversation_id": ["c", "c"], "tracker": ["bad", "bad"], "role": ["rep", "customer"],
                         "matched": ["we guarantee", "we guarantee"]})
    from retain.conversations.tracker_spec import ComplianceSpec

    out = compliance(hits, pd.DataFrame({"conversation_id": ["c"], "call_type": ["demo"]}),
                     ComplianceSpec(forbidden=("bad",), required=("disc",), required_call_types=("cold_call",)))
    assert out.at[0, "forbidden_hits"] == 1 and out.at[0, "missing_disclosures"] == ""


def test_timeexpr_edge_cases():
    from retain.conversations.timeexpr import resolve, zh_number

    assert [zh_number(x) for x in ("三", "十", "十一", "二十", "两", "12")] == [3, 10, 11, 20, 2, 12]
    sunday = dt.datetime(2026, 3, 8, 9, 0, tzinfo=dt.UTC)
    assert resolve("call me monday", sunday).due_at.date() == dt.date(2026, 3, 9)
    assert resolve("call me next monday", sunday).due_at.date() == dt.date(2026, 3, 9)  # next week's Monday
    assert resolve("call me at 8am", sunday).due_at == dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)  # 8am passed
    assert resolve("no time here", sunday) is None
    assert np.isfinite(1)
