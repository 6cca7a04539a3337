"""Calls: per-rep call metrics over every call the viewer may see, and the lead recovery list, paginated.

The per-rep figures are aggregated in SQL over the published ``call_metrics`` rows in the viewer's scope
(:func:`retain.state.published.aggregate`), so the page covers every call however many there are; the leads are
read one page at a time.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query, Request

from retain.server.deps import DB, runtime
from retain.state import published, queries
from retain.state.published import Agg
from retain.state.queries import Scope
from retain.web.deps import CurrentViewer
from retain.web.render import page

router = APIRouter()
CALLS, LEADS = "call_metrics", "lead_recovery"
REP_MEASURES = {"calls": (Agg.COUNT, None), "rep_talk_share": (Agg.AVG, "rep_talk_share"),
                "customer_sentiment": (Agg.AVG, "customer_sentiment"), "rep_questions": (Agg.AVG, "rep_questions"),
                "longest_monologue_seconds": (Agg.AVG, "longest_monologue_seconds"),
                "duration_seconds": (Agg.SUM, "duration_seconds")}
LEADS_PER_PAGE = 50


def rep_summary(db, scope: Scope, names: dict[str, str]) -> list[dict]:
    """Calls, mean talk share, questions, monologue and sentiment per rep over every call ``scope`` may see,
    most calls first."""
    rows = published.aggregate(db, scope, CALLS, ("member_id",), REP_MEASURES)
    rows.sort(key=lambda r: (-r["calls"], str(r["member_id"])))
    return [r | {"rep": names.get(r["member_id"], r["member_id"] or "(no rep)")} for r in rows]


def _when(value) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM``; blank when missing (None, NaN, or pandas' "NaT"/"NaN" text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip()
    if text.lower() in ("", "nat", "nan", "none", "null"):
        return ""
    return text[:16].replace("T", " ")


def lead_rows(leads: list[dict], first: int = 1) -> list[dict]:
    """The viewer's leads numbered from ``first`` in published (company rank) order, with callback dates blank
    when missing.

    Published ranks are company-wide; a CSM sees only their rows, so the page numbers them within those rows.
    """
    ordered = sorted(leads, key=lambda r: (r.get("rank") is None, r.get("rank") or 0))
    return [r | {"rank": i, "company_rank": r.get("rank"), "callback_due": _when(r.get("callback_due_at"))}
            for i, r in enumerate(ordered, start=first)]


@router.get("/calls", name="calls")
def calls(request: Request, db: DB, viewer: CurrentViewer,
          page_no: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1):
    scope = viewer.scope
    memo = runtime(request).memo
    names = memo(db, "member_names", lambda: queries.member_names(db))
    reps = memo(db, ("rep_summary", scope), lambda: rep_summary(db, scope, names))
    total_leads = memo(db, ("lead_count", scope), lambda: published.count(db, scope, LEADS))
    pages = max(1, -(-total_leads // LEADS_PER_PAGE))
    first = (min(page_no, pages) - 1) * LEADS_PER_PAGE
    leads = published.records(db, scope, LEADS, limit=LEADS_PER_PAGE, offset=first)
    return page(request, "calls.html", db=db, viewer=viewer, nav="calls", reps=reps,
                total_calls=sum(r["calls"] for r in reps), leads=lead_rows(leads, first + 1), names=names,
                lead_page=first // LEADS_PER_PAGE + 1, lead_pages=pages, total_leads=total_leads,
                calls_as_of=published.as_of(db, CALLS), leads_as_of=published.as_of(db, LEADS),
                has_calls=published.is_published(db, CALLS))
