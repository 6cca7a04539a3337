"""The CLI's side of the one clock (:mod:`retain.warehouse.clock`): choose the day, and say which and why."""

from __future__ import annotations

import datetime as dt

from retain.cli.common import console
from retain.warehouse import AsOfDay, Warehouse, as_of_day


def show_as_of(choice: AsOfDay) -> None:
    """One dim line: ``as of 2026-10-31 (latest data day: usage.usage_on)``."""
    console.print(f"[dim]{choice}[/dim]", highlight=False)


def chosen_day(wh: Warehouse, requested: str | dt.date | None) -> dt.date:
    """The day a command computes as of (``--as-of``, else the latest data day), printed with its reason."""
    choice = as_of_day(wh, requested)
    show_as_of(choice)
    return choice.day
