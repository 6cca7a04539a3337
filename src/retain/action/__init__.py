"""Action: rules turn stored results into calls to action (CTAs) with playbooks, routed, deduplicated, escalated.

``act(wh, db, day)`` is the whole of one run: evaluate the rules as of ``day`` in the engine
(:mod:`retain.action.evaluate`) and bring the CTAs in the application database in line (:mod:`retain.action.store`).
``retain.action.backtest`` replays the rules over past dates and measures them against what customers did.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from retain.action.evaluate import Evaluation, evaluate
from retain.action.spec import ActionConfig, CtaType, Priority, load_playbooks, load_rules
from retain.action.store import ActReport, sync
from retain.warehouse import Warehouse

__all__ = ["ActReport", "ActionConfig", "CtaType", "Evaluation", "Priority", "act", "evaluate", "load_playbooks",
           "load_rules"]


def act(wh: Warehouse, db: Session, day: dt.date, config: ActionConfig | str | Path | None = None) -> ActReport:
    """Evaluate the rules (the shipped ones by default) as of ``day`` and create, update, reopen, auto-close and
    escalate CTAs accordingly; committed. Idempotent: a second run on the same day changes nothing."""
    if not isinstance(config, ActionConfig):
        config = load_rules(config)
    return sync(db, evaluate(wh, day, config), config, wh=wh)
