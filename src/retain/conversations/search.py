"""Search and filter analysed calls by events, trackers and metrics: Ibis expressions over stored results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from difflib import get_close_matches

import ibis
import ibis.expr.types as ir

from retain.conversations.events import EVENT_OF_CATEGORY
from retain.conversations.tracker_spec import load_playbook
from retain.errors import ArgumentError
from retain.warehouse import Warehouse

SEARCH_COLUMNS = ["conversation_id", "started_at", "member_id", "call_type", "language", "lead_id", "account_id",
                  "rep_talk_share", "rep_questions", "customer_questions", "qa_score", "tracker_hits"]


@dataclass(frozen=True)
class CallFilter:
    events: tuple[str, ...] = ()  # every one must have happened (e.g. callback_requested)
    trackers: tuple[str, ...] = ()  # every one must have a hit
    competitor: str | None = None
    member_id: str | None = None
    call_type: str | None = None
    language: str | None = None
    min_talk_ratio: float | None = None
    max_talk_ratio: float | None = None
    min_qa: float | None = None
    max_qa: float | None = None
    text: str | None = None  # words in any tracker hit or event quote


CALL_EVENTS: tuple[str, ...] = tuple(dict.fromkeys(EVENT_OF_CATEGORY.values()))  # what ``events`` may name
SHOWN_CHOICES = 30


def check_filter(wh: Warehouse, as_of: dt.date, f: CallFilter) -> None:
    """Refuse a filter value no call could match (an :class:`ArgumentError` listing the valid values), so a typo
    is not read as "no such calls". Events are a closed list; trackers are the shipped playbook's plus those with
    hits; call types and languages those of the analysed calls; reps the team's member ids."""
    _check("event", f.events, lambda: CALL_EVENTS)
    if f.trackers:
        hits = wh.result("tracker_hits", as_of)
        _check("tracker", f.trackers, lambda: sorted({t.name for t in load_playbook(None).trackers}
                                                      | set(_distinct(wh, hits, "tracker"))))
    calls = wh.result("call_metrics", as_of)
    _check("call type", (f.call_type,) if f.call_type else (), lambda: _distinct(wh, calls, "call_type"))
    _check("language", (f.language,) if f.language else (), lambda: _distinct(wh, calls, "language"))
    _check("rep (member_id)", (f.member_id,) if f.member_id else (),
           lambda: _distinct(wh, wh.raw("team_members"), "member_id"))


def _distinct(wh: Warehouse, table: ir.Table, column: str) -> list[str]:
    values = wh.execute(table.select(column).filter(table[column].notnull()).distinct().order_by(column))
    return [str(v) for v in values[column]]


def _check(what: str, given: tuple[str, ...], choices: Callable[[], Iterable[str]]) -> None:
    if not given:
        return
    allowed = list(choices())
    unknown = [value for value in given if value not in allowed]
    if unknown:
        shown = ", ".join(allowed[:SHOWN_CHOICES]) + (f" ... ({len(allowed)} in all)" if len(allowed) > SHOWN_CHOICES
                                                      else "")
        close = get_close_matches(unknown[0], allowed, n=1)
        raise ArgumentError(f"unknown {what} '{unknown[0]}'; valid: {shown or 'none (analyse calls first)'}",
                            hint=f"did you mean '{close[0]}'?" if close else None)


def search_calls(wh: Warehouse, as_of: dt.date, f: CallFilter) -> ir.Table:
    """Calls analysed as of ``as_of`` matching every condition of ``f``, newest first (unexecuted)."""
    calls = wh.result("call_metrics", as_of)
    cond = []
    for column, value in (("member_id", f.member_id), ("call_type", f.call_type), ("language", f.language)):
        if value is not None:
            cond.append(calls[column] == value)
    if f.min_talk_ratio is not None:
        cond.append(calls.rep_talk_share >= f.min_talk_ratio)
    if f.max_talk_ratio is not None:
        cond.append(calls.rep_talk_share <= f.max_talk_ratio)
    if f.min_qa is not None:
        cond.append(calls.qa_score >= f.min_qa)
    if f.max_qa is not None:
        cond.append(calls.qa_score <= f.max_qa)
    if cond:
        calls = calls.filter(*cond)
    if f.events or f.competitor or f.text:
        ev = wh.result("call_events", as_of)
        for event in f.events:
            calls = calls.semi_join(ev.filter(ev.event == event), "conversation_id")
        if f.competitor:
            calls = calls.semi_join(
                ev.filter((ev.event == "competitor_mentioned") & (ev.detail.lower() == f.competitor.lower())),
                "conversation_id")
    if f.trackers or f.text:
        hits = wh.result("tracker_hits", as_of)
        for tracker in f.trackers:
            calls = calls.semi_join(hits.filter(hits.tracker == tracker), "conversation_id")
        if f.text:
            ev = wh.result("call_events", as_of)
            needle = f.text.lower()
            quoted = ev.filter(ev.quote.lower().contains(needle)).select("conversation_id").union(
                hits.filter(hits.matched.lower().contains(needle)).select("conversation_id"))
            calls = calls.semi_join(quoted, "conversation_id")
    return calls.select(*SEARCH_COLUMNS).order_by(ibis.desc("started_at"))
