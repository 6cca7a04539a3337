"""``retain surveys plan | send | report | opt-out``: the survey programmes from the command line.

Thin face: deciding, sending and analysing are :mod:`retain.surveys` through :mod:`retain.jobs.surveys` (which
opens the application database); this module resolves the options and prints.
"""

from __future__ import annotations

from pathlib import Path

import typer

from retain.cli.clock import chosen_day
from retain.cli.common import AsOfOption, OutOption, console, export, one_of, show_frame, state, working

ProgrammesOption = typer.Option(None, "--programmes", help="Survey programmes YAML (default: "
                                "$RETAIN_SURVEY_PROGRAMMES, else the shipped ones); see docs/surveys.md.")
RATE_DIMENSIONS = ("programme", "touchpoint", "segment")


def _database_url(ctx: typer.Context) -> str:
    from retain.cli.act_cmds import _database_url as url

    return url(ctx)


def _plan(ctx: typer.Context, as_of: str | None, programmes: Path | None, show_all: bool, out: Path | None) -> None:
    from retain.jobs.surveys import plan_day
    from retain.surveys.plan import held_counts

    wh = state(ctx).warehouse()
    day = chosen_day(wh, as_of)
    with working("deciding today's invitations"):
        frame = plan_day(wh, _database_url(ctx), day, programmes)
    invite = frame[frame["decision"] == "invite"]
    console.print(f"dry run as of {day}: {len(invite):,} contact(s) would be surveyed, "
                  f"{len(frame) - len(invite):,} held back (nothing was sent)", highlight=False)
    if not invite.empty:
        show_frame(invite.groupby("programme").size().rename("invitations").reset_index(),
                   title="Would be surveyed today")
    held = held_counts(frame)
    if not held.empty:
        show_frame(held, title="Held back, and why")
    if show_all:
        show_frame(frame[["programme", "account_id", "contact_id", "touchpoint_ref", "decision", "reason"]],
                   title="Every candidate", max_rows=500)
    export(frame, out)


def _send(ctx: typer.Context, as_of: str | None, programmes: Path | None) -> None:
    from retain.jobs.surveys import programmes as load
    from retain.jobs.surveys import surveys_section

    wh = state(ctx).warehouse()
    day = chosen_day(wh, as_of)
    with working("sending today's survey invitations"):
        result = surveys_section(wh, _database_url(ctx), day, spec=load(programmes))
    render_section(result)


def render_section(result) -> None:
    """The surveys section of ``retain run`` (and ``retain surveys send``): what went to the outbox, what was held."""
    console.print(f"as of {result.as_of}: {result.total_invited:,} invitation(s) in the outbox, {result.reminders:,} "
                  f"reminder(s), {result.answers_loaded:,} answer(s) copied to the warehouse, "
                  f"{result.referral_ctas:,} referral CTA(s)", highlight=False)
    if result.invited:
        console.print("invited: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result.invited.items())),
                      highlight=False)
    if result.held:
        console.print("held back: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result.held.items())),
                      highlight=False)


def _report(ctx: typer.Context, as_of: str | None, by: str, out: Path | None) -> None:
    from retain.jobs.surveys import response_rates
    from retain.surveys.analytics import trends

    wh = state(ctx).warehouse()
    day = chosen_day(wh, as_of)
    rates = response_rates(_database_url(ctx), one_of(by, RATE_DIMENSIONS))
    if rates.empty:
        console.print("no invitations yet: run `retain surveys send`")
    else:
        show_frame(rates, title=f"Response rate by {by} (95% interval)", floatfmt="{:,.3f}")
    frame = trends(wh, day)
    if frame.empty:
        console.print("no survey answers in the warehouse yet")
    else:
        show_frame(frame[["survey_type", "period", "responses", "score", "score_lo", "score_hi"]],
                   title="Scores per month (NPS in points; CSAT and CES: % satisfied), 95% interval",
                   floatfmt="{:,.1f}")
    export(rates, out)


def register(app: typer.Typer) -> None:
    surveys_app = typer.Typer(help="Survey programmes: who is asked today, sending, response rates and trends.",
                              no_args_is_help=True)
    app.add_typer(surveys_app, name="surveys")

    @surveys_app.command("plan")
    def plan(
        ctx: typer.Context,
        as_of: str = AsOfOption,
        programmes: Path = ProgrammesOption,
        show_all: bool = typer.Option(False, "--all", help="List every candidate with its decision and reason."),
        out: Path = OutOption,
    ) -> None:
        """Dry run: who would be surveyed today and why the others are held back (nothing is sent)."""
        _plan(ctx, as_of, programmes, show_all, out)

    @surveys_app.command("send")
    def send(ctx: typer.Context, as_of: str = AsOfOption, programmes: Path = ProgrammesOption) -> None:
        """Put today's invitations and due reminders in the outbox (`retain deliver` sends them); idempotent."""
        _send(ctx, as_of, programmes)

    @surveys_app.command("report")
    def report(
        ctx: typer.Context,
        as_of: str = AsOfOption,
        by: str = typer.Option("programme", "--by", help="Response rate by programme, touchpoint or segment."),
        out: Path = OutOption,
    ) -> None:
        """Response rates (with intervals) and score trends per month."""
        _report(ctx, as_of, by, out)

    @surveys_app.command("opt-out")
    def opt_out(ctx: typer.Context, contact_id: str = typer.Argument(..., help="The contact's id.")) -> None:
        """Stop surveying a contact (every programme honours it)."""
        from retain.jobs.surveys import opt_out as record

        done = record(_database_url(ctx), contact_id)
        console.print(f"{contact_id} {'opted out' if done else 'was already opted out'} of surveys", highlight=False)
