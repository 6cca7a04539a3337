"""Success plans: create one for an account from its segment's template, refresh every plan's progress from the
warehouse as of a day, and read a plan (one line for Account 360, the full view for its page and the API).

Status from pace (:func:`objective_status`; every metric is better higher): an objective moving from ``start`` (as
of the plan's creation) to ``target`` by ``due_on`` is *achieved* once the current value reaches the target; before
the date it is *on track* while its progress (the share of the way from start to target) is no more than
:data:`ON_TRACK_SLACK` behind the share of the time gone, *at risk* while no more than :data:`AT_RISK_SLACK`
behind, else *off track*; past the date and not reached, *off track*. A target already reached at the start is a
"keep it" goal (a renewal: stay in service; health already green: keep it there): on track while held, achieved
when still held on the date, off track as soon as lost. No current value (or no target yet): *no data*.

Point in time: start and current values are computed by :mod:`retain.action.plan_metrics` from rows known by the
day; :func:`refresh_progress` runs one engine query per metric for all active plans (not one per account) and never
measures a plan as of a day before it was created.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import ibis
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from retain.action.plan_metrics import PlanMetric, metric_values
from retain.action.plan_spec import DueAt, ObjectiveSpec, PlanTemplateSetSpec, load_plan_templates
from retain.errors import ArgumentError, NotFoundError, WarehouseError
from retain.metrics.dimensions import active_on
from retain.state import audit
from retain.state.actions import Cta, CtaStatus, CtaTask
from retain.state.models import AccountSnapshot, utcnow
from retain.state.plans import LinkKind, PlanLink, PlanObjective, PlanStatus, SuccessPlan
from retain.state.queries import Scope, get_account, last_publish, scoped
from retain.warehouse import Warehouse

ON_TRACK_SLACK = 0.10  # progress may lag the time gone by this share of the way and still be on track
AT_RISK_SLACK = 0.25
RENEWAL_FALLBACK_DAYS = 365


class ObjectiveStatus(StrEnum):
    """Where an objective stands, best first."""

    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    NO_DATA = "no_data"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


def _fraction(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def expected_share(start_on: dt.date, due_on: dt.date, day: dt.date) -> float:
    """The share of the time from start to due gone by ``day`` (0..1)."""
    span = (due_on - start_on).days
    return 1.0 if span <= 0 else _fraction((day - start_on).days / span)


def progress_share(start: float | None, current: float | None, target: float | None) -> float | None:
    """The share of the way from start to target covered (0..1; None when it cannot be told)."""
    if start is None or current is None or target is None:
        return None
    if target <= start:  # a "keep it" goal
        return 1.0 if current >= target else 0.0
    return _fraction((current - start) / (target - start))


def objective_status(start: float | None, current: float | None, target: float | None, start_on: dt.date,
                     due_on: dt.date, day: dt.date) -> ObjectiveStatus:
    """Status from pace (see the module docstring); every metric of the vocabulary is better higher."""
    if current is None or target is None:
        return ObjectiveStatus.NO_DATA
    base = start if start is not None else current
    met = current >= target
    if target <= base:  # reached when the plan began: a "keep it" goal
        if not met:
            return ObjectiveStatus.OFF_TRACK
        return ObjectiveStatus.ACHIEVED if day >= due_on else ObjectiveStatus.ON_TRACK
    if met:
        return ObjectiveStatus.ACHIEVED
    if day >= due_on:
        return ObjectiveStatus.OFF_TRACK
    gap = expected_share(start_on, due_on, day) - (progress_share(base, current, target) or 0.0)
    if gap <= ON_TRACK_SLACK:
        return ObjectiveStatus.ON_TRACK
    return ObjectiveStatus.AT_RISK if gap <= AT_RISK_SLACK else ObjectiveStatus.OFF_TRACK


def plan_status(statuses: list[ObjectiveStatus]) -> ObjectiveStatus:
    """A plan stands where its worst objective stands (no objective: no data)."""
    order = list(ObjectiveStatus)
    return max(statuses, key=order.index) if statuses else ObjectiveStatus.NO_DATA


# -- dates ------------------------------------------------------------------------------------------------------

def quarter_end(day: dt.date, quarters_ahead: int = 0) -> dt.date:
    """The last day of the quarter ``quarters_ahead`` after the one holding ``day``."""
    q = (day.month - 1) // 3 + quarters_ahead
    year, q = day.year + q // 4, q % 4
    first_next = dt.date(year + (q == 3), (q * 3 + 3) % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def next_renewal(wh: Warehouse, account_id: str, day: dt.date) -> dt.date | None:
    """The earliest contract end after ``day`` among the account's subscriptions in service on the day."""
    subs = wh.as_of("subscriptions", day)
    on = ibis.literal(day, type="date")
    subs = subs.filter((subs.account_id == account_id) & active_on(subs.started_on, subs.ended_on, on)
                       & (subs.term_end_on > on))
    value = wh.execute(subs.term_end_on.min())
    return None if value is None or value != value else dt.date.fromisoformat(str(value)[:10])


def due_date(spec: ObjectiveSpec, day: dt.date, renewal_on: dt.date | None) -> dt.date:
    if spec.due_days is not None:
        return day + dt.timedelta(days=spec.due_days)
    if spec.due is DueAt.RENEWAL:
        return renewal_on or day + dt.timedelta(days=RENEWAL_FALLBACK_DAYS)
    return quarter_end(day, 0 if spec.due is DueAt.QUARTER_END else 1)


# -- creating and changing plans ----------------------------------------------------------------------------------

def _templates(templates: PlanTemplateSetSpec | str | Path | None) -> PlanTemplateSetSpec:
    return templates if isinstance(templates, PlanTemplateSetSpec) else load_plan_templates(templates)


def _segment(wh: Warehouse, account_id: str, day: dt.date) -> str | None:
    acc = wh.as_of("accounts", day)
    found = wh.execute(acc.filter(acc.account_id == account_id).select("segment").limit(1))
    if found.empty:
        raise NotFoundError(f"no account '{account_id}' known as of {day}",
                            hint="check the id (`retain ... --out` lists them) or the --as-of date")
    value = found["segment"].iloc[0]
    return value if isinstance(value, str) else None


def active_plan(db: Session, account_id: str) -> SuccessPlan | None:
    return db.scalar(select(SuccessPlan).where(SuccessPlan.active_key == account_id)
                     .options(selectinload(SuccessPlan.objectives), selectinload(SuccessPlan.links)))


def create_plan(db: Session, wh: Warehouse, account_id: str, day: dt.date, template: str | None = None, *,
                by: str = "system", templates: PlanTemplateSetSpec | str | Path | None = None) -> SuccessPlan:
    """A success plan for ``account_id`` from ``template`` (default: the one for its segment), start values measured
    as of ``day``, the account's live CTAs linked; committed and audited. One active plan per account."""
    spec = _templates(templates)
    segment = _segment(wh, account_id, day)
    name = template or spec.for_segment(segment)
    if name not in spec.plan_templates:
        raise ArgumentError(f"no plan template '{name}'",
                            hint=f"use one of {', '.join(sorted(spec.plan_templates))}")
    if active_plan(db, account_id) is not None:
        raise ArgumentError(f"account '{account_id}' already has an active success plan",
                            hint="edit its objectives, or close it before creating another")
    if not metric_values(wh, PlanMetric.IN_SERVICE, day, [account_id]).get(account_id):
        raise ArgumentError(f"account '{account_id}' has no subscription in service as of {day}",
                            hint="a success plan is for a customer; check the id or the --as-of date")
    chosen = spec.plan_templates[name]
    starts = {m: metric_values(wh, m, day, [account_id]).get(account_id) for m in {o.metric for o in chosen.objectives}}
    renewal_on = next_renewal(wh, account_id, day) if any(o.due is DueAt.RENEWAL for o in chosen.objectives) else None
    plan = SuccessPlan(account_id=account_id, active_key=account_id, title=chosen.title, template=name,
                       status=PlanStatus.ACTIVE.value, created_on=day, created_by=by, refreshed_on=day)
    for seq, o in enumerate(chosen.objectives, start=1):
        start = starts[o.metric]
        target = o.target if o.target is not None else (None if start is None else start * (1 + o.increase_pct / 100))
        due_on = due_date(o, day, renewal_on)
        note = None if target is not None else f"no {o.metric.value} as of {day}: set a target"
        plan.objectives.append(PlanObjective(
            seq=seq, kind=o.kind.value, title=o.title, metric=o.metric.value, start_value=start, current_value=start,
            target_value=target, start_on=day, due_on=due_on, measured_on=day, note=note,
            status=objective_status(start, start, target, day, due_on, day).value))
    db.add(plan)
    db.flush()
    _link_live_ctas(db, {account_id: plan})
    audit.record(db, "plan.created", actor=by, target=f"plan:{plan.id}",
                 detail={"account_id": account_id, "template": name, "day": day.isoformat()})
    db.commit()
    return plan


def create_plan_in(db: Session, warehouse: str | None, account_id: str, template: str | None, *, by: str,
                   scope: Scope | None = None, day: dt.date | None = None) -> SuccessPlan:
    """:func:`create_plan` for a server, which holds the warehouse's location rather than an open warehouse: only
    for an account ``scope`` may see, as of ``day`` (default: the last publish, the day its pages show)."""
    if scope is not None:
        get_account(db, scope, account_id)
    if not warehouse:
        raise WarehouseError("no warehouse configured to measure the plan's start values",
                             hint="set the server's warehouse (RETAIN_WAREHOUSE or --db)")
    if day is None:
        run = last_publish(db)
        day = run.as_of if run is not None else dt.date.today()
    wh = Warehouse.open(warehouse, create=False)
    try:
        return create_plan(db, wh, account_id, day, template, by=by)
    finally:
        wh.con.disconnect()


def _link_live_ctas(db: Session, plans: dict[str, SuccessPlan]) -> int:
    """Link every live CTA of the plans' accounts not linked yet; how many were."""
    if not plans:
        return 0
    live = [CtaStatus.OPEN.value, CtaStatus.SNOOZED.value]
    rows = db.execute(select(Cta.id, Cta.account_id).where(Cta.account_id.in_(list(plans)), Cta.status.in_(live)))
    have = {(link.plan_id, link.ref_id) for p in plans.values() for link in p.links if link.kind == LinkKind.CTA}
    added = 0
    for cta_id, account_id in rows:
        plan = plans[account_id]
        if (plan.id, cta_id) not in have:
            plan.links.append(PlanLink(kind=LinkKind.CTA.value, ref_id=cta_id))
            added += 1
    return added


def link(db: Session, plan_id: int, kind: LinkKind, ref_id: int, *, objective_id: int | None = None,
         by: str = "system") -> PlanLink:
    """Link a CTA or a task (by id) to a plan, or to one of its objectives; committed and audited."""
    plan = _plan(db, plan_id)
    model = Cta if kind is LinkKind.CTA else CtaTask
    if db.get(model, ref_id) is None:
        raise NotFoundError(f"no {kind.value} {ref_id}", hint="list them with `retain ctas --tasks`")
    if objective_id is not None and objective_id not in {o.id for o in plan.objectives}:
        raise NotFoundError(f"plan {plan_id} has no objective {objective_id}")
    row = PlanLink(objective_id=objective_id, kind=kind.value, ref_id=ref_id)
    plan.links.append(row)
    audit.record(db, "plan.linked", actor=by, target=f"plan:{plan.id}", detail={"kind": kind.value, "id": ref_id})
    db.commit()
    return row


def _plan(db: Session, plan_id: int, scope: Scope | None = None) -> SuccessPlan:
    stmt = select(SuccessPlan).where(SuccessPlan.id == plan_id)
    if scope is not None:
        stmt = scoped(stmt.join(AccountSnapshot, AccountSnapshot.account_id == SuccessPlan.account_id), scope)
    plan = db.scalar(stmt)
    if plan is None:
        raise NotFoundError(f"no success plan {plan_id}", hint="see the account's plan page for its id")
    return plan


def plan_account(db: Session, plan_id: int, scope: Scope | None = None) -> str:
    """The account of plan ``plan_id`` (a plan ``scope`` may not see is a :class:`NotFoundError`)."""
    return _plan(db, plan_id, scope).account_id


def update_objective(db: Session, plan_id: int, objective_id: int, *, target: float | None = None,
                     due_on: dt.date | None = None, by: str, scope: Scope | None = None,
                     day: dt.date | None = None) -> PlanObjective:
    """Change an objective's target and/or date (``scope``: only a plan the caller may see); its status is
    recomputed as of its last measurement; committed and audited."""
    plan = _plan(db, plan_id, scope)
    objective = next((o for o in plan.objectives if o.id == objective_id), None)
    if objective is None:
        raise NotFoundError(f"plan {plan_id} has no objective {objective_id}")
    if target is None and due_on is None:
        raise ArgumentError("nothing to change", hint="give a target, a due date, or both")
    if target is not None and target != target:  # NaN
        raise ArgumentError("the target must be a number")
    if due_on is not None and due_on <= objective.start_on:
        raise ArgumentError(f"the due date {due_on} is not after the objective's start {objective.start_on}",
                            hint="give a later date")
    changes = {}
    if target is not None and target != objective.target_value:
        changes["target_value"] = [objective.target_value, target]
        objective.target_value, objective.note = target, None
    if due_on is not None and due_on != objective.due_on:
        changes["due_on"] = [objective.due_on.isoformat(), due_on.isoformat()]
        objective.due_on = due_on
    measured = objective.measured_on or day or objective.start_on
    objective.status = objective_status(objective.start_value, objective.current_value, objective.target_value,
                                        objective.start_on, objective.due_on, measured).value
    objective.updated_at = plan.updated_at = utcnow()
    audit.record(db, "plan.objective_updated", actor=by, target=f"plan:{plan.id}",
                 detail={"objective_id": objective.id, "changes": changes})
    db.commit()
    return objective


# -- progress -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RefreshReport:
    """What a refresh did as of ``day``: plans and objectives measured, objectives per status, CTAs linked."""

    day: dt.date
    plans: int = 0
    objectives: int = 0
    queries: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    linked: int = 0


def refresh_progress(db: Session, wh: Warehouse, day: dt.date) -> RefreshReport:
    """Every active plan's current values as of ``day`` (one engine query per metric), statuses from pace, and
    new live CTAs of their accounts linked; committed. Plans created after ``day`` are left as they are."""
    plans = list(db.scalars(select(SuccessPlan).where(SuccessPlan.status == PlanStatus.ACTIVE.value,
                                                      SuccessPlan.created_on <= day)
                            .options(selectinload(SuccessPlan.objectives), selectinload(SuccessPlan.links))))
    objectives = [o for p in plans for o in p.objectives]
    by_metric: dict[str, set[str]] = {}
    for p in plans:
        for o in p.objectives:
            by_metric.setdefault(o.metric, set()).add(p.account_id)
    values = {m: metric_values(wh, PlanMetric(m), day, sorted(accounts)) for m, accounts in by_metric.items()}
    counts: Counter[str] = Counter()
    now = utcnow()
    for p in plans:
        for o in p.objectives:
            current = values[o.metric].get(p.account_id)
            if o.start_value is None and current is not None:  # first value known: the plan starts from it
                o.start_value = current
            o.current_value, o.measured_on, o.updated_at = current, day, now
            o.status = objective_status(o.start_value, current, o.target_value, o.start_on, o.due_on, day).value
            counts[o.status] += 1
        p.refreshed_on, p.updated_at = day, now
    linked = _link_live_ctas(db, {p.account_id: p for p in plans})
    db.commit()
    return RefreshReport(day, len(plans), len(objectives), len(values), dict(counts), linked)


# -- reading -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanSummary:
    """One line on Account 360: the plan's status and its objectives' count per status."""

    plan_id: int
    title: str
    status: ObjectiveStatus
    objectives: int
    by_status: dict[str, int]
    next_due_on: dt.date | None
    refreshed_on: dt.date | None

    @property
    def line(self) -> str:
        parts = ", ".join(f"{n} {ObjectiveStatus(s).label}" for s, n in self.by_status.items())
        due = f" · next due {self.next_due_on.isoformat()}" if self.next_due_on else ""
        return f"{self.title}: {self.status.label} ({self.objectives} objectives: {parts}){due}"

    def __str__(self) -> str:
        return self.line


def _summary(plan: SuccessPlan) -> PlanSummary:
    statuses = [ObjectiveStatus(o.status) for o in plan.objectives]
    counts = Counter(s.value for s in statuses)
    order = [s.value for s in ObjectiveStatus]
    pending = [o.due_on for o in plan.objectives if o.status != ObjectiveStatus.ACHIEVED]
    return PlanSummary(plan.id, plan.title, plan_status(statuses), len(statuses),
                       {k: counts[k] for k in order if counts[k]}, min(pending) if pending else None,
                       plan.refreshed_on)


def plan_summary(db: Session, account_id: str) -> PlanSummary | None:
    """The account's active plan in one line, or None."""
    plan = active_plan(db, account_id)
    return None if plan is None else _summary(plan)


@dataclass(frozen=True)
class ObjectiveView:
    objective: PlanObjective
    status: ObjectiveStatus
    progress: float | None  # share of the way from start to target (0..1)
    expected: float  # share of the time gone at the last measurement


@dataclass(frozen=True)
class PlanView:
    """A plan with its objectives' progress, and the CTAs and tasks linked to it."""

    plan: SuccessPlan
    summary: PlanSummary
    objectives: list[ObjectiveView]
    ctas: list[Cta]
    tasks: list[CtaTask]


def objective_view(o: PlanObjective) -> ObjectiveView:
    """The objective with its progress and the share of its time gone at its last measurement."""
    return ObjectiveView(o, ObjectiveStatus(o.status), progress_share(o.start_value, o.current_value, o.target_value),
                         expected_share(o.start_on, o.due_on, o.measured_on or o.start_on))


def account_plan(db: Session, account_id: str, scope: Scope | None = None) -> PlanView | None:
    """The account's active plan in full, or None. With ``scope`` an account the caller may not see is a
    :class:`NotFoundError`, exactly as a missing one (checked in SQL, :func:`retain.state.queries.get_account`)."""
    if scope is not None:
        get_account(db, scope, account_id)
    plan = active_plan(db, account_id)
    if plan is None:
        return None
    views = [objective_view(o) for o in plan.objectives]
    cta_ids = [x.ref_id for x in plan.links if x.kind == LinkKind.CTA]
    task_ids = [x.ref_id for x in plan.links if x.kind == LinkKind.TASK]
    ctas = list(db.scalars(select(Cta).where(Cta.id.in_(cta_ids)).options(selectinload(Cta.tasks))
                           .order_by(Cta.due_on, Cta.id))) if cta_ids else []
    tasks = list(db.scalars(select(CtaTask).where(CtaTask.id.in_(task_ids)).order_by(CtaTask.due_on))
                 ) if task_ids else []
    return PlanView(plan, _summary(plan), views, ctas, tasks)
