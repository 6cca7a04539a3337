"""The tiny company of :mod:`retain.state.testing` with people at its accounts and calls to action to work.

CTAs (by key): ``rita_high`` (a1, Rita, high, two tasks: one hers, one Raj's), ``rita_overdue`` (a2, Rita, medium,
overdue), ``rita_done`` (a1, Rita, closed: history), ``raj_escalated`` (a4, Raj, overdue and escalated to Mia, a task
for Rita), ``olga_low`` (a5, Olga), ``unowned`` (a6, Olga's account, nobody owns it). Contacts: a1's champion Ann left
on 2024-06-01, its decision maker Dan stays.
"""

from __future__ import annotations

import datetime as dt

from retain.server.testing import seeded_app
from retain.state import testing
from retain.state.actions import Cta, CtaTask
from retain.state.publish import publish
from retain.warehouse import Warehouse

DAY = testing.AS_OF
CTAS = {  # key: (account, owner, priority, due offset, status, escalated_to)
    "rita_high": ("a1", "r1", "high", 3, "open", None),
    "rita_overdue": ("a2", "r1", "medium", -5, "open", None),
    "rita_done": ("a1", "r1", "critical", -20, "done", None),
    "raj_escalated": ("a4", "r2", "critical", -10, "open", "m1"),
    "olga_low": ("a5", "r3", "low", 7, "open", None),
    "unowned": ("a6", None, "medium", 2, "open", None),
}


def warehouse() -> Warehouse:
    wh = testing.build(Warehouse.open(":memory:"))
    testing._put(wh, "contacts", [
        {"contact_id": "p1", "account_id": "a1", "created_at": testing._ts("2023-02-01"), "name": "Ann Champion",
         "role": "champion", "title": "Head of Ops", "left_at": testing._ts("2024-06-01")},
        {"contact_id": "p2", "account_id": "a1", "created_at": testing._ts("2023-02-01"), "name": "Dan Decider",
         "role": "decision_maker", "email": "dan@acme.example"},
        {"contact_id": "p3", "account_id": "a1", "created_at": testing._ts("2023-02-01"), "name": "Una User",
         "role": "user"},
    ])
    return wh


def add_ctas(db) -> dict[str, int]:
    """The CTAs above (committed); returns their ids by key."""
    ids = {}
    for key, (account, owner, priority, due, status, boss) in CTAS.items():
        live = status == "open"
        cta = Cta(account_id=account, type="risk" if key != "olga_low" else "opportunity",
                  reason=f"Reason {key}", detail=f"health fell on {account}; ARR 12,000", priority=priority,
                  value=12_000.0, owner_id=owner, routed_by="account_owner", due_on=DAY + dt.timedelta(days=due),
                  status=status, open_key=f"{account}|risk|{key}" if live else None, rule=f"rule_{key}",
                  rule_version=1, evidence={"grade": "red", "total": 31.5, "as_of": DAY.isoformat()},
                  playbook="save", auto_close="signal_clears", opened_on=DAY - dt.timedelta(days=12),
                  last_fired_on=DAY, closed_on=None if live else DAY - dt.timedelta(days=15),
                  escalated_to=boss, escalated_on=DAY - dt.timedelta(days=1) if boss else None)
        if key == "rita_high":
            cta.tasks = [CtaTask(seq=1, title="Call the sponsor", role="csm", assignee_id="r1", due_on=DAY),
                         CtaTask(seq=2, title="Check the invoice", role="rep", assignee_id="r2", due_on=DAY)]
        if key == "raj_escalated":
            cta.tasks = [CtaTask(seq=1, title="Review usage with Raj", role="csm", assignee_id="r1", due_on=DAY)]
        db.add(cta)
        db.flush()
        ids[key] = cta.id
    db.commit()
    return ids


def action_app(database_url: str, **settings):
    """The seeded dashboard (four users, their read keys and ``admin-write``: only admins hold write keys),
    re-published with the contacts, and the CTAs above; returns (app, keys, CTA ids)."""
    app, keys = seeded_app(database_url, **settings)
    with app.state.runtime.sessions() as db:
        publish(warehouse(), db, DAY)
        ids = add_ctas(db)
    return app, keys, ids
