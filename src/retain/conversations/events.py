"""Key events per call from tracker hits: pricing, competitors (which), objections, budget, decision maker,
next steps, and callback requests with the asked-for time resolved into a follow-up due datetime."""

from __future__ import annotations

import pandas as pd

from retain.conversations.timeexpr import resolve

# tracker category -> event name
EVENT_OF_CATEGORY = {
    "pricing": "pricing_discussed",
    "competitor": "competitor_mentioned",
    "objection": "objection",
    "budget": "budget",
    "decision_maker": "decision_maker",
    "next_steps": "next_steps_agreed",
    "callback": "callback_requested",
}
EVENT_COLUMNS = [
    "conversation_id", "event", "detail", "seq", "role", "hit_seconds", "quote", "occurred_at", "due_at",
    "due_expression",
]


def call_events(hits: pd.DataFrame, utterances: pd.DataFrame, conversations: pd.DataFrame) -> pd.DataFrame:
    """One row per event per call (the first hit of each event and detail), callbacks with ``due_at``."""
    if hits.empty:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    ev = hits[hits["category"].isin(EVENT_OF_CATEGORY)].copy()
    ev["event"] = ev["category"].map(EVENT_OF_CATEGORY)
    ev["detail"] = ev["keyword"].where(ev["event"] == "competitor_mentioned", "").str.casefold()
    ev = ev.sort_values(["conversation_id", "seq", "start_char"])
    ev = ev.drop_duplicates(["conversation_id", "event", "detail"])
    text = utterances.set_index(["conversation_id", "seq"])["text"]
    keys = pd.MultiIndex.from_frame(ev[["conversation_id", "seq"]])
    ev["quote"] = text.reindex(keys).to_numpy()
    started = pd.to_datetime(conversations.set_index("conversation_id")["started_at"], utc=True)
    ev["occurred_at"] = ev["conversation_id"].map(started) + pd.to_timedelta(ev["hit_seconds"], unit="s")
    due = pd.Series(pd.NaT, index=ev.index, dtype="datetime64[us, UTC]")
    ev["due_expression"] = None
    cb = ev.index[ev["event"] == "callback_requested"]
    if len(cb):
        prev = text.reindex(pd.MultiIndex.from_arrays([ev.loc[cb, "conversation_id"], ev.loc[cb, "seq"] - 1]))
        dues, exprs = [], []
        rows = zip(ev.loc[cb, "quote"], prev.to_numpy(), ev.loc[cb, "conversation_id"], strict=True)
        for quote, before, cid in rows:  # callbacks only: a few per hundred calls
            start = started[cid].to_pydatetime()
            found = resolve(str(quote), start) or (resolve(str(before), start) if isinstance(before, str) else None)
            dues.append(pd.Timestamp(found.due_at) if found else pd.NaT)
            exprs.append(found.expression if found else None)
        due.loc[cb] = pd.to_datetime(pd.Series(dues, index=cb), utc=True).astype(due.dtype)
        ev.loc[cb, "due_expression"] = exprs
    ev["due_at"] = due
    return ev[EVENT_COLUMNS].reset_index(drop=True)
