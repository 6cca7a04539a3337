"""SOP flow QA: ordered stages defined by trackers (greeting → discovery → solution → pricing → next steps).

Per call: which stages happened (first hit), which are missing, which came out of order (a stage first seen
before a stage that should precede it). The QA score (0–100) is ``100 × ((1 − w) × weighted share of stages that
happened + w × share of happened stages in order)`` minus 20 per forbidden phrase and 10 per missing disclosure,
floored at 0 (``w`` is ``sop.order_weight``). Per rep: mean score over their calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from retain.conversations.tracker_spec import SopSpec

QA_COLUMNS = [
    "conversation_id", "member_id", "stages_done", "stages_missing", "stages_out_of_order", "sop_score", "qa_score",
]


def sop_flow(hits: pd.DataFrame, conversations: pd.DataFrame, spec: SopSpec) -> pd.DataFrame:
    """Per call: the stages done (in the order they happened), missing and out of order, and ``sop_score``."""
    calls = conversations.drop_duplicates("conversation_id").set_index("conversation_id")
    if spec.call_types and "call_type" in calls:
        calls = calls[calls["call_type"].isin(spec.call_types)]
    stages = [s.name for s in spec.stages]
    if not stages:
        return pd.DataFrame({"conversation_id": calls.index, "stages_done": "", "stages_missing": "",
                             "stages_out_of_order": "", "sop_score": np.nan})
    stage_of = pd.DataFrame([(t, s.name) for s in spec.stages for t in s.trackers], columns=["tracker", "stage"])
    h = hits[hits["conversation_id"].isin(calls.index)].merge(stage_of, on="tracker")
    first = h.groupby(["conversation_id", "stage"])["seq"].min().unstack().reindex(index=calls.index, columns=stages)
    arr = first.to_numpy(dtype=float)
    done = ~np.isnan(arr)
    # a stage is out of order when an earlier-listed stage was first seen after it
    earlier_max = np.fmax.accumulate(np.where(done, arr, -np.inf), axis=1)
    earlier_max = np.concatenate([np.full((len(arr), 1), -np.inf), earlier_max[:, :-1]], axis=1)
    out_of_order = done & (arr < earlier_max)
    weights = np.array([s.weight for s in spec.stages], dtype=float)
    coverage = (done * weights).sum(axis=1) / max(weights.sum(), 1e-9)
    n_done = done.sum(axis=1)
    in_order = np.where(n_done > 0, (done & ~out_of_order).sum(axis=1) / np.maximum(n_done, 1), 0.0)
    w = spec.order_weight
    names = np.array(stages, dtype=object)

    def join(mask_row, order=None) -> str:
        picked = names[mask_row]
        if order is not None:
            picked = picked[np.argsort(order[mask_row], kind="stable")]
        return " > ".join(picked) if order is not None else ", ".join(picked)

    return pd.DataFrame({
        "conversation_id": calls.index,
        "stages_done": [join(done[i], arr[i]) for i in range(len(arr))],
        "stages_missing": [join(~done[i]) for i in range(len(arr))],
        "stages_out_of_order": [join(out_of_order[i]) for i in range(len(arr))],
        "sop_score": np.round(100 * ((1 - w) * coverage + w * in_order), 1),
    })


def qa_scores(flow: pd.DataFrame, compliance: pd.DataFrame, conversations: pd.DataFrame) -> pd.DataFrame:
    """Per call QA: SOP score less compliance penalties (columns :data:`QA_COLUMNS`)."""
    qa = flow.merge(compliance, on="conversation_id", how="left").merge(
        conversations[["conversation_id", "member_id"]].drop_duplicates("conversation_id"), on="conversation_id",
        how="left")
    listed = qa["missing_disclosures"].astype("string").fillna("").str.strip()  # all-null when no call matched
    missing = (listed.str.count(",") + 1).where(listed != "", 0)
    penalty = 20 * qa["forbidden_hits"].fillna(0) + 10 * missing
    qa["qa_score"] = (qa["sop_score"] - penalty).clip(lower=0)
    return qa[QA_COLUMNS]


def qa_by_rep(qa: pd.DataFrame, team_members: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per rep: calls, mean QA and SOP score, and the stage they miss most often."""
    if qa.empty:
        return pd.DataFrame(columns=["member_id", "name", "calls", "qa_score", "sop_score", "most_missed_stage"])
    missed = qa.assign(stage=qa["stages_missing"].str.split(", ")).explode("stage")
    missed = missed[missed["stage"].fillna("") != ""]
    counts = missed.groupby(["member_id", "stage"]).size().reset_index(name="n")
    top = counts.sort_values(["member_id", "n", "stage"], ascending=[True, False, True]).drop_duplicates("member_id")
    top_missed = top.set_index("member_id")["stage"]
    out = qa.groupby("member_id").agg(calls=("conversation_id", "size"), qa_score=("qa_score", "mean"),
                                      sop_score=("sop_score", "mean"))
    out["most_missed_stage"] = top_missed.reindex(out.index).fillna("")
    out = out.reset_index()
    names = (team_members.set_index("member_id")["name"] if team_members is not None and len(team_members)
             else pd.Series(dtype=str))
    out.insert(1, "name", out["member_id"].map(names))
    return out.sort_values("qa_score", ascending=False, ignore_index=True)
