"""The success-plans section of the main job: every active plan's progress as of the day (after scoring, so the
health objectives read the day's health)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from retain.action.plans import RefreshReport, refresh_progress
from retain.state.db import app_database
from retain.warehouse import Warehouse


@dataclass(frozen=True)
class PlansSection:
    """Plans and objectives measured as of ``as_of``, objectives per status, CTAs newly linked."""

    as_of: dt.date
    plans: int = 0
    objectives: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    linked: int = 0

    @property
    def empty(self) -> bool:
        return self.plans == 0


def plans_section(wh: Warehouse, db: Session | str, day: dt.date) -> PlansSection:
    """Refresh every active plan as of ``day``; ``db`` is a session or the application database's URL."""
    if isinstance(db, str):
        with app_database(db) as session:
            report = refresh_progress(session, wh, day)
    else:
        report = refresh_progress(db, wh, day)
    return _section(report)


def _section(report: RefreshReport) -> PlansSection:
    return PlansSection(report.day, report.plans, report.objectives, report.by_status, report.linked)
