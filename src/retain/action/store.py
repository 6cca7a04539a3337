"""Writing an evaluation into the application database: create, update, reopen, auto-close and escalate CTAs.

The rules of the lifecycle (see :mod:`retain.state.actions`):

- a fired (account, type, reason) with a live CTA updates it (detail, priority, value; owner when re-routed);
  a new one is created with its playbook's tasks; the database refuses a second live one (``open_key``);
- a CTA snoozed until after the day does not re-fire; once its day has come and the rule still fires it reopens;
- a CTA done or dismissed less than ``cooldown_days`` ago does not re-fire;
- a live CTA whose rule ran and no longer fires for the account is auto-closed (``auto_close: signal_clears``),
  and its customer-facing e-mails not sent yet are withdrawn; a rule that could not run closes nothing;
- an open CTA overdue by ``escalate_after_days`` is escalated to its owner's manager, once;
- unowned accounts' CTAs go round-robin through the pool, starting after the last one so assigned, and stay with
  whoever already holds a live CTA on the account;
- a new CTA's customer-facing steps (a playbook task's e-mail or survey) are written to the outbox with it
  (:mod:`retain.action.customer_steps`), due on the task's day, through the contact caps.

Every change is an audit event (``cta.created``, ``cta.updated``, ``cta.reopened``, ``cta.auto_closed``,
``cta.escalated``), committed with it. Running twice on the same day changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from retain.action import spec as s
from retain.action.customer_steps import NewCta, StepReport, send_steps, withdraw_steps
from retain.action.evaluate import Evaluation, round_robin_pool
from retain.delivery.notify import enqueue_cta_notifications
from retain.state import audit
from retain.state.actions import Cta, CtaStatus, CtaTask, TaskStatus, open_key
from retain.state.models import AuditEvent, utcnow
from retain.warehouse import Warehouse

ACTOR = "retain act"
CHANGES = ("created", "updated", "reopened", "auto_closed", "escalated")


@dataclass
class ActReport:
    """What one ``retain act`` did as of ``day``: counts per owner, skipped rules with why."""

    day: dt.date
    fired: int = 0
    snoozed_kept: int = 0  # fired but snoozed until after the day
    cooling_down: int = 0  # fired but done or dismissed within the cooldown
    skipped_rules: dict[str, str] = field(default_factory=dict)
    per_owner: dict[str, Counter] = field(default_factory=dict)
    steps: StepReport = field(default_factory=StepReport)  # the new CTAs' customer-facing e-mails and surveys

    def count(self, change: str, owner: str | None) -> None:
        self.per_owner.setdefault(owner or "(nobody)", Counter())[change] += 1

    def total(self, change: str) -> int:
        return sum(c[change] for c in self.per_owner.values())

    @property
    def changed(self) -> int:
        return sum(self.total(c) for c in CHANGES)

    def by_owner(self) -> pd.DataFrame:
        """One row per owner: created, updated, reopened, auto-closed, escalated (owner ``(nobody)`` when none)."""
        rows = [{"owner_id": o, **{c: n[c] for c in CHANGES}} for o, n in sorted(self.per_owner.items())]
        return pd.DataFrame(rows, columns=["owner_id", *CHANGES])


def sync(db: Session, evaluation: Evaluation, config: s.ActionConfig, *, actor: str = ACTOR,
         wh: Warehouse | None = None) -> ActReport:
    """Bring the CTAs in line with ``evaluation`` (see the module's rules) and commit; returns what changed.
    ``wh`` (the contacts and the touches the caps count) is needed to send customer-facing steps; without it they
    are not sent (their tasks are still created)."""
    day, rules = evaluation.day, config.rules
    report = ActReport(day, fired=len(evaluation.fired), skipped_rules=dict(evaluation.skipped))
    live = {c.open_key: c for c in db.scalars(select(Cta).where(Cta.open_key.is_not(None)))}
    cooling = _cooling_keys(db, day, rules.cooldown_days)
    seen: set[str] = set()
    new_rows = []
    for row in evaluation.fired.to_dict("records"):
        key = open_key(row["account_id"], row["type"], row["reason"])
        if key in seen:  # two rules with the same type and reason fired: the first (by name) wins
            continue
        seen.add(key)
        cta = live.get(key)
        if cta is None:
            if key in cooling:
                report.cooling_down += 1
            else:
                new_rows.append(row)
            continue
        if cta.status == CtaStatus.SNOOZED and cta.snoozed_until and cta.snoozed_until > day:
            report.snoozed_kept += 1
            continue
        _refresh(db, cta, row, day, report, actor)
    closing = _closing(live.values(), seen, day, rules, evaluation.skipped)
    # withdraw before _create takes the contacts' cap locks: the worker locks messages first, then contacts
    withdrawn = withdraw_steps(db, [c.id for c in closing])
    _create(db, new_rows, live, day, config, evaluation, report, actor, wh)
    _auto_close(db, closing, withdrawn, day, report, actor)
    _escalate(db, day, rules.escalate_after_days, evaluation.team, report, actor)
    enqueue_cta_notifications(db, day)  # alerts and digests, committed with the CTAs (a transactional outbox)
    db.commit()
    return report


def _cooling_keys(db: Session, day: dt.date, cooldown_days: int) -> set[str]:
    if cooldown_days <= 0:
        return set()
    since = day - dt.timedelta(days=cooldown_days)
    rows = db.execute(select(Cta.account_id, Cta.type, Cta.reason).where(
        Cta.status.in_([CtaStatus.DONE.value, CtaStatus.DISMISSED.value]), Cta.closed_on >= since,
        Cta.closed_on <= day))
    return {open_key(*r) for r in rows}


def _refresh(db: Session, cta: Cta, row: dict, day: dt.date, report: ActReport, actor: str) -> None:
    """A live CTA's rule fired again: reopen it when its snooze is over, follow the latest values."""
    if cta.status == CtaStatus.SNOOZED:
        cta.status, cta.snoozed_until, cta.status_reason = CtaStatus.OPEN.value, None, None
        audit.record(db, "cta.reopened", actor=actor, target=f"cta:{cta.id}", detail={"day": day.isoformat()})
        report.count("reopened", cta.owner_id)
    changes = {}
    latest = {"detail": str(row["detail"]), "priority": str(row["priority"]), "value": float(row["value"])}
    for name, new in latest.items():
        if new != getattr(cta, name):
            changes[name] = [getattr(cta, name), new]
    if row["owner_id"] and row["owner_id"] != cta.owner_id and row["routed_by"] != "round_robin":
        changes["owner_id"] = [cta.owner_id, row["owner_id"]]
    if day > cta.last_fired_on:
        cta.last_fired_on = day
    if not changes:
        return
    for name, (_, new) in changes.items():
        setattr(cta, name, new)
    cta.updated_at = utcnow()
    audit.record(db, "cta.updated", actor=actor, target=f"cta:{cta.id}", detail={"changes": changes})
    report.count("updated", cta.owner_id)


def _create(db: Session, rows: list[dict], live: dict[str, Cta], day: dt.date, config: s.ActionConfig,
            evaluation: Evaluation, report: ActReport, actor: str, wh: Warehouse | None) -> None:
    """Insert the new CTAs, their tasks and their audit events in three bulk statements (thousands on a first run);
    the tasks' customer-facing steps go to the outbox in between (a step not sent notes why in its task)."""
    if not rows:
        return
    holders = {c.account_id: c.owner_id for c in live.values() if c.owner_id}
    pool = round_robin_pool(config.rules.routing, evaluation.team)
    turn = _next_turn(db, pool)
    manager = evaluation.team.set_index("member_id")["manager_id"].to_dict()
    now = utcnow()
    values = []
    for row in sorted(rows, key=lambda r: (r["account_id"], r["rule"])):
        owner, routed = row["owner_id"], row["routed_by"]
        if not owner:
            owner = holders.get(row["account_id"])
            if owner is None and pool:
                owner, turn = pool[turn % len(pool)], turn + 1
            routed = "round_robin" if owner else "unrouted"
            if owner:
                holders[row["account_id"]] = owner
        row["owner_id"] = owner
        values.append({
            "account_id": row["account_id"], "type": row["type"], "reason": row["reason"], "detail": row["detail"],
            "priority": row["priority"], "value": float(row["value"]), "owner_id": owner, "routed_by": routed,
            "due_on": row["due_on"], "status": CtaStatus.OPEN.value,
            "open_key": open_key(row["account_id"], row["type"], row["reason"]), "rule": row["rule"],
            "rule_version": int(row["rule_version"]), "evidence": json.loads(row["evidence"]),
            "playbook": row["playbook"], "auto_close": row["auto_close"], "opened_on": day, "last_fired_on": day,
            "created_at": now, "updated_at": now})
        report.count("created", owner)
    # plain executemany through Core: RETURNING many rows (or the ORM's bulk path) is quadratic here
    con = db.connection()
    con.execute(insert(Cta.__table__), values)
    ids = dict(con.execute(select(Cta.open_key, Cta.id).where(Cta.open_key.in_([v["open_key"] for v in values])
                                                            if len(values) < 500 else Cta.open_key.is_not(None))).all())
    by_row = sorted(rows, key=lambda r: (r["account_id"], r["rule"]))
    tasks = [task | {"cta_id": ids[v["open_key"]]}
             for v, row in zip(values, by_row, strict=True) if row["playbook"]
             for task in _tasks(config.playbooks.playbooks[row["playbook"]], row, row["owner_id"], manager, day)]
    if tasks and wh is not None:
        books = config.playbooks.playbooks
        new = [NewCta(ids[v["open_key"]], v["account_id"], v["owner_id"], books[v["playbook"]])
               for v in values if v["playbook"] and any(t.customer_facing for t in books[v["playbook"]].tasks)]
        report.steps = send_steps(db, wh, config.playbooks, new, tasks, day, evaluation.team)
    if tasks:
        con.execute(insert(CtaTask.__table__), tasks)
    con.execute(insert(AuditEvent.__table__), [
        {"action": "cta.created", "actor": actor, "target": f"cta:{ids[v['open_key']]}", "at": now, "ip": None,
         "detail": {"account_id": v["account_id"], "rule": v["rule"], "owner_id": v["owner_id"],
                    "priority": v["priority"]}} for v in values])


def _next_turn(db: Session, pool: list[str]) -> int:
    """Where the rotation resumes: after the member who got the last round-robin CTA."""
    last = db.scalar(select(Cta.owner_id).where(Cta.routed_by == "round_robin").order_by(Cta.id.desc()).limit(1))
    return pool.index(last) + 1 if last in pool else 0


def _tasks(play: s.PlaybookSpec, row: dict, owner: str | None, manager: dict, day: dt.date) -> list[dict]:
    """The playbook's tasks, each assigned by its role: CSM and rep from the account's team (else the CTA's
    owner), the executive sponsor is the account owner's manager; support and marketing are team queues."""
    def present(member) -> str | None:
        return member if isinstance(member, str) and member else None

    assignee = {
        s.TaskRole.CSM: present(row["csm_id"]) or owner,
        s.TaskRole.REP: present(row["account_owner_id"]) or owner,
        s.TaskRole.EXECUTIVE_SPONSOR: present(manager.get(row["account_owner_id"] or owner)),
        s.TaskRole.SUPPORT: None,
        s.TaskRole.MARKETING: None,
    }
    return [{"seq": i, "title": t.title, "role": t.role.value, "assignee_id": assignee[t.role],
             "due_on": day + dt.timedelta(days=t.due_days), "status": TaskStatus.OPEN.value}
            for i, t in enumerate(play.tasks, start=1)]


def _closing(live, seen: set[str], day: dt.date, rules: s.RuleSetSpec, skipped: dict[str, str]) -> list[Cta]:
    """The live CTAs to auto-close: their rule ran (``auto_close: signal_clears``) and no longer fires."""
    closing = {r.name for r in rules.enabled if r.auto_close is s.AutoClose.SIGNAL_CLEARS and r.name not in skipped}
    return [c for c in live if c.open_key not in seen and c.rule in closing and c.opened_on <= day]


def _auto_close(db: Session, closed: list[Cta], withdrawn: dict[int, list[int]], day: dt.date, report: ActReport,
                actor: str) -> None:
    """Close ``closed``, noting the e-mail steps withdrawn for each in its audit event."""
    for cta in closed:
        cta.status, cta.open_key, cta.closed_on = CtaStatus.AUTO_CLOSED.value, None, day
        cta.status_reason, cta.updated_at = f"signal cleared as of {day.isoformat()}", utcnow()
        detail = {"rule": cta.rule, "day": day.isoformat()}
        if withdrawn.get(cta.id):
            detail["withdrawn_messages"] = withdrawn[cta.id]
            report.steps.withdrawn += len(withdrawn[cta.id])
        audit.record(db, "cta.auto_closed", actor=actor, target=f"cta:{cta.id}", detail=detail)
        report.count("auto_closed", cta.owner_id)


def _escalate(db: Session, day: dt.date, after_days: int, team: pd.DataFrame, report: ActReport,
              actor: str) -> None:
    manager = team[team["active"]].set_index("member_id")["manager_id"].dropna().to_dict()
    overdue = db.scalars(select(Cta).where(Cta.status == CtaStatus.OPEN.value, Cta.escalated_to.is_(None),
                                           Cta.due_on <= day - dt.timedelta(days=after_days)))
    for cta in overdue:
        boss = manager.get(cta.owner_id)
        if not boss:
            continue
        cta.escalated_to, cta.escalated_on, cta.updated_at = boss, day, utcnow()
        audit.record(db, "cta.escalated", actor=actor, target=f"cta:{cta.id}",
                     detail={"owner_id": cta.owner_id, "manager_id": boss, "due_on": cta.due_on.isoformat()})
        report.count("escalated", cta.owner_id)
