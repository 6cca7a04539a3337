"""``retain calls …``, ``retain leads recover`` and ``retain tags suggest``: conversation intelligence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import typer

from retain.cli.clock import chosen_day
from retain.cli.common import AsOfOption, OutOption, console, export, one_of, show_frame, warehouse, working
from retain.conversations.search import CALL_EVENTS
from retain.jobs.calls import CallsSection
from retain.warehouse.names import with_names

calls_app = typer.Typer(help="Sales calls: import transcripts, analyse, search.", no_args_is_help=True)
leads_app = typer.Typer(help="Leads: recover dropped or unworked leads worth another call.", no_args_is_help=True)
tags_app = typer.Typer(help="CRM tags: corrections and missing tags suggested by what calls say.",
                       no_args_is_help=True)
TrackersOption = typer.Option(None, "--trackers", help="Playbook YAML (trackers, compliance, SOP); default: shipped.")




def _event(value: str) -> str:
    return one_of(value, CALL_EVENTS)


def _check_time(value: str) -> str:
    """``--started-at`` checked when the command line is parsed."""
    try:
        pd.Timestamp(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a time; expected ISO 8601, e.g. 2026-03-04T15:00:00Z") from None
    return value


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")).to_pydatetime()


@calls_app.command("import")
def import_cmd(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Transcript files: .json (Retain), .vtt, .srt, .txt (Speaker: text)."),
    lead: str = typer.Option(None, "--lead", help="Lead the calls belong to."),
    opportunity: str = typer.Option(None, "--opportunity", help="Opportunity the calls belong to."),
    account: str = typer.Option(None, "--account", help="Account the calls belong to."),
    rep: str = typer.Option(None, "--rep", help="member_id of the rep on the calls."),
    started_at: str = typer.Option(None, "--started-at", parser=_check_time,
                                   help="Call start (ISO time) when the file has none."),
    call_type: str = typer.Option(None, "--call-type", help="cold_call, discovery, demo, negotiation..."),
    speaker_map: Path = typer.Option(None, "--speaker-map", help="YAML 'Name: rep|customer|other'."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Store text as is (PII redaction is on by default)."),
) -> None:
    """Import call transcripts (all files or none), map speakers to roles and redact PII."""
    from retain.conversations.importers import Link, import_transcripts

    link = Link(lead_id=lead, opportunity_id=opportunity, account_id=account, member_id=rep,
                started_at=_parse_time(started_at), call_type=call_type)
    wh = warehouse(ctx, create=True)  # importing calls, like `retain ingest`, may create the warehouse
    counts = import_transcripts(wh, paths, link, speaker_map_file=speaker_map, redact=not no_redact)
    console.print(f"imported {counts['conversations']:,} call(s), {counts['utterances']:,} utterance(s)"
                  + ("" if not no_redact else " [yellow](not redacted)[/yellow]"))


@calls_app.command("analyze")
def analyze_cmd(ctx: typer.Context, as_of: str = AsOfOption, trackers: Path = TrackersOption,
                out: Path = OutOption) -> None:
    """Analyse calls: metrics, trackers, events, compliance and SOP QA; stores call_metrics/tracker_hits/call_events."""
    from retain.conversations.analysis import analyze_warehouse
    from retain.conversations.tracker_spec import load_playbook

    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    with working(f"analysing calls as of {day}"):
        result = analyze_warehouse(wh, day, load_playbook(trackers))
    console.print(f"analysed {len(result.metrics):,} calls as of {day}: {len(result.hits):,} tracker hits, "
                  f"{len(result.events):,} events")
    qa = wh.execute(with_names(wh, result.qa_by_rep.drop(columns="name"), as_of=day))
    show_frame(qa, title="QA score per rep")
    export(result.metrics, out)


@calls_app.command("search")
def search_cmd(
    ctx: typer.Context,
    as_of: str = AsOfOption,
    event: list[str] = typer.Option([], "--event", parser=_event, metavar="EVENT",
                                    help=f"Event that must have happened (repeatable): {', '.join(CALL_EVENTS)}."),
    tracker: list[str] = typer.Option([], "--tracker", help="Tracker that must have a hit (repeatable)."),
    competitor: str = typer.Option(None, "--competitor", help="Competitor mentioned."),
    rep: str = typer.Option(None, "--rep", help="member_id of the rep."),
    call_type: str = typer.Option(None, "--call-type"),
    language: str = typer.Option(None, "--language"),
    min_talk_ratio: float = typer.Option(None, "--min-talk-ratio", help="Minimum rep share of talk time (0-1)."),
    max_talk_ratio: float = typer.Option(None, "--max-talk-ratio"),
    min_qa: float = typer.Option(None, "--min-qa"),
    max_qa: float = typer.Option(None, "--max-qa"),
    text: str = typer.Option(None, "--text", help="Words in a tracker hit or event quote."),
    out: Path = OutOption,
) -> None:
    """Find analysed calls by events, trackers and metrics (run `retain calls analyze` first)."""
    from retain.conversations.search import CallFilter, check_filter, search_calls

    wh = warehouse(ctx)
    f = CallFilter(events=tuple(event), trackers=tuple(tracker), competitor=competitor, member_id=rep,
                   call_type=call_type, language=language, min_talk_ratio=min_talk_ratio,
                   max_talk_ratio=max_talk_ratio, min_qa=min_qa, max_qa=max_qa, text=text)
    day = chosen_day(wh, as_of)
    check_filter(wh, day, f)
    frame = wh.execute(with_names(wh, search_calls(wh, day, f), as_of=day, columns=("member_id",),
                                  order_by="-started_at"))
    shown = frame[["conversation_id", "started_at", "member_id", "member_name", "call_type", "language",
                   "rep_talk_share", "qa_score"]]
    shown = shown.assign(started_at=pd.to_datetime(frame["started_at"]).dt.strftime("%Y-%m-%d %H:%M"))
    show_frame(shown, title=f"{len(frame):,} matching calls (all columns with --out)")
    export(frame, out)


@calls_app.command("outcomes")
def outcomes_cmd(ctx: typer.Context, as_of: str = AsOfOption, min_deals: int = typer.Option(30, "--min-deals"),
                 trackers: Path = TrackersOption, out: Path = OutOption) -> None:
    """Win rate by talk share, questions and tracker presence, with 95% Wilson intervals."""
    from retain.conversations.service import outcomes_report

    wh = warehouse(ctx)
    with working("relating call behaviour to deal outcomes"):
        table, findings = outcomes_report(wh, chosen_day(wh, as_of), trackers=trackers, min_deals=min_deals)
    show_frame(table, title="Behaviour vs outcome (too_small: fewer deals than --min-deals)", floatfmt="{:,.3f}")
    show_frame(findings, title="Findings you can trust (interval clear of the baseline)", floatfmt="{:,.3f}")
    export(table, out)


@calls_app.command("cadence")
def cadence_cmd(ctx: typer.Context, as_of: str = AsOfOption, out: Path = OutOption) -> None:
    """Touches before a lead was dropped, per rep, against the 'about five follow-ups' reference."""
    from retain.conversations.cadence import REFERENCE_TOUCHES, lead_cadence

    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    with working("counting touches per lead"):
        per_rep, hist = lead_cadence(wh, day)
    per_rep = wh.execute(with_names(wh, per_rep, as_of=day))
    show_frame(per_rep, title=f"Dropped leads: touches before dropping (reference: {REFERENCE_TOUCHES})")
    show_frame(hist, title="Touches of dropped leads")
    export(per_rep, out)


@leads_app.command("recover")
def recover_cmd(ctx: typer.Context, as_of: str = AsOfOption, top: int = typer.Option(20, "--top"),
                trackers: Path = TrackersOption, out: Path = OutOption) -> None:
    """Rank dropped or unworked leads worth another call, each with its reason (stores lead_recovery)."""
    from retain.conversations.service import recover

    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    with working(f"ranking leads to recover as of {day}"):
        ranked = recover(wh, day, trackers=trackers)
    shown = with_names(wh, ranked.head(top)[["rank", "lead_id", "company", "owner_id", "score", "reasons"]],
                       as_of=day, columns=("owner_id",))
    show_frame(wh.execute(shown), title="Leads to recover", floatfmt="{:,.3f}")
    export(ranked, out)


@tags_app.command("suggest")
def suggest_cmd(ctx: typer.Context, as_of: str = AsOfOption,
                accept: list[str] = typer.Option([], "--accept", help="Suggestion id to accept (repeatable)."),
                member: str = typer.Option(None, "--member", help="member_id accepting the suggestion."),
                trackers: Path = TrackersOption, out: Path = OutOption) -> None:
    """Suggest CRM-tag corrections and missing tags from calls; --accept ID writes the tag (source inferred)."""
    from retain.conversations.service import suggest
    from retain.conversations.tags import accept_suggestion

    wh = warehouse(ctx)
    if accept:
        for sid in accept:
            row = accept_suggestion(wh, sid, member_id=member)
            console.print(f"[green]tagged[/green] {row.at[0, 'entity_type']} {row.at[0, 'entity_id']}: "
                          f"{row.at[0, 'tag']} = {row.at[0, 'value']} (inferred)")
        return
    day = chosen_day(wh, as_of)
    with working(f"reading calls for tag suggestions as of {day}"):
        frame = suggest(wh, day, trackers=trackers)
    columns = ["suggestion_id", "kind", "entity_type", "entity_id", "tag", "current_value", "suggested_value",
               "evidence"]
    shown = with_names(wh, frame[columns], as_of=day)
    show_frame(wh.execute(shown), title=f"{len(frame):,} tag suggestions")
    export(frame, out)


def register(app: typer.Typer) -> None:
    app.add_typer(calls_app, name="calls")
    app.add_typer(leads_app, name="leads")
    app.add_typer(tags_app, name="tags")


def render_section(section: CallsSection) -> None:
    """Calls section of the main job (:mod:`retain.jobs.calls`): calls analysed, QA per rep, behaviour findings,
    leads to recover."""
    if section.empty:
        console.print("[dim]no recorded calls as of this date[/dim]")
        return
    console.print(f"calls analysed: {section.calls:,} ({section.hits:,} tracker hits, "
                  f"{section.callbacks:,} callback requests, {section.missed_callbacks:,} never called back)")
    show_frame(section.qa, title="QA score per rep", max_rows=10, floatfmt="{:,.1f}")
    show_frame(section.findings, title="Behaviour vs outcome: findings you can trust", max_rows=5,
               floatfmt="{:,.3f}")
    show_frame(section.leads, title="Top 5 leads to recover", max_rows=5, floatfmt="{:,.3f}")
    if section.callbacks_missed is not None and len(section.callbacks_missed):
        show_frame(section.callbacks_missed, title="Asked for a callback that never came", max_rows=3,
                   floatfmt="{:,.3f}")
