"""What a success plan's objective can measure: a closed vocabulary of account metrics, each an Ibis expression as
of a day.

Every metric returns one shape, ``account_id, value`` (float), computed from what the warehouse knew at the end of
the day (``Warehouse.as_of``; stored health at its latest date within :data:`HEALTH_MAX_AGE_DAYS` before it), so a
plan's start value and each refresh read no later rows. An account without data for a metric has no row (its value
is unknown, not zero), except where zero is the honest answer (no usage rows in the window: 0 active users).

Definitions (``WINDOW_DAYS`` = 30 days ending on the day):

- ``license_utilization``: average daily active users over the window / seats (largest ``quantity`` among the
  subscriptions in service on the day); no seats recorded: unknown.
- ``active_users``: average daily active users over the window (a day's users: the largest count over features).
- ``events_per_month``: events over the window (a day's events: the ``all`` feature row when there is one, else
  the sum over features).
- ``health_total``: the stored health total (0-100).
- ``nps``: the account's NPS over the last :data:`NPS_DAYS` days, -100..100 (% promoters - % detractors).
- ``arr``: 12 x MRR of the subscriptions in service on the day.
- ``products_held``: distinct products in service on the day.
- ``in_service``: 1 when a subscription is in service on the day, else 0 (a renewal objective's metric).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum

import ibis
import ibis.expr.types as ir

from retain.errors import WarehouseError
from retain.metrics.dimensions import active_on, subscriptions
from retain.warehouse import Warehouse, as_of_date

WINDOW_DAYS = 30
NPS_DAYS = 365
HEALTH_MAX_AGE_DAYS = 35
INLINE_ACCOUNTS = 500


class PlanMetric(StrEnum):
    """What an objective measures (see the module docstring for each definition)."""

    LICENSE_UTILIZATION = "license_utilization"
    ACTIVE_USERS = "active_users"
    EVENTS_PER_MONTH = "events_per_month"
    HEALTH_TOTAL = "health_total"
    NPS = "nps"
    ARR = "arr"
    PRODUCTS_HELD = "products_held"
    IN_SERVICE = "in_service"

    @property
    def unit(self) -> str:
        return UNITS[self]


UNITS = {PlanMetric.LICENSE_UTILIZATION: "ratio", PlanMetric.ACTIVE_USERS: "users",
         PlanMetric.EVENTS_PER_MONTH: "events", PlanMetric.HEALTH_TOTAL: "points", PlanMetric.NPS: "nps",
         PlanMetric.ARR: "money", PlanMetric.PRODUCTS_HELD: "products", PlanMetric.IN_SERVICE: "yes/no"}


def _day(day: dt.date) -> ir.DateScalar:
    return ibis.literal(day, type="date")


def _window(wh: Warehouse, day: dt.date) -> ir.Table:
    u = wh.as_of("usage", day)
    return u.filter(u.usage_on > _day(day - dt.timedelta(days=WINDOW_DAYS)))


def _daily_users(wh: Warehouse, day: dt.date) -> ir.Table:
    u = _window(wh, day)
    per_day = u.group_by(["account_id", "usage_on"]).aggregate(users=u.active_users.max())
    return per_day.group_by("account_id").aggregate(value=per_day.users.fill_null(0).sum().cast("float64")
                                                    / WINDOW_DAYS)


def _in_service(wh: Warehouse, day: dt.date) -> ir.Table:
    subs = subscriptions(wh, day)
    return subs.filter(active_on(subs.started_on, subs.ended_on, _day(day)))


def active_users(wh: Warehouse, day: dt.date) -> ir.Table:
    """Average daily active users over the window, for accounts in service (no usage: 0)."""
    held = _in_service(wh, day).select("account_id").distinct()
    j = held.left_join(_daily_users(wh, day), "account_id")
    return j.select(account_id=j.account_id, value=j.value.fill_null(0.0))


def license_utilization(wh: Warehouse, day: dt.date) -> ir.Table:
    """Average daily active users / seats (largest quantity in service)."""
    raw = wh.as_of("subscriptions", day)
    subs = raw.filter(active_on(raw.started_on, raw.ended_on, _day(day)) & (raw.quantity > 0))
    seats = subs.group_by("account_id").aggregate(seats=subs.quantity.max().cast("float64"))
    j = seats.left_join(_daily_users(wh, day), "account_id")
    return j.select(account_id=j.account_id, value=j.value.fill_null(0.0) / j.seats)


def events_per_month(wh: Warehouse, day: dt.date) -> ir.Table:
    """Events over the window (the ``all`` row of a day when present, else the sum of its features)."""
    u = _window(wh, day)
    ev = u.events.cast("float64").fill_null(0.0)
    per_day = u.group_by(["account_id", "usage_on"]).aggregate(
        total=ev.sum(where=u.feature == "all"), parts=ev.sum(where=u.feature != "all"))
    daily = per_day.total.coalesce(per_day.parts).fill_null(0.0)
    out = per_day.group_by("account_id").aggregate(value=daily.sum())
    held = _in_service(wh, day).select("account_id").distinct()
    j = held.left_join(out, "account_id")
    return j.select(account_id=j.account_id, value=j.value.fill_null(0.0))


def health_total(wh: Warehouse, day: dt.date) -> ir.Table:
    """The stored health total at its latest date within ``HEALTH_MAX_AGE_DAYS`` before the day."""
    try:
        raw = wh.raw_result("health_scores")
    except WarehouseError:
        return ibis.memtable({"account_id": [], "value": []},
                             schema={"account_id": "string", "value": "float64"})
    dates = [as_of_date(d) for d in wh.execute(raw.select("as_of").distinct())["as_of"]]
    dates = sorted(d for d in dates if day - dt.timedelta(days=HEALTH_MAX_AGE_DAYS) <= d <= day)
    if not dates:
        return ibis.memtable({"account_id": [], "value": []},
                             schema={"account_id": "string", "value": "float64"})
    h = wh.result("health_scores", dates[-1])
    h = h.group_by("account_id").aggregate(value=h.total.mean())  # one scorecard per account; mean guards a second
    return h.select(account_id=h.account_id.cast("string"), value=h.value.cast("float64"))


def nps(wh: Warehouse, day: dt.date) -> ir.Table:
    """NPS of the account's answers over the last ``NPS_DAYS`` days (-100..100)."""
    r = wh.as_of("survey_responses", day)
    since = dt.datetime.combine(day - dt.timedelta(days=NPS_DAYS - 1), dt.time(), tzinfo=dt.UTC)
    r = r.filter((r.survey_type == "nps") & r.account_id.notnull() & r.score.notnull()
                 & (r.responded_at >= ibis.literal(since, type="timestamp('UTC')")))
    promoter = (r.score >= 9).cast("float64")
    detractor = (r.score <= 6).cast("float64")
    out = r.group_by("account_id").aggregate(value=(promoter.mean() - detractor.mean()) * 100)
    return out


def arr(wh: Warehouse, day: dt.date) -> ir.Table:
    """12 x MRR in service on the day."""
    subs = _in_service(wh, day)
    return subs.group_by("account_id").aggregate(value=subs.mrr.sum() * 12)


def products_held(wh: Warehouse, day: dt.date) -> ir.Table:
    """Distinct products in service on the day."""
    subs = _in_service(wh, day)
    return subs.group_by("account_id").aggregate(value=subs.product_id.nunique().cast("float64"))


def in_service(wh: Warehouse, day: dt.date) -> ir.Table:
    """1 for every account known by the day with a subscription in service, else 0."""
    acc = wh.as_of("accounts", day).select("account_id")
    held = _in_service(wh, day).select("account_id").distinct().mutate(held=ibis.literal(1.0))
    j = acc.left_join(held, "account_id")
    return j.select(account_id=j.account_id, value=j.held.fill_null(0.0))


METRICS: dict[PlanMetric, Callable[[Warehouse, dt.date], ir.Table]] = {
    PlanMetric.LICENSE_UTILIZATION: license_utilization,
    PlanMetric.ACTIVE_USERS: active_users,
    PlanMetric.EVENTS_PER_MONTH: events_per_month,
    PlanMetric.HEALTH_TOTAL: health_total,
    PlanMetric.NPS: nps,
    PlanMetric.ARR: arr,
    PlanMetric.PRODUCTS_HELD: products_held,
    PlanMetric.IN_SERVICE: in_service,
}


def metric_expression(wh: Warehouse, metric: PlanMetric, day: dt.date, accounts: list[str] | None = None
                      ) -> ir.Table:
    """``account_id, value`` of ``metric`` as of ``day`` (only ``accounts`` when given): one engine query."""
    t = METRICS[PlanMetric(metric)](wh, day)
    t = t.select(account_id=t.account_id.cast("string"), value=t.value.cast("float64"))
    if accounts is not None and len(accounts) <= INLINE_ACCOUNTS:
        t = t.filter(t.account_id.isin(accounts))
    elif accounts is not None:  # a long list: a semi-join on a small table, not a huge IN (...) in the SQL
        keys = ibis.memtable({"account_id": list(accounts)}, schema={"account_id": "string"})
        t = t.semi_join(keys, t.account_id == keys.account_id)
    return t


def metric_values(wh: Warehouse, metric: PlanMetric, day: dt.date, accounts: list[str] | None = None
                  ) -> dict[str, float]:
    """The values of :func:`metric_expression`, by account (accounts without a value are absent)."""
    frame = wh.execute(metric_expression(wh, metric, day, accounts))
    frame = frame[frame["value"].notna()]
    return dict(zip(frame["account_id"].astype(str), frame["value"].astype(float), strict=True))
