"""Per-call behaviour metrics from the utterances of each call.

Talk ratio by role (against a benchmark per call type), longest monologue, longest customer story, interactivity
(speaker switches per minute), patience (pause before the rep answers a customer), questions by side, speaking pace
(words/min; Chinese characters/min), filler words, silences over N seconds, interruptions (a turn starting before
the other side finished) and sentiment (VADER for English, SnowNLP for Chinese) per utterance and per call.

Everything is grouped pandas on the utterance table; the per-utterance text features (questions, sentiment,
words) are the only Python loops, once per *distinct* text: calls repeat short turns ("Yes.", "Okay, thanks.")
so often that the distinct texts are a fraction of the utterances (about 1 in 20 on the demo), and a text's
features depend on its words alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from retain.conversations.questions import question_counts
from retain.conversations.sentiment import sentiment_scores
from retain.conversations.text import word_count

CALL_METRIC_COLUMNS = [
    "conversation_id", "duration_seconds", "rep_talk_seconds", "customer_talk_seconds", "rep_talk_share",
    "benchmark_rep_share", "talk_share_gap", "longest_monologue_seconds", "longest_customer_story_seconds",
    "switches_per_minute", "patience_seconds", "rep_questions", "customer_questions", "rep_pace_per_minute",
    "customer_pace_per_minute", "pace_unit", "filler_count", "fillers_per_minute", "silences",
    "longest_silence_seconds",
    "interruptions_by_rep", "interruptions_by_customer", "sentiment", "customer_sentiment", "customer_sentiment_end",
]


def utterance_features(utterances: pd.DataFrame, fillers: Sequence[str] = (), *,
                       sentiment: bool = True) -> pd.DataFrame:
    """Per-utterance features: duration, words, questions, fillers, sentiment, language."""
    u = utterances.sort_values(["conversation_id", "seq"], ignore_index=True).copy()
    codes, distinct = pd.factorize(u["text"].fillna("").astype(str), sort=False)
    texts = [str(t) for t in distinct]
    u["duration"] = (u["end_seconds"] - u["start_seconds"]).clip(lower=0)
    u["words"] = np.fromiter((word_count(t) for t in texts), dtype=np.int64, count=len(texts))[codes]
    u["questions"] = np.asarray(question_counts(texts), dtype=np.int64).reshape(-1)[codes]
    u["fillers"] = _filler_counts(u, fillers)
    u["sentiment"] = sentiment_scores(texts)[codes] if sentiment else 0.0
    return u


def _filler_counts(u: pd.DataFrame, fillers: Sequence[str]) -> np.ndarray:
    if not fillers or u.empty:
        return np.zeros(len(u), dtype=np.int64)
    from retain.conversations.tracker_spec import TrackerSpec
    from retain.conversations.trackers import TrackerMatcher

    spec = TrackerSpec(name="fillers", keywords=tuple(fillers), word_forms=False)
    hits = TrackerMatcher([spec]).hits(u.assign(role=u["role"]))
    counts = hits.groupby(["conversation_id", "seq"]).size()
    index = pd.MultiIndex.from_frame(u[["conversation_id", "seq"]])
    return counts.reindex(index, fill_value=0).to_numpy(dtype=np.int64)


def call_metrics(
    utterances: pd.DataFrame,
    conversations: pd.DataFrame,
    *,
    fillers: Sequence[str] = (),
    benchmarks: Mapping[str, float] | None = None,
    silence_seconds: float = 5.0,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per conversation with :data:`CALL_METRIC_COLUMNS`."""
    u = features if features is not None else utterance_features(utterances, fillers)
    conv = conversations.set_index("conversation_id")
    g = u.groupby("conversation_id", sort=True)
    calls = pd.Index(sorted(set(u["conversation_id"])), name="conversation_id")
    out = pd.DataFrame(index=calls)
    span = g["end_seconds"].max() - g["start_seconds"].min()
    duration = conv["duration_seconds"].reindex(calls).fillna(span) if "duration_seconds" in conv else span
    out["duration_seconds"] = duration.where(duration > 0, span).astype(float)
    minutes = (out["duration_seconds"] / 60).where(lambda m: m > 0)

    talk = u.pivot_table(index="conversation_id", columns="role", values="duration", aggfunc="sum", fill_value=0.0)
    talk = talk.reindex(index=calls, columns=["rep", "customer"], fill_value=0.0)
    out["rep_talk_seconds"], out["customer_talk_seconds"] = talk["rep"], talk["customer"]
    both = talk["rep"] + talk["customer"]
    out["rep_talk_share"] = (talk["rep"] / both).where(both > 0)
    call_type = conv["call_type"].reindex(calls) if "call_type" in conv else pd.Series(None, index=calls)
    bench = pd.Series(dict(benchmarks or {}), dtype=float)
    out["benchmark_rep_share"] = call_type.map(bench).astype(float)
    out["talk_share_gap"] = out["rep_talk_share"] - out["benchmark_rep_share"]

    # runs of the same speaker: monologues and customer stories
    new_run = (u["speaker"] != u.groupby("conversation_id")["speaker"].shift()).astype(int)
    u = u.assign(run=new_run.groupby(u["conversation_id"]).cumsum())
    runs = u.groupby(["conversation_id", "run"]).agg(role=("role", "first"), start=("start_seconds", "min"),
                                                    end=("end_seconds", "max"))
    runs["length"] = runs["end"] - runs["start"]
    by_role = runs.reset_index().pivot_table(index="conversation_id", columns="role", values="length", aggfunc="max")
    by_role = by_role.reindex(index=calls, columns=["rep", "customer"])
    out["longest_monologue_seconds"] = by_role["rep"].fillna(0.0)
    out["longest_customer_story_seconds"] = by_role["customer"].fillna(0.0)
    switches = runs.groupby(level=0).size().reindex(calls, fill_value=1) - 1
    out["switches_per_minute"] = switches / minutes

    prev_role = u.groupby("conversation_id")["role"].shift()
    prev_end = u.groupby("conversation_id")["end_seconds"].cummax().groupby(u["conversation_id"]).shift()
    gap = u["start_seconds"] - prev_end
    answers = (u["role"] == "rep") & (prev_role == "customer")
    out["patience_seconds"] = gap.clip(lower=0)[answers].groupby(u["conversation_id"][answers]).mean().reindex(calls)

    q = u.pivot_table(index="conversation_id", columns="role", values="questions", aggfunc="sum", fill_value=0)
    q = q.reindex(index=calls, columns=["rep", "customer"], fill_value=0)
    out["rep_questions"], out["customer_questions"] = q["rep"].astype(int), q["customer"].astype(int)

    words = u.pivot_table(index="conversation_id", columns="role", values="words", aggfunc="sum", fill_value=0)
    words = words.reindex(index=calls, columns=["rep", "customer"], fill_value=0)
    out["rep_pace_per_minute"] = (words["rep"] / (talk["rep"] / 60)).where(talk["rep"] > 0)
    out["customer_pace_per_minute"] = (words["customer"] / (talk["customer"] / 60)).where(talk["customer"] > 0)
    language = conv["language"].reindex(calls) if "language" in conv else pd.Series("en", index=calls)
    out["pace_unit"] = np.where(language.fillna("en").str.startswith("zh"), "chars", "words")

    rep_fill = u["fillers"].where(u["role"] == "rep", 0)
    out["filler_count"] = rep_fill.groupby(u["conversation_id"]).sum().reindex(calls, fill_value=0).astype(int)
    out["fillers_per_minute"] = out["filler_count"] / (talk["rep"] / 60).where(talk["rep"] > 0)

    silent = gap > silence_seconds
    out["silences"] = silent.groupby(u["conversation_id"]).sum().reindex(calls, fill_value=0).astype(int)
    out["longest_silence_seconds"] = gap.clip(lower=0).groupby(u["conversation_id"]).max().reindex(calls).fillna(0.0)
    overlap = (gap < 0) & (u["speaker"] != u.groupby("conversation_id")["speaker"].shift())
    for role in ("rep", "customer"):
        sel = overlap & (u["role"] == role)
        by_call = sel.groupby(u["conversation_id"]).sum()
        out[f"interruptions_by_{role}"] = by_call.reindex(calls, fill_value=0).astype(int)

    out["sentiment"] = g["sentiment"].mean()
    cust = u[u["role"] == "customer"]
    out["customer_sentiment"] = cust.groupby("conversation_id")["sentiment"].mean().reindex(calls)
    out["customer_sentiment_end"] = cust.groupby("conversation_id")["sentiment"].last().reindex(calls)
    return out.reset_index()[CALL_METRIC_COLUMNS]
