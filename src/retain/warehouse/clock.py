"""One clock: the day a run is *as of*, decided in one place for every command, page and API route.

Rules:

- A requested day (``--as-of``) wins, as given.
- Otherwise the latest data day: the latest day on which any of :data:`CLOCK_COLUMNS` has a row. Those are the
  columns that record something that *happened* (a start, an end, a payment, a use, a ticket, a call), in every
  canonical table that has one; an end recorded after the last start (churn) therefore moves the day too.
- Dates that are plans or scheduled, not observations (contract ends, due dates, expected closes, goal periods),
  and dates Retain writes itself "now" (accepted tags) are excluded, each with its reason in
  :data:`NOT_CLOCK_COLUMNS`; a test keeps the two lists covering every date column of the schema.
- Never after today (UTC): a data day in the future (a scheduled end exported as ended) is capped at today.
- An empty warehouse is as of today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from retain.warehouse.point_in_time import AsOf, as_of_date
from retain.warehouse.store import Warehouse

CLOCK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("accounts", "created_at"),
    ("contacts", "created_at"),
    ("contacts", "left_at"),
    ("subscriptions", "started_on"),
    ("subscriptions", "ended_on"),  # churn and downgrades: often the latest thing a data set records
    ("transactions", "occurred_at"),
    ("invoices", "issued_on"),
    ("invoices", "paid_on"),
    ("usage", "usage_on"),
    ("support_tickets", "opened_at"),
    ("support_tickets", "first_response_at"),
    ("support_tickets", "resolved_at"),
    ("survey_responses", "responded_at"),
    ("leads", "created_at"),
    ("leads", "converted_at"),
    ("leads", "last_touched_at"),
    ("opportunities", "created_at"),
    ("opportunities", "closed_at"),
    ("opportunity_stages", "entered_at"),
    ("activities", "occurred_at"),
    ("conversations", "started_at"),
    ("accounts", "churned_at"),
    ("churn_events", "occurred_on"),
    ("outcome_labels", "observed_on"),  # a snapshot export's date: the day its label columns describe
)
NOT_CLOCK_COLUMNS: dict[tuple[str, str], str] = {
    ("subscriptions", "term_end_on"): "a contract's planned end, usually in the future",
    ("invoices", "due_on"): "a due date, usually in the future",
    ("opportunities", "close_on"): "an expected close date",
    ("opportunity_stages", "close_on"): "the expected close date as it stood at that stage",
    ("goals", "period_start_on"): "a plan's period",
    ("goals", "period_end_on"): "a plan's period",
    ("team_members", "hired_on"): "the team, not customer data",
    ("team_members", "left_on"): "the team, not customer data",
    ("products", "launched_on"): "the catalogue, not customer data",
    ("tags", "tagged_at"): "written 'now' by Retain itself when a suggested tag is accepted",
    ("product_events", "occurred_at"): "not stored: rolled up into usage on load",
}


@dataclass(frozen=True)
class AsOfDay:
    """The day a run is as of, and why (printed beside every result)."""

    day: dt.date
    reason: str
    sources: tuple[str, ...] = ()  # the ``table.column`` holding the latest data day, when data chose it

    def __str__(self) -> str:
        return f"as of {self.day.isoformat()} ({self.reason})"


def as_of_day(wh: Warehouse, requested: AsOf | None = None, *, today: dt.date | None = None) -> AsOfDay:
    """The day to compute as of: ``requested`` if given, else the latest data day (see the module's rules)."""
    if requested is not None and requested != "":
        return AsOfDay(as_of_date(requested), "requested")
    today = today or dt.datetime.now(dt.UTC).date()
    latest = latest_data_days(wh)
    if not latest:
        return AsOfDay(today, "today: the warehouse holds no dated rows")
    last = max(latest.values())
    sources = tuple(name for name, day in latest.items() if day == last)
    if last > today:
        return AsOfDay(today, f"today: the data runs to {last.isoformat()} ({_names(sources)}), a future date",
                       sources)
    return AsOfDay(last, f"latest data day: {_names(sources)}", sources)


def _names(sources: tuple[str, ...], shown: int = 2) -> str:
    more = f" and {len(sources) - shown} more" if len(sources) > shown else ""
    return ", ".join(sources[:shown]) + more


def latest_data_days(wh: Warehouse) -> dict[str, dt.date]:
    """The latest day of each of :data:`CLOCK_COLUMNS` that has rows, as ``{"table.column": day}``, in one query
    (one single-row aggregate per table, cross-joined)."""
    by_table: dict[str, list[str]] = {}
    for table, column in CLOCK_COLUMNS:
        by_table.setdefault(table, []).append(column)
    parts = []
    for table, columns in by_table.items():
        raw = wh.raw(table)
        parts.append(raw.aggregate(**{f"{table}__{column}": raw[column].max() for column in columns}))
    row = parts[0]
    for part in parts[1:]:
        row = row.cross_join(part)
    values = wh.execute(row)
    if values.empty:
        return {}
    first = values.iloc[0]
    return {name.replace("__", "."): as_of_date(_utc(first[name])) for name in values.columns
            if not pd.isna(first[name])}


def _utc(value):
    """A timestamp's day in UTC (a zoned timestamp would otherwise give its own zone's day)."""
    if isinstance(value, pd.Timestamp) and value.tzinfo is not None:
        return value.tz_convert("UTC")
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value
