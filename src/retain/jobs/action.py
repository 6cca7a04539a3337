"""The action section of the main job: the shipped rules evaluated as of the day, after scoring, and the calls to
action (CTAs) in the application database brought in line (:func:`retain.action.act`).

It runs after the health, prediction and calls sections, so the rules read what this run stored. The application
database is the one ``retain act`` and ``retain serve`` use (:func:`database_url`); a warehouse in memory gets an
application database in memory too (its CTAs last as long as the run: nothing is written next to an unnamed
warehouse). A database that cannot be opened or migrated skips the section with what to check
(:class:`~retain.state.db.StateError`), like any section whose input is missing.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from retain.action import act
from retain.action.customer_steps import StepReport
from retain.action.store import CHANGES, ActReport
from retain.state.actions import Cta, CtaStatus
from retain.state.db import ENV_URL, StateError, app_database, default_url
from retain.warehouse import Warehouse
from retain.warehouse.names import with_names

IN_MEMORY_URL = "sqlite://"
OWNER_COLUMNS = ("owner_id", "owner_name", "open", *CHANGES)


@dataclass(frozen=True)
class ActionSection:
    """What ``act`` did as of the day: counts per owner (with their open CTAs after the run), rules skipped and
    why, and the application database written to (its URL without a password)."""

    as_of: dt.date
    fired: int
    database: str
    per_owner: pd.DataFrame  # OWNER_COLUMNS, most open first
    skipped_rules: dict[str, str] = field(default_factory=dict)
    snoozed_kept: int = 0
    cooling_down: int = 0
    steps: StepReport = field(default_factory=StepReport)  # customer-facing steps queued, held, not sent, withdrawn

    def total(self, change: str) -> int:
        return int(self.per_owner[change].sum()) if len(self.per_owner) else 0


def duckdb_file(wh: Warehouse) -> str | None:
    """The file of a DuckDB warehouse; None in memory or on another engine."""
    if not wh.is_duckdb:
        return None
    row = wh.con.raw_sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return row[0] if row and row[0] else None


def database_url(wh: Warehouse) -> str:
    """``$RETAIN_DATABASE_URL``, else ``retain.sqlite`` next to the warehouse file (as ``retain act`` resolves it);
    in memory for a DuckDB warehouse in memory; else ``retain.sqlite`` in the current directory."""
    if os.environ.get(ENV_URL):
        return os.environ[ENV_URL]
    path = duckdb_file(wh)
    if path is not None:
        return default_url(path)
    return IN_MEMORY_URL if wh.is_duckdb else default_url(None)


def action_section(wh: Warehouse, as_of: dt.date) -> ActionSection:
    """Evaluate the shipped rules as of ``as_of`` and create, update, auto-close and escalate CTAs."""
    url = database_url(wh)
    try:
        with app_database(url) as db:
            report = act(wh, db, as_of)
            open_now = dict(db.execute(select(Cta.owner_id, func.count()).where(Cta.status == CtaStatus.OPEN.value)
                                       .group_by(Cta.owner_id)).all())
    except OSError as exc:  # e.g. the SQLite file's folder cannot be made: the environment's, not a bug
        raise StateError(f"cannot open the application database {url}: {exc}",
                         hint=f"check ${ENV_URL} or the folder of the warehouse file") from exc
    return ActionSection(as_of, report.fired, make_url(url).render_as_string(hide_password=True),
                         per_owner(wh, report, open_now), dict(report.skipped_rules), report.snoozed_kept,
                         report.cooling_down, report.steps)


def per_owner(wh: Warehouse, report: ActReport, open_now: dict[str | None, int]) -> pd.DataFrame:
    """One row per owner with a change in this run or an open CTA: names beside ids, most open first."""
    changes = report.by_owner().set_index("owner_id")
    owners = sorted(set(changes.index) | {o or "(nobody)" for o in open_now})
    frame = changes.reindex(owners, fill_value=0).rename_axis("owner_id").reset_index()
    frame["open"] = frame["owner_id"].map({o or "(nobody)": n for o, n in open_now.items()}).fillna(0).astype(int)
    if frame.empty:
        return pd.DataFrame(columns=list(OWNER_COLUMNS))
    named = wh.execute(with_names(wh, frame, columns=("owner_id",)))
    named["owner_name"] = named["owner_name"].fillna("")
    named = named.sort_values(["open", "owner_id"], ascending=[False, True], kind="stable")
    return named[list(OWNER_COLUMNS)].reset_index(drop=True)
