"""Each trigger as one Ibis expression over stored results or the warehouse, as of a day.

Every trigger returns the accounts where its signal fires in one shape (``SLOTS``: ``account_id``, three numbers
``n1..n3`` and two strings ``s1, s2`` of evidence), so the rule set is one ``UNION ALL`` the engine runs once
(:mod:`retain.action.evaluate`); which slot means what is declared beside each trigger in ``EVIDENCE``.

Point in time: warehouse tables are read through ``Warehouse.as_of``; a stored result is read at its latest
``as_of`` on or before the day, and only while it is fresh (health: :data:`HEALTH_MAX_AGE_DAYS`; a prediction:
its rule's ``horizon_days``). A trigger whose input is missing raises :class:`MissingInput`; the rule is then
skipped with that reason, and the others run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from retain.action import spec as s
from retain.errors import WarehouseError
from retain.metrics.dimensions import active_on, subscriptions
from retain.results.model import HealthGrade
from retain.warehouse import Warehouse, as_of_date

HEALTH_MAX_AGE_DAYS = 35  # stored health older than this is not "the health as of the day"
SLOTS = {"account_id": "string", "n1": "float64", "n2": "float64", "n3": "float64", "s1": "string", "s2": "string"}
GRADE_RANK = {HealthGrade.RED.value: 0, HealthGrade.YELLOW.value: 1, HealthGrade.GREEN.value: 2}

# what each slot of a trigger holds (the evidence frozen on the CTA uses these names)
EVIDENCE: dict[str, dict[str, str]] = {
    "health_grade_drop": {"n1": "total_before", "n2": "total_now", "s1": "grade_before", "s2": "grade_now"},
    "critical_factor": {"n1": "health_total", "s1": "critical_factor", "s2": "score_note"},
    "churn_probability": {"n1": "churn_probability", "s1": "reasons"},
    "adoption_tier": {"s1": "adoption_tier"},
    "usage_falling": {"n1": "previous", "n2": "recent", "n3": "change_pct"},
    "renewal_due": {"n1": "days_left", "n2": "health_total", "s1": "renewal_on"},
    "nps": {"n1": "nps_score", "s1": "responded_on"},
    "expansion_propensity": {"n1": "upsell_probability", "s1": "next_product"},
    "no_touch": {"n1": "days_since_touch", "n2": "cadence_days", "s1": "last_touch_on"},
}
PROBABILITY_SLOT = {"churn_probability": "n1", "expansion_propensity": "n1"}  # scales the value at stake


class MissingInput(Exception):  # noqa: N818 - a reason to skip a rule, not an error
    """A trigger's input (a stored result) is not there as of the day; the message says what to run."""


@dataclass
class Inputs:
    """What the triggers of one evaluation share: the warehouse, the day, and the stored results read once."""

    wh: Warehouse
    day: dt.date
    scored: dict[dt.date, ir.Table] | None = None  # given (the backtest): health missing at a date is scored now
    _dates: dict[str, list[dt.date]] = field(default_factory=dict)

    @property
    def today(self) -> ir.DateScalar:
        return ibis.literal(self.day, type="date")

    def stored_dates(self, name: str) -> list[dt.date]:
        if name not in self._dates:
            try:
                table = self.wh.raw_result(name)
                dates = self.wh.execute(table.select("as_of").distinct())["as_of"]
                self._dates[name] = sorted(as_of_date(d) for d in dates)
            except WarehouseError:
                self._dates[name] = []
        return self._dates[name]

    def latest(self, name: str, on_or_before: dt.date, max_age_days: int, command: str) -> tuple[ir.Table, dt.date]:
        """Result ``name`` at its latest stored date in ``[on_or_before - max_age_days, on_or_before]``."""
        dates = [d for d in self.stored_dates(name) if on_or_before - dt.timedelta(days=max_age_days) <= d
                 <= on_or_before]
        if not dates and self.scored is not None and name == "health_scores":
            return self._score(on_or_before), on_or_before
        if not dates:
            raise MissingInput(f"no '{name}' stored within {max_age_days} days before {on_or_before} "
                               f"(run `{command}`)")
        return self.wh.result(name, dates[-1]), dates[-1]

    def _score(self, day: dt.date) -> ir.Table:
        """Health as of ``day`` scored now by the shipped scorecards (same columns as the stored result)."""
        assert self.scored is not None
        if day not in self.scored:
            from retain.health.history import score

            scores = score(self.wh, day).scores
            cols = ["account_id", "total", "grade", "critical_factor", "score_note"]
            frame = scores.reindex(columns=cols).astype({"account_id": str, "total": float})
            self.scored[day] = ibis.memtable(frame.astype({"grade": object, "critical_factor": object,
                                                            "score_note": object}),
                                              schema={"account_id": "string", "total": "float64", "grade": "string",
                                                      "critical_factor": "string", "score_note": "string"})
        return self.scored[day]

    def health(self, day: dt.date | None = None) -> ir.Table:
        return self.latest("health_scores", day or self.day, HEALTH_MAX_AGE_DAYS, "retain score")[0]

    def propensity(self, horizon_days: int) -> ir.Table:
        return self.latest("propensity", self.day, horizon_days, "retain predict")[0]


def shape(t: ir.Table, **slots: ir.Value) -> ir.Table:
    """``t`` as the one shape every trigger returns (absent slots null)."""
    cols = {"account_id": t.account_id.cast("string")}
    for name, kind in SLOTS.items():
        if name != "account_id":
            cols[name] = slots[name].cast(kind) if name in slots else ibis.null(kind)
    return t.select(**cols)


def _health_grade_drop(x: Inputs, trig: s.HealthGradeDrop) -> ir.Table:
    now = x.health()
    before_day = x.day - dt.timedelta(days=trig.lookback_days)
    before = x.latest("health_scores", before_day, HEALTH_MAX_AGE_DAYS, "retain backfill")[0]
    rank = ibis.cases(*((now.grade == g, r) for g, r in GRADE_RANK.items()), else_=None)
    before = before.select("account_id", grade_before="grade", total_before="total",
                           rank_before=ibis.cases(*((before.grade == g, r) for g, r in GRADE_RANK.items()),
                                                  else_=None))
    now = now.select("account_id", "grade", "total", rank_now=rank)
    j = now.join(before, "account_id")
    j = j.filter((j.rank_now < j.rank_before) & j.grade.isin([g.value for g in trig.to]))
    return shape(j, n1=j.total_before, n2=j.total, s1=j.grade_before, s2=j.grade)


def _critical_factor(x: Inputs, trig: s.CriticalFactor) -> ir.Table:
    h = x.health()
    fired = h.critical_factor.notnull()
    if trig.factors:
        fired &= h.critical_factor.isin(list(trig.factors))
    h = h.filter(fired)
    return shape(h, n1=h.total, s1=h.critical_factor, s2=h.score_note)


def _churn_probability(x: Inputs, trig: s.ChurnProbability) -> ir.Table:
    p = x.propensity(trig.horizon_days)
    p = p.filter(p.churn_probability > trig.above)
    return shape(p, n1=p.churn_probability, s1=p.reasons.cast("string"))


def _adoption_tier(x: Inputs, trig: s.AdoptionTierIs) -> ir.Table:
    p = x.propensity(trig.horizon_days)
    p = p.filter(p.adoption_tier.isin([t.value for t in trig.tiers]))
    return shape(p, s1=p.adoption_tier)


def _usage_falling(x: Inputs, trig: s.UsageFalling) -> ir.Table:
    u = x.wh.as_of("usage", x.day)
    cut = x.today - ibis.interval(days=trig.window_days)
    u = u.filter(u.usage_on > x.today - ibis.interval(days=2 * trig.window_days))
    value = u[trig.measure.value].cast("float64").fill_null(0.0)
    agg = u.group_by("account_id").aggregate(recent=value.sum(where=u.usage_on > cut),
                                             previous=value.sum(where=u.usage_on <= cut))
    agg = agg.mutate(recent=agg.recent.fill_null(0.0), previous=agg.previous.fill_null(0.0))
    agg = agg.filter((agg.previous >= max(trig.min_previous, 1e-9))
                     & (agg.recent <= agg.previous * (1 - trig.drop_pct / 100)))
    return shape(agg, n1=agg.previous, n2=agg.recent, n3=(agg.recent - agg.previous) / agg.previous * 100)


def _renewal_due(x: Inputs, trig: s.RenewalDue) -> ir.Table:
    subs = x.wh.as_of("subscriptions", x.day)
    horizon = x.today + ibis.interval(days=trig.within_days)
    subs = subs.filter(active_on(subs.started_on, subs.ended_on, x.today) & (subs.term_end_on >= x.today)
                       & (subs.term_end_on <= horizon))
    due = subs.group_by("account_id").aggregate(renewal_on=subs.term_end_on.min())
    h = x.health()
    j = due.join(h.select("account_id", "total"), "account_id")
    j = j.filter(j.total < trig.health_below)
    return shape(j, n1=j.renewal_on.delta(x.today, unit="day"), n2=j.total, s1=j.renewal_on.cast("string"))


def _nps(x: Inputs, trig: s.Nps) -> ir.Table:
    r = x.wh.as_of("survey_responses", x.day)
    since = ibis.literal(dt.datetime.combine(x.day - dt.timedelta(days=trig.within_days), dt.time(), tzinfo=dt.UTC),
                         type="timestamp('UTC')")
    r = r.filter((r.survey_type == "nps") & r.account_id.notnull() & r.score.notnull() & (r.responded_at >= since))
    last = r.group_by("account_id").aggregate(score=r.score.argmax(r.responded_at), at=r.responded_at.max())
    hit = last.score <= 6 if trig.category is s.NpsCategory.DETRACTOR else last.score >= 9
    last = last.filter(hit)
    return shape(last, n1=last.score, s1=last.at.date().cast("string"))


def _expansion_propensity(x: Inputs, trig: s.ExpansionPropensity) -> ir.Table:
    p = x.propensity(trig.horizon_days)
    p = p.filter(p.upsell_probability > trig.above)
    return shape(p, n1=p.upsell_probability, s1=p.next_product)


def _no_touch(x: Inputs, trig: s.NoTouch) -> ir.Table:
    a = x.wh.as_of("activities", x.day)
    a = a.filter(a.account_id.notnull() & a.activity_type.isin(list(trig.activity_types))
                 & (a.direction.isnull() | (a.direction != "internal")))
    last = a.group_by("account_id").aggregate(last_at=a.occurred_at.max())
    acc = x.wh.as_of("accounts", x.day)
    cadence = ibis.literal(trig.days, type="int64")
    if trig.days_by_segment:
        cadence = ibis.cases(*((acc.segment == seg, days) for seg, days in trig.days_by_segment.items()),
                             else_=trig.days).cast("int64")
    acc = acc.select("account_id", "created_at", cadence=cadence)
    j = acc.left_join(last, "account_id").drop("account_id_right")
    since = x.today.delta(j.last_at.date(), unit="day")
    age = x.today.delta(j.created_at.date(), unit="day")
    j = j.mutate(since=since, age=age)
    j = j.filter((j.since >= j.cadence) | (j.last_at.isnull() & (j.age >= j.cadence)))
    return shape(j, n1=j.since, n2=j.cadence, s1=j.last_at.date().cast("string"))


TRIGGERS: dict[str, Callable[[Inputs, object], ir.Table]] = {
    "health_grade_drop": _health_grade_drop,
    "critical_factor": _critical_factor,
    "churn_probability": _churn_probability,
    "adoption_tier": _adoption_tier,
    "usage_falling": _usage_falling,
    "renewal_due": _renewal_due,
    "nps": _nps,
    "expansion_propensity": _expansion_propensity,
    "no_touch": _no_touch,
}


def active_accounts(x: Inputs) -> ir.Table:
    """Accounts with a subscription in service on the day, with their ARR (the population every rule watches)."""
    subs = subscriptions(x.wh, x.day)
    subs = subs.filter(active_on(subs.started_on, subs.ended_on, x.today))
    return subs.group_by("account_id").aggregate(arr=subs.mrr.sum() * 12)
