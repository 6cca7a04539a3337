"""The pipeline: read the calls known at ``as_of``, run trackers, metrics, events and QA, store the results.

Stored results (``wh.store_result(name, df, as_of)``; declared in :mod:`retain.results`, see docs/results.md):
``call_metrics`` (one row per call: metrics, compliance, SOP and QA), ``tracker_hits`` (one row per hit),
``call_events``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from retain.conversations.compliance import compliance
from retain.conversations.events import EVENT_OF_CATEGORY, call_events
from retain.conversations.metrics import call_metrics, utterance_features
from retain.conversations.sop import qa_by_rep, qa_scores, sop_flow
from retain.conversations.tracker_spec import PlaybookSpec, TrackerKind, load_playbook
from retain.conversations.trackers import TrackerMatcher, semantic_encoder
from retain.warehouse import Warehouse

CONVERSATION_COLUMNS = ["conversation_id", "started_at", "duration_seconds", "language", "call_type", "member_id",
                        "account_id", "lead_id", "opportunity_id", "title"]


@dataclass
class CallAnalysis:
    conversations: pd.DataFrame
    utterances: pd.DataFrame
    metrics: pd.DataFrame  # one row per call (metrics + compliance + SOP/QA)
    hits: pd.DataFrame
    events: pd.DataFrame
    qa_by_rep: pd.DataFrame


def load_calls(wh: Warehouse, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Conversations and their utterances as known at the end of ``as_of``."""
    conv = wh.execute(wh.as_of("conversations", as_of).select(*CONVERSATION_COLUMNS))
    utt = wh.execute(wh.as_of("utterances", as_of).select(
        "conversation_id", "seq", "speaker", "role", "start_seconds", "end_seconds", "text"))
    return conv, utt.sort_values(["conversation_id", "seq"], ignore_index=True)


def analyze(conversations: pd.DataFrame, utterances: pd.DataFrame, playbook: PlaybookSpec | None = None,
            *, team_members: pd.DataFrame | None = None, sentiment: bool = True,
            semantic: bool = True) -> CallAnalysis:
    """Everything per call from in-memory frames (the warehouse-free core, used by tests and the CLI)."""
    pb = playbook or load_playbook()
    encoder = semantic_encoder() if semantic and any(t.kind is TrackerKind.SEMANTIC for t in pb.trackers) else None
    hits = TrackerMatcher(pb.trackers, encoder=encoder).hits(utterances)
    feats = utterance_features(utterances, pb.fillers, sentiment=sentiment)
    metrics = call_metrics(utterances, conversations, benchmarks=pb.benchmarks, silence_seconds=pb.silence_seconds,
                           features=feats)
    comp = compliance(hits, conversations, pb.compliance)
    flow = sop_flow(hits, conversations, pb.sop)
    qa = qa_scores(flow, comp, conversations)
    events = call_events(hits, utterances, conversations)
    ev_flags = (events.assign(flag=1).pivot_table(index="conversation_id", columns="event", values="flag",
                                                   aggfunc="max", fill_value=0)
                if len(events) else pd.DataFrame(index=pd.Index([], name="conversation_id")))
    ev_flags = ev_flags.reindex(columns=sorted(set(EVENT_OF_CATEGORY.values())), fill_value=0)  # stable columns
    per_call = (
        conversations[CONVERSATION_COLUMNS].merge(metrics, on="conversation_id", how="inner", suffixes=("_raw", ""))
        .merge(comp, on="conversation_id", how="left")
        .merge(qa.drop(columns=["member_id"]), on="conversation_id", how="left")
        .merge(ev_flags.add_prefix("event_").reset_index(), on="conversation_id", how="left")
    )
    per_call = per_call.drop(columns=[c for c in per_call if c.endswith("_raw")])
    for col in [c for c in per_call if c.startswith("event_")]:
        per_call[col] = per_call[col].fillna(0).astype(int)
    tracker_counts = hits.groupby("conversation_id").size() if len(hits) else pd.Series(dtype=int)
    per_call["tracker_hits"] = per_call["conversation_id"].map(tracker_counts).fillna(0).astype(int)
    return CallAnalysis(conversations, utterances, per_call, hits, events, qa_by_rep(qa, team_members))


def analyze_warehouse(wh: Warehouse, as_of: dt.date, playbook: PlaybookSpec | None = None, *,
                      store: bool = True, sentiment: bool = True) -> CallAnalysis:
    conv, utt = load_calls(wh, as_of)
    team = wh.execute(wh.as_of("team_members", as_of).select("member_id", "name"))
    result = analyze(conv, utt, playbook, team_members=team, sentiment=sentiment)
    if store:
        store_analysis(wh, result, as_of)
    return result


def store_analysis(wh: Warehouse, result: CallAnalysis, as_of: dt.date) -> None:
    store(wh, "call_metrics", result.metrics, as_of)
    store(wh, "tracker_hits", result.hits, as_of)
    store(wh, "call_events", result.events, as_of)


def store(wh: Warehouse, name: str, frame: pd.DataFrame, as_of: dt.date) -> None:
    """``wh.store_result`` of ``frame`` with its text columns as strings (the warehouse checks it against its spec
    and rebuilds a table stored with an older layout)."""
    wh.store_result(name, _storable(frame), as_of)


def _storable(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns with values as strings (nulls kept), so mixed values store on every backend; a column with
    no value at all (an empty frame) is left untyped and gets its declared type from the result's spec."""
    out = df.copy()
    for col in out.columns:
        if (out[col].dtype == object or str(out[col].dtype) == "str") and out[col].notna().any():
            out[col] = out[col].astype("string")
    return out
