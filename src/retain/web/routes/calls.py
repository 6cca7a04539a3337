"""Calls: per-rep call metrics and the lead recovery list, when the conversations domain published them."""

from __future__ import annotations

import math

import pandas as pd
from fastapi import APIRouter, Request

from retain.server.deps import DB
from retain.state import published, queries
from retain.web.deps import CurrentViewer
from retain.web.render import page

router = APIRouter()
REP_COLUMNS = {"rep_talk_share": "mean", "customer_sentiment": "mean", "rep_questions": "mean",
               "longest_monologue_seconds": "mean", "duration_seconds": "sum"}


def rep_summary(records: list[dict], names: dict[str, str]) -> list[dict]:
    """Calls, talk share, questions and sentiment per rep (the columns present)."""
    if not records:
        return []
    frame = pd.DataFrame.from_records(records)
    if "member_id" not in frame:
        return []
    aggs = {c: f for c, f in REP_COLUMNS.items() if c in frame}
    out = frame.groupby("member_id").agg(calls=("member_id", "size"), **{c: (c, f) for c, f in aggs.items()})
    out = out.reset_index().sort_values("calls", ascending=False)
    out["rep"] = out["member_id"].map(names).fillna(out["member_id"])
    return out.to_dict("records")


def _when(value) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM``; blank when missing (None, NaN, or pandas' "NaT"/"NaN" text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip()
    if text.lower() in ("", "nat", "nan", "none", "null"):
        return ""
    return text[:16].replace("T", " ")


def lead_rows(leads: list[dict]) -> list[dict]:
    """The viewer's leads numbered 1..n in published (company rank) order, with callback dates blank when missing.

    Published ranks are company-wide; a CSM sees only their rows, so the page numbers them within those rows.
    """
    ordered = sorted(leads, key=lambda r: (r.get("rank") is None, r.get("rank") or 0))
    return [r | {"rank": i, "company_rank": r.get("rank"), "callback_due": _when(r.get("callback_due_at"))}
            for i, r in enumerate(ordered, start=1)]


@router.get("/calls", name="calls")
def calls(request: Request, db: DB, viewer: CurrentViewer):
    metrics = published.records(db, viewer.scope, "call_metrics")
    leads = published.records(db, viewer.scope, "lead_recovery", limit=50)
    names = queries.member_names(db)
    return page(request, "calls.html", db=db, viewer=viewer, nav="calls", reps=rep_summary(metrics, names),
                leads=lead_rows(leads), names=names, has_calls=published.is_published(db, "call_metrics"))
