"""The action domain for a face that holds a database URL, not a session (the command line).

Each function opens (and migrates) the application database, does one thing, and closes it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from retain.action import act
from retain.action.lifecycle import list_ctas, task_done
from retain.action.store import ActReport
from retain.errors import ArgumentError
from retain.state.actions import CtaStatus
from retain.state.db import app_database
from retain.warehouse import Warehouse
from retain.warehouse.names import with_names

CTA_COLUMNS = ("cta_id", "priority", "due_on", "account_id", "type", "reason", "detail", "owner_id", "status",
               "escalated_to", "rule", "opened_on", "tasks_open")




def act_at(wh: Warehouse, url: str, day: dt.date, rules: str | Path | None = None) -> ActReport:
    """``act`` on the application database at ``url``."""
    with app_database(url) as db:
        return act(wh, db, day, rules)


def parse_status(value: str | None) -> CtaStatus | None:
    if value is None:
        return None
    try:
        return CtaStatus(value)
    except ValueError:
        raise ArgumentError(f"'{value}' is not a CTA status",
                            hint=f"use one of {', '.join(s.value for s in CtaStatus)}") from None


def cta_frame(wh: Warehouse, url: str, *, owner: str | None = None, status: str | None = None,
              limit: int = 500) -> pd.DataFrame:
    """The CTAs ``retain ctas`` lists (open and snoozed by default), names beside account and member ids."""
    with app_database(url) as db:
        ctas = list_ctas(db, owner=owner, status=parse_status(status), limit=limit)
        rows = [{"cta_id": c.id, "priority": c.priority, "due_on": c.due_on, "account_id": c.account_id,
                 "type": c.type, "reason": c.reason, "detail": c.detail, "owner_id": c.owner_id, "status": c.status,
                 "escalated_to": c.escalated_to, "rule": c.rule, "opened_on": c.opened_on,
                 "tasks_open": sum(t.status == "open" for t in c.tasks)} for c in ctas]
    return _named(wh, pd.DataFrame(rows, columns=list(CTA_COLUMNS)), {"escalated_to": "manager_id"})


def task_frame(wh: Warehouse, url: str, cta_ids: list[int]) -> pd.DataFrame:
    """The playbook tasks of the CTAs ``cta_ids``, in order, names beside assignees."""
    from sqlalchemy import select

    from retain.state.actions import CtaTask

    with app_database(url) as db:
        tasks = db.scalars(select(CtaTask).where(CtaTask.cta_id.in_(cta_ids)).order_by(CtaTask.cta_id, CtaTask.seq))
        rows = [{"task_id": t.id, "cta_id": t.cta_id, "seq": t.seq, "title": t.title, "role": t.role,
                 "assignee_id": t.assignee_id, "due_on": t.due_on, "status": t.status} for t in tasks]
    frame = pd.DataFrame(rows, columns=["task_id", "cta_id", "seq", "title", "role", "assignee_id", "due_on",
                                        "status"])
    return _named(wh, frame, {"assignee_id": "member_id"})


def _named(wh: Warehouse, frame: pd.DataFrame, aliases: dict[str, str]) -> pd.DataFrame:
    """``frame`` with names beside its account and member ids (``aliases``: id columns named as a known one)."""
    if frame.empty:
        return frame
    back = {v: k for k, v in aliases.items()} | {f"{v.removesuffix('_id')}_name": f"{k.removesuffix('_id')}_name"
                                                  for k, v in aliases.items()}
    named = wh.execute(with_names(wh, frame.rename(columns=aliases))).rename(columns=back)
    for col in ("due_on", "opened_on"):  # dates, not midnight timestamps, after the trip through the engine
        if col in named:
            named[col] = pd.to_datetime(named[col]).dt.date
    return named


def check_off(url: str, task_id: int, actor: str) -> tuple[int, str]:
    """Mark task ``task_id`` done; its CTA and title."""
    with app_database(url) as db:
        task = task_done(db, task_id, actor)
        return task.cta_id, task.title
