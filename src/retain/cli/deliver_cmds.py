"""``retain deliver`` (the outbox worker, dead letters, re-send) and ``retain caps report`` (past cap breaches).

Thin face: sending, claiming and counting are :mod:`retain.delivery` (through :mod:`retain.delivery.service`,
which opens the application database); this module resolves the options and prints.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import typer

from retain.cli.common import OutOption, console, day_option, export, show_frame, state, working
from retain.errors import ArgumentError, WarehouseError


def _database_url(ctx: typer.Context) -> str:
    from retain.cli.act_cmds import _database_url as url

    return url(ctx)


def _optional_warehouse(ctx: typer.Context):
    """The warehouse when there is one (caps then count its activities too), else None."""
    try:
        return state(ctx).warehouse()
    except WarehouseError:
        return None


def _deliver(ctx: typer.Context, once: bool, batch: int) -> None:
    from retain.delivery.service import counts_at, deliver_at

    url = _database_url(ctx)
    wh = _optional_warehouse(ctx)
    if wh is None:
        console.print("[dim]no warehouse: contact caps count Retain's own messages only[/dim]")
    with working("delivering" if once else "delivering until interrupted"):
        report = deliver_at(url, once=once, batch=batch, wh=wh)
    counts = counts_at(url)
    console.print(f"sent {report.sent:,}, retry later {report.retried:,}, dead {report.dead:,}, released from caps "
                  f"{report.released:,}, still held {report.held:,}; outbox now: "
                  + ", ".join(f"{k} {v:,}" for k, v in counts.items()), highlight=False)


def _dead(ctx: typer.Context, out: Path | None) -> None:
    from retain.delivery.outbox import MessageStatus
    from retain.delivery.service import message_frame

    frame = message_frame(_database_url(ctx), (MessageStatus.DEAD,))
    if frame.empty:
        console.print("no dead letters")
        return
    show_frame(frame.drop(columns=["held_reason"]), title="Dead letters (re-send with `retain deliver --resend ID`)")
    export(frame, out)


def register(app: typer.Typer) -> None:
    caps_app = typer.Typer(help="Contact caps across teams: past breaches.", no_args_is_help=True)
    app.add_typer(caps_app, name="caps")

    @app.command()
    def deliver(
        ctx: typer.Context,
        once: bool = typer.Option(False, "--once", help="Send what is due now, then exit."),
        batch: int = typer.Option(100, "--batch", min=1, max=10_000, help="Messages claimed at a time."),
        dead: bool = typer.Option(False, "--dead", help="List dead letters instead of sending."),
        resend: int = typer.Option(None, "--resend", metavar="ID", help="Put dead (or held) message ID back in "
                                                                          "the queue."),
        by: str = typer.Option(os.environ.get("USER", "cli"), "--by", help="Who re-sends (for the audit log)."),
        out: Path = OutOption,
    ) -> None:
        """Send the outbox: e-mail over SMTP and webhooks, with retries, backoff and dead letters.

        Runs until interrupted (Ctrl-C, SIGTERM) unless --once. SMTP and webhooks are set with RETAIN_SMTP_HOST,
        RETAIN_SMTP_PORT, RETAIN_SMTP_STARTTLS, RETAIN_SMTP_USERNAME, RETAIN_SMTP_PASSWORD, RETAIN_SMTP_FROM,
        RETAIN_WEBHOOK_URL, RETAIN_WEBHOOK_URLS, RETAIN_WEBHOOK_SECRET and RETAIN_WEBHOOK_SLACK (docs/delivery.md).
        """
        if dead and resend is not None:
            raise ArgumentError("--dead and --resend are two different things", hint="give one of them")
        if dead:
            _dead(ctx, out)
        elif resend is not None:
            from retain.delivery.service import resend_at

            key = resend_at(_database_url(ctx), resend, by)
            console.print(f"message {resend} ({key}) is queued again", highlight=False)
        else:
            _deliver(ctx, once, batch)

    @caps_app.command("report")
    def caps_report(
        ctx: typer.Context,
        start: str = day_option("--start", "First day of the report (YYYY-MM-DD)."),
        end: str = day_option("--end", "Last day of the report (default: today)."),
        caps: Path = typer.Option(None, "--caps", help="Caps YAML (default: $RETAIN_CAPS, else the shipped one)."),
        out: Path = OutOption,
    ) -> None:
        """Past breaches of the contact caps, from the warehouse's activities: who was touched too often, when,
        and by which teams."""
        from retain.delivery.service import breach_frame

        if start is None:
            raise ArgumentError("--start is required", hint="e.g. --start 2025-01-01 --end 2025-03-31")
        first = dt.date.fromisoformat(start)
        last = dt.date.fromisoformat(end) if end else dt.date.today()
        if last < first:
            raise ArgumentError(f"--end {last} is before --start {first}", hint="swap them")
        caps = caps or (Path(os.environ["RETAIN_CAPS"]) if os.environ.get("RETAIN_CAPS") else None)
        with working("counting touches"):
            frame = breach_frame(state(ctx).warehouse(), first, last, caps)
        if frame.empty:
            console.print(f"no cap was breached from {first} to {last}", highlight=False)
        else:
            console.print(f"{len(frame):,} breach(es) from {first} to {last} "
                          f"({frame['key_id'].nunique():,} contacts or accounts)", highlight=False)
            show_frame(frame, title="Cap breaches (most touches first)")
        export(frame, out)
