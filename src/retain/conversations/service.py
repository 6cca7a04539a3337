"""What the faces call: one function per command that needs several steps (analyse, then recover/suggest...)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from retain.conversations.analysis import analyze_warehouse, store
from retain.conversations.outcomes import behaviour_outcomes, deal_outcomes, top_findings
from retain.conversations.tracker_spec import load_playbook
from retain.warehouse import Warehouse


def outcomes_report(wh: Warehouse, as_of: dt.date, *, trackers: Path | None = None, min_deals: int = 30,
                    analysis=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = analysis or analyze_warehouse(wh, as_of, load_playbook(trackers))
    opps = wh.execute(wh.as_of("opportunities", as_of).select("opportunity_id", "lead_id", "closed_at", "is_won"))
    leads = wh.execute(wh.as_of("leads", as_of).select("lead_id", "status", "converted_at"))
    outcomes = deal_outcomes(result.conversations, opps, leads)
    table = behaviour_outcomes(result.metrics, result.hits, outcomes, min_deals=min_deals)
    store(wh, "call_outcomes", table, as_of)
    return table, top_findings(table)


def recover(wh: Warehouse, as_of: dt.date, *, trackers: Path | None = None, analysis=None) -> pd.DataFrame:
    from retain.conversations.leads import recover_leads

    result = analysis or analyze_warehouse(wh, as_of, load_playbook(trackers))
    ranked = recover_leads(wh, as_of, result.events, result.metrics)
    store(wh, "lead_recovery", ranked, as_of)
    return ranked


def suggest(wh: Warehouse, as_of: dt.date, *, trackers: Path | None = None, analysis=None) -> pd.DataFrame:
    from retain.conversations.tags import tag_suggestions

    result = analysis or analyze_warehouse(wh, as_of, load_playbook(trackers))
    frame = tag_suggestions(wh, as_of, result.utterances, result.conversations, result.events)
    store(wh, "tag_suggestions", frame, as_of)
    return frame


def main_summary(wh: Warehouse, as_of: dt.date) -> dict | None:
    """Analyse, store every result, and return the short summary the main job prints."""
    result = analyze_warehouse(wh, as_of)
    if result.metrics.empty:
        return None
    _, findings = outcomes_report(wh, as_of, analysis=result)
    ranked = recover(wh, as_of, analysis=result)
    suggest(wh, as_of, analysis=result)
    cb = result.events[result.events["event"] == "callback_requested"]
    missed = int(ranked["reasons"].str.contains("never called back").sum()) if len(ranked) else 0
    return {
        "calls": len(result.metrics), "hits": len(result.hits), "callbacks": len(cb), "missed_callbacks": missed,
        "qa": result.qa_by_rep[["name", "calls", "qa_score", "most_missed_stage"]],
        "findings": findings[["scope", "factor", "bucket", "deals", "win_rate", "ci_low", "ci_high", "baseline"]],
        "leads": ranked.head(5)[["lead_id", "company", "score", "reasons"]],
        "callbacks_missed": ranked[ranked["reasons"].str.contains("never called back")].head(3)[
            ["lead_id", "company", "score", "reasons"]],
    }
