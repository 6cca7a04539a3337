"""Outcomes from whatever the user has: did a customer churn (or expand) within ``horizon_days`` after ``as_of``?

Sources, best first (:class:`~retain.models.frame.OutcomeSource`):

1. ``outcome_labels`` rows (snapshot exports): the label given for (account, ``observed_on``) wins outright;
2. ``churn_events`` of type ``churn`` (``upgrade`` for expansion) dated in ``(as_of, as_of + horizon]``;
3. ``accounts.churned_at`` in that window;
4. subscriptions: no non-trial subscription in service at ``as_of + horizon`` (expansion: higher MRR then, or a
   product started in the window that was not held at ``as_of``).

Sources 2-4 are combined with *or*: an account churned by an event counts even when its subscription rows look
open. A churn event is account-level churn; record the loss of one product as a ``downgrade``.

The population at a date is the customers then: accounts with a running non-trial subscription, accounts with a
label row observed that day, or (when there are no subscriptions at all) accounts created by then; minus accounts
churned by an event or ``churned_at`` on or before the date with no subscription or reactivation since.

Everything is read as the warehouse knew it at the build's ``as_of`` (the grid's anchor), never later, and a
label whose window reaches past it is *missing*, never 0. All dates are computed in one engine query.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import ibis
import ibis.expr.types as ir

from retain.errors import ModelError
from retain.models.frame import ObservationFrequency, OutcomeSource
from retain.models.grid import ObservationGrid, regular_dates
from retain.warehouse import Warehouse

HORIZONS: tuple[int, ...] = (30, 60, 90, 180, 365)
OPEN_END = dt.date(9999, 12, 31)  # the end of a subscription still running, in range joins


class OutcomeKind(StrEnum):
    CHURN = "churn"
    EXPANSION = "expansion"

    @property
    def label(self) -> str:
        """The label column's name in a model frame."""
        return "churned" if self is OutcomeKind.CHURN else "expanded"


class OutcomeNeverOccurs(ModelError):
    """The outcome never happens in the data (e.g. no expansion in a single-plan product): skip that model."""

    def __init__(self, kind: OutcomeKind, rows: int) -> None:
        what = "no account ever expanded" if kind is OutcomeKind.EXPANSION else "no account ever churned"
        where = f"in {rows} labelled observations" if rows else "(no source records this outcome)"
        super().__init__(
            f"{what} {where}: the {kind.value} model is skipped",
            hint="nothing to fix if that is how the business works; otherwise load the outcome data "
                 "(churn_events, outcome_labels or subscriptions with end dates)",
        )
        self.kind = kind
        self.rows = rows


def _int(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1/0 for a condition (PostgreSQL cannot cast a boolean to a small integer)."""
    return ibis.ifelse(condition, 1, 0).cast("int8")


# -- what exists -----------------------------------------------------------------------------------------------

def _count(wh: Warehouse, expr: ir.Table) -> int:
    return int(wh.execute(expr.count()))


def paying_subscriptions(wh: Warehouse, as_of: dt.date) -> ir.Table:
    """Subscription rows known at ``as_of`` that are not trials."""
    subs = wh.as_of("subscriptions", as_of)
    return subs.filter(subs.status.isnull() | (subs.status != "trial"))


def sources(wh: Warehouse, as_of: dt.date, kind: OutcomeKind = OutcomeKind.CHURN) -> tuple[OutcomeSource, ...]:
    """The outcome sources that hold data at ``as_of``, best first."""
    labels = wh.as_of("outcome_labels", as_of)
    events = wh.as_of("churn_events", as_of)
    event_type = "churn" if kind is OutcomeKind.CHURN else "upgrade"
    found = []
    if _count(wh, labels.filter(labels.outcome == kind.value)):
        found.append(OutcomeSource.LABELS)
    if _count(wh, events.filter(events.event_type == event_type)):
        found.append(OutcomeSource.CHURN_EVENTS)
    if kind is OutcomeKind.CHURN:
        accounts = wh.as_of("accounts", as_of)
        if _count(wh, accounts.filter(accounts.churned_at.notnull())):
            found.append(OutcomeSource.CHURNED_AT)
    if _count(wh, paying_subscriptions(wh, as_of)):
        found.append(OutcomeSource.SUBSCRIPTIONS)
    return tuple(found)


def _first_day(wh: Warehouse, as_of: dt.date) -> dt.date | None:
    """The first day of outcome history: subscriptions, churn events or labels (accounts' creation otherwise)."""
    days = []
    for table, column in (("subscriptions", "started_on"), ("churn_events", "occurred_on"),
                          ("outcome_labels", "observed_on")):
        value = wh.execute(wh.as_of(table, as_of)[column].min())
        if value is not None and value == value:
            days.append(value)
    if not days:
        value = wh.execute(wh.as_of("accounts", as_of).created_at.min())
        if value is not None and value == value:
            days.append(value.date())
    return min(dt.date.fromisoformat(str(d)[:10]) for d in days) if days else None


def _first_leaving_day(wh: Warehouse, as_of: dt.date) -> dt.date | None:
    """The first day the data records a customer leaving: a ``churn`` event, ``accounts.churned_at`` or the end of
    a paying subscription (None when it records none)."""
    lit = ibis.literal(as_of, type="date")
    events = wh.as_of("churn_events", as_of)
    subs = paying_subscriptions(wh, as_of)
    accounts = wh.as_of("accounts", as_of)
    days = [wh.execute(events.filter(events.event_type == "churn").occurred_on.min()),
            wh.execute(subs.filter(subs.ended_on <= lit).ended_on.min()),
            wh.execute(accounts.churned_at.min())]
    found = [dt.date.fromisoformat(str(d)[:10]) for d in days if d is not None and d == d]
    return min(found) if found else None


def _label_horizon(wh: Warehouse, as_of: dt.date) -> int | None:
    labels = wh.as_of("outcome_labels", as_of)
    counts = wh.execute(labels.filter(labels.horizon_days.notnull()).horizon_days.value_counts())
    if counts.empty:
        return None
    return int(counts.sort_values(counts.columns[1], ascending=False).iloc[0, 0])


def choose_defaults(wh: Warehouse, as_of: dt.date) -> tuple[int, ObservationFrequency, str]:
    """The horizon and observation frequency that suit the data's span, and why.

    A labels file that states its horizon sets it. Otherwise, by the span of outcome history before ``as_of``:
    under 9 months a 30-day horizon observed weekly; under 15 months 60 days, monthly; else 90 days, monthly.
    """
    start = _first_day(wh, as_of)
    if start is None:
        raise ModelError("the warehouse holds no outcome data (no subscriptions, churn events, labels or accounts)",
                         hint="load data first (`retain ingest`)")
    span = (as_of - start).days
    given = _label_horizon(wh, as_of)
    if given is not None:
        return given, ObservationFrequency.MONTH, f"horizon {given} days as stated by outcome_labels.horizon_days"
    months = span / 30.4
    if span < 270:
        horizon, freq = 30, ObservationFrequency.WEEK
    elif span < 450:
        horizon, freq = 60, ObservationFrequency.MONTH
    else:
        horizon, freq = 90, ObservationFrequency.MONTH
    return horizon, freq, (f"{months:.0f} months of outcome history since {start}: "
                           f"{horizon}-day horizon, observed every {freq.value}")


def observation_grid(wh: Warehouse, as_of: dt.date, *, horizon_days: int, frequency: ObservationFrequency,
                     include_as_of: bool = True) -> ObservationGrid:
    """Observation dates: the labels' ``observed_on`` dates when a labels file exists, else every step back from
    ``as_of`` over the history since one horizon before the first recorded leaving (with ``as_of`` itself,
    unlabelled, for scoring)."""
    labels = wh.as_of("outcome_labels", as_of)
    observed = wh.execute(labels.observed_on.name("d").as_table().distinct())["d"]
    if len(observed):
        days = {dt.date.fromisoformat(str(d)[:10]) for d in observed}
        if include_as_of:
            days.add(as_of)
        return ObservationGrid(tuple(sorted(days)), as_of, None)
    start = _first_day(wh, as_of)
    if start is None:
        raise ModelError("the warehouse holds no outcome data", hint="load data first (`retain ingest`)")
    # Observations start one horizon before the first recorded leaving: an export that begins years after its
    # oldest customers joined (only the customers still there then) would otherwise label every earlier date 0 for
    # lack of records, not for lack of churn (on the bank demo, 15 years of such rows made usage look risky).
    leaving = _first_leaving_day(wh, as_of)
    if leaving is not None:
        start = max(start, leaving - dt.timedelta(days=horizon_days))
    dates = regular_dates(start, as_of, step_days=frequency.days, horizon_days=horizon_days,
                          include_as_of=include_as_of)
    return ObservationGrid(dates, as_of, frequency.days)


# -- population ------------------------------------------------------------------------------------------------

def running(wh: Warehouse, grid: ObservationGrid, *, shift_days: int = 0, dates: ir.Table | None = None) -> ir.Table:
    """Paying subscription rows in service at ``as_of + shift_days`` for every observation date (column ``as_of``),
    as known at the grid's anchor."""
    subs = paying_subscriptions(wh, grid.anchor)
    # an open end as a far date: two plain inequalities make an inequality join (an "is null or" condition made
    # a filtered cross product of dates and subscriptions)
    subs = subs.mutate(_until=ibis.coalesce(subs.ended_on, ibis.literal(OPEN_END, type="date")))
    d = grid.table() if dates is None else dates
    at = d.as_of + ibis.interval(days=shift_days) if shift_days else d.as_of
    j = d.join(subs, [subs.started_on <= at, subs._until > at])
    return j.drop("_until")


def _subscribers(wh: Warehouse, grid: ObservationGrid) -> ir.Table:
    r = running(wh, grid)
    return r.select("account_id", "as_of").distinct()


def _labelled_members(wh: Warehouse, grid: ObservationGrid) -> ir.Table:
    labels = wh.as_of("outcome_labels", grid.anchor)
    d = grid.table()
    j = labels.join(d, labels.observed_on == d.as_of)
    return j.select("account_id", "as_of").distinct()


def _created_members(wh: Warehouse, grid: ObservationGrid) -> ir.Table:
    acc = wh.as_of("accounts", grid.anchor)
    d = grid.table()
    j = d.join(acc, acc.created_at.date() <= d.as_of)
    return j.select("account_id", "as_of")


def _churned_before(wh: Warehouse, grid: ObservationGrid, members: ir.Table) -> ir.Table:
    """(account_id, as_of) of members churned by an event or ``churned_at`` on or before ``as_of`` with no
    subscription start or reactivation since."""
    anchor = grid.anchor
    ev = wh.as_of("churn_events", anchor)
    acc = wh.as_of("accounts", anchor)
    points = ev.filter(ev.event_type == "churn").select("account_id", day=ev.occurred_on).union(
        acc.filter(acc.churned_at.notnull()).select("account_id", day=acc.churned_at.date()))
    returns = ev.filter(ev.event_type == "reactivation").select("account_id", day=ev.occurred_on).union(
        paying_subscriptions(wh, anchor).select("account_id", day=ibis._.started_on))
    m = members.semi_join(points, "account_id")
    points = points.view()
    last_churn = m.join(points, [m.account_id == points.account_id, points.day <= m.as_of]).group_by(
        ["account_id", "as_of"]).aggregate(churn_day=ibis._.day.max())
    returns = returns.semi_join(points.view(), "account_id").view()
    back = last_churn.left_join(returns, [last_churn.account_id == returns.account_id,
                                          returns.day <= last_churn.as_of])
    back = back.group_by([back.account_id, back.as_of]).aggregate(
        churn_day=back.churn_day.max(), return_day=back.day.max())
    gone = back.filter(back.return_day.isnull() | (back.return_day <= back.churn_day))
    return gone.select("account_id", "as_of")


def population(wh: Warehouse, grid: ObservationGrid) -> ir.Table:
    """Customers at every observation date: ``account_id``, ``as_of``, ``subscriber`` (1 when a running paying
    subscription made them one, the only members the subscription-end outcome applies to)."""
    has_subs = _count(wh, paying_subscriptions(wh, grid.anchor)) > 0
    members = _subscribers(wh, grid) if has_subs else _created_members(wh, grid)
    members = members.anti_join(_churned_before(wh, grid, members), ["account_id", "as_of"])
    members = members.mutate(subscriber=ibis.literal(1 if has_subs else 0, type="int8"))
    labelled = _labelled_members(wh, grid)
    extra = labelled.anti_join(members, ["account_id", "as_of"]).mutate(subscriber=ibis.literal(0, type="int8"))
    return members.union(extra)


# -- labels ----------------------------------------------------------------------------------------------------

def _flag(pop: ir.Table, hits: ir.Table, name: str) -> ir.Table:
    """``pop`` with a 0/1 column ``name``: whether (account_id, as_of) appears in ``hits``."""
    hits = hits.select("account_id", "as_of").distinct().mutate(**{name: ibis.literal(1, type="int8")})
    j = pop.left_join(hits, [pop.account_id == hits.account_id, pop.as_of == hits.as_of])
    return j.select(pop, j[name].fill_null(0).name(name))


def _in_window(pop: ir.Table, table: ir.Table, day: ir.DateColumn, horizon_days: int) -> ir.Table:
    """(account_id, as_of) of population rows with a row of ``table`` dated in ``(as_of, as_of + horizon]``."""
    j = pop.join(table, [pop.account_id == table.account_id, day > pop.as_of,
                         day <= pop.as_of + ibis.interval(days=horizon_days)])
    return j.select(pop.account_id, pop.as_of)


def _given_labels(wh: Warehouse, grid: ObservationGrid, kind: OutcomeKind) -> ir.Table:
    labels = wh.as_of("outcome_labels", grid.anchor)
    labels = labels.filter(labels.outcome == kind.value)
    return labels.group_by(["account_id", labels.observed_on.name("as_of")]).aggregate(
        given=_int(labels.happened).max())


def _mrr_at(wh: Warehouse, grid: ObservationGrid, pop: ir.Table, shift_days: int, name: str) -> ir.Table:
    r = running(wh, grid, shift_days=shift_days, dates=pop.select("as_of").distinct())
    return r.group_by(["account_id", "as_of"]).aggregate(**{name: r.mrr.sum()})


def _subscription_churn(wh: Warehouse, grid: ObservationGrid, pop: ir.Table, horizon_days: int) -> ir.Table:
    later = _mrr_at(wh, grid, pop, horizon_days, "mrr_after")
    j = pop.left_join(later, [pop.account_id == later.account_id, pop.as_of == later.as_of])
    gone = (j.subscriber == 1) & j.mrr_after.isnull()
    return j.select(pop, _int(gone).name("by_subscriptions"))


def _subscription_expansion(wh: Warehouse, grid: ObservationGrid, pop: ir.Table, horizon_days: int) -> ir.Table:
    now_rows = running(wh, grid, dates=pop.select("as_of").distinct())
    now = now_rows.group_by(["account_id", "as_of"]).aggregate(mrr_now=now_rows.mrr.sum())
    later = _mrr_at(wh, grid, pop, horizon_days, "mrr_after")
    held = now_rows.select("account_id", "as_of", "product_id").distinct()
    subs = paying_subscriptions(wh, grid.anchor)
    started = pop.join(subs, [pop.account_id == subs.account_id, subs.started_on > pop.as_of,
                              subs.started_on <= pop.as_of + ibis.interval(days=horizon_days)])
    started = started.select(pop.account_id, pop.as_of, subs.product_id).distinct()
    fresh = started.anti_join(held, ["account_id", "as_of", "product_id"])
    j = pop.left_join(now, [pop.account_id == now.account_id, pop.as_of == now.as_of]).select(pop, "mrr_now")
    j = j.left_join(later, [j.account_id == later.account_id, j.as_of == later.as_of]).select(j, "mrr_after")
    grew = (j.subscriber == 1) & (j.mrr_after.fill_null(0) > j.mrr_now.fill_null(0) + 0.005)
    j = j.select("account_id", "as_of", "subscriber", grew=_int(grew))
    return _flag(j, fresh, "fresh").select(
        "account_id", "as_of", "subscriber", by_subscriptions=ibis.greatest(ibis._.grew, ibis._.fresh))


def outcome_table(wh: Warehouse, grid: ObservationGrid, *, horizon_days: int,
                  kind: OutcomeKind = OutcomeKind.CHURN, pop: ir.Table | None = None) -> ir.Table:
    """``account_id``, ``as_of``, the label (``churned`` / ``expanded``: 1, 0 or missing when the window is not
    complete and no label was given) and ``outcome_source`` (which source decided a positive or a given label)."""
    pop = population(wh, grid) if pop is None else pop
    anchor = grid.anchor
    ev = wh.as_of("churn_events", anchor)
    ev = ev.filter(ev.event_type == ("churn" if kind is OutcomeKind.CHURN else "upgrade"))
    if kind is OutcomeKind.CHURN:
        base = _subscription_churn(wh, grid, pop, horizon_days)
        acc = wh.as_of("accounts", anchor).filter(ibis._.churned_at.notnull())
        base = _flag(base, _in_window(pop, acc, acc.churned_at.date(), horizon_days), "by_churned_at")
    else:
        base = _subscription_expansion(wh, grid, pop, horizon_days).mutate(
            by_churned_at=ibis.literal(0, type="int8"))
    base = _flag(base, _in_window(pop, ev, ev.occurred_on, horizon_days), "by_events")
    given = _given_labels(wh, grid, kind)
    j = base.left_join(given, [base.account_id == given.account_id, base.as_of == given.as_of]).select(
        base, "given")
    complete = j.as_of <= ibis.literal(anchor - dt.timedelta(days=horizon_days), type="date")
    derived = ibis.greatest(j.by_events, j.by_churned_at, j.by_subscriptions)
    label = ibis.coalesce(j.given, ibis.ifelse(complete, derived, ibis.null("int8")))
    source = ibis.cases(
        (j.given.notnull(), OutcomeSource.LABELS.value),
        (~complete, ibis.null("string")),
        (j.by_events == 1, OutcomeSource.CHURN_EVENTS.value),
        (j.by_churned_at == 1, OutcomeSource.CHURNED_AT.value),
        (j.subscriber == 1, OutcomeSource.SUBSCRIPTIONS.value),
        else_=ibis.null("string"),
    )
    return j.select("account_id", "as_of", label.cast("float64").name(kind.label), outcome_source=source)
