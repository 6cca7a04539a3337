"""Each trigger as one Ibis expression over stored results or the warehouse, as of a day.

Every trigger returns the accounts where its signal fires in one shape (``SLOTS``: ``account_id``, three numbers
``n1..n3`` and two strings ``s1, s2`` of evidence), so the rule set is one ``UNION ALL`` the engine runs once
(:mod:`retain.action.evaluate`); which slot means what is declared beside each trigger in ``EVIDENCE``.

Point in time: warehouse tables are read through ``Warehouse.as_of``; a stored result is read at its latest
``as_of`` on or before the day, and only while it is fresh (health: :data:`HEALTH_MAX_AGE_DAYS`; a prediction:
its rule's ``horizon_days``; call events: :data:`CALLS_MAX_AGE_DAYS`). A trigger whose input is missing raises
:class:`MissingInput`; the rule is then skipped with that reason, and the others run.

Subjects: most triggers fire on accounts in service, owned by the account's team. Those in :data:`OWN_SUBJECT`
name their own owner and value (two more columns, ``owner_id`` and ``value``): a lead (its id where an account id
goes; owner the lead's) or a deal (its account; owner the deal's, value its amount), and they are not restricted to
accounts in service (a dropped lead or a new-business deal has none).
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
CALLS_MAX_AGE_DAYS = 35  # stored call events older than this miss too many calls to judge follow-ups
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
    "callback_missed": {"n1": "days_since_request", "n2": "days_overdue", "s1": "requested_on", "s2": "asked_for"},
    "lead_dropped": {"n1": "touches", "n2": "days_since_touch", "n3": "interest_signals", "s1": "last_touch_on",
                     "s2": "company"},
    "deal_below_benchmark": {"n1": "p_win", "n2": "stage_benchmark", "n3": "deals_below", "s1": "opportunity_id",
                             "s2": "reasons"},
}
# triggers whose rows carry their own ``owner_id`` and ``value`` (see the module docstring), with what the value is
OWN_SUBJECT: dict[str, str | None] = {"lead_dropped": None, "deal_below_benchmark": "deal amount"}
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

    def call_events(self) -> ir.Table:
        """The stored call events with the account and lead of each call (as known on the day)."""
        events = self.latest("call_events", self.day, CALLS_MAX_AGE_DAYS, "retain calls analyze")[0]
        conv = self.wh.as_of("conversations", self.day).select("conversation_id", "account_id", "lead_id")
        return events.join(conv, "conversation_id")

    @property
    def end_of_day(self) -> ir.TimestampScalar:
        """The first instant after the day (UTC): what is known "as of the day" happened before it."""
        return ibis.literal(dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
                            type="timestamp('UTC')")

    def before(self, days: int) -> ir.TimestampScalar:
        """``days`` days before the end of the day."""
        return ibis.literal(dt.datetime.combine(self.day + dt.timedelta(days=1 - days), dt.time(), tzinfo=dt.UTC),
                            type="timestamp('UTC')")


def shape(t: ir.Table, owned: tuple[ir.Value, ir.Value] | None = None, **slots: ir.Value) -> ir.Table:
    """``t`` as the one shape every trigger returns (absent slots null); ``owned``: the (owner, value) of a trigger
    in :data:`OWN_SUBJECT`."""
    cols = {"account_id": t.account_id.cast("string")}
    for name, kind in SLOTS.items():
        if name != "account_id":
            cols[name] = slots[name].cast(kind) if name in slots else ibis.null(kind)
    if owned is not None:
        cols["owner_id"], cols["value"] = owned[0].cast("string"), owned[1].cast("float64")
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


def _first(t: ir.Table, by: str, *order: ir.Value) -> ir.Table:
    """The first row of ``t`` per ``by`` in ``order`` (deterministic: ties are broken by the order's last key)."""
    rank = ibis.row_number().over(ibis.window(group_by=by, order_by=list(order)))
    return t.mutate(_rank=rank).filter(ibis._._rank == 0).drop("_rank")


def _callback_missed(x: Inputs, trig: s.CallbackMissed) -> ir.Table:
    """The account's latest callback request in ``lookback_days``: its promised time (else the call's) plus
    ``within_days`` has passed, and no call or customer-facing activity with the account came after the request."""
    ev = x.call_events()
    ev = ev.filter((ev.event == "callback_requested") & ev.account_id.notnull() & (ev.occurred_at >= x.before(
        trig.lookback_days)) & (ev.occurred_at < x.end_of_day))
    last = _first(ev.select("account_id", "occurred_at", "due_at", "due_expression", "conversation_id"),
                  "account_id", ibis.desc("occurred_at"), "conversation_id")
    a = x.wh.as_of("activities", x.day)
    a = a.filter(a.account_id.notnull() & a.activity_type.isin(list(trig.activity_types))
                 & (a.direction.isnull() | (a.direction != "internal")))
    calls = x.wh.as_of("conversations", x.day)
    calls = calls.filter(calls.account_id.notnull())
    touches = ibis.union(a.select("account_id", at=a.occurred_at), calls.select("account_id", at=calls.started_at),
                         distinct=False)
    j = last.left_join(touches, [last.account_id == touches.account_id, touches.at > last.occurred_at])
    j = j.group_by([last.account_id, last.occurred_at, last.due_at, last.due_expression]).aggregate(
        after=j.at.count())
    deadline = ibis.coalesce(j.due_at, j.occurred_at) + ibis.interval(days=trig.within_days)
    j = j.filter((j.after == 0) & (deadline < x.end_of_day))
    return shape(j, n1=x.today.delta(j.occurred_at.date(), unit="day"), n2=x.today.delta(deadline.date(), unit="day"),
                 s1=j.occurred_at.date().cast("string"), s2=j.due_expression)


def _lead_dropped(x: Inputs, trig: s.LeadDropped) -> ir.Table:
    """Leads whose customer said a buying signal on a call, touched at most ``max_touches`` times (activities, and
    recorded calls the CRM did not log: :func:`retain.conversations.cadence.lead_touches`'s count), last more than
    ``days`` ago, neither converted nor disqualified."""
    from retain.conversations.cadence import TOUCH_TYPES

    ev = x.call_events()
    ev = ev.filter(ev.lead_id.notnull() & (ev.role == "customer") & ev.event.isin(list(trig.interest))
                   & (ev.occurred_at < x.end_of_day))
    interest = ev.group_by("lead_id").aggregate(signals=ev.event.nunique())
    a = x.wh.as_of("activities", x.day)
    a = a.filter(a.lead_id.notnull() & a.activity_type.isin(list(TOUCH_TYPES)))
    acts = a.group_by("lead_id").aggregate(n_act=a.count(), n_call_act=(a.activity_type == "call").sum(),
                                           last_act=a.occurred_at.max())
    c = x.wh.as_of("conversations", x.day)
    c = c.filter(c.lead_id.notnull())
    calls = c.group_by("lead_id").aggregate(n_rec=c.count(), last_call=c.started_at.max())
    leads = x.wh.as_of("leads", x.day)
    leads = leads.filter(leads.converted_at.isnull() & ~leads.status.isin(["converted", "disqualified"]))
    j = (leads.select("lead_id", "owner_id", "company").join(interest, "lead_id")
         .left_join(acts, "lead_id").drop("lead_id_right").left_join(calls, "lead_id").drop("lead_id_right"))
    extra = (j.n_rec.fill_null(0) - j.n_call_act.fill_null(0)).clip(lower=0)
    j = j.mutate(touches=j.n_act.fill_null(0) + extra,
                 last_at=ibis.greatest(j.last_act.fill_null(j.last_call), j.last_call.fill_null(j.last_act)))
    j = j.filter((j.touches >= 1) & (j.touches <= trig.max_touches) & (j.last_at < x.before(trig.days))
                 & (j.last_at >= x.before(trig.lookback_days)))
    j = j.mutate(account_id=j.lead_id)
    return shape(j, (j.owner_id, ibis.literal(0.0)), n1=j.touches, n2=x.today.delta(j.last_at.date(), unit="day"),
                 n3=j.signals, s1=j.last_at.date().cast("string"), s2=j.company)


def _deal_below_benchmark(x: Inputs, trig: s.DealBelowBenchmark) -> ir.Table:
    """Open deals (as known on the day) whose stored win probability is below their stage's benchmark; per account
    the one furthest below, with how many are."""
    o = x.latest("opportunity_scores", x.day, trig.max_age_days, "retain run")[0]
    o = o.filter(o.below_benchmark & o.account_id.notnull()).mutate(gap=o.stage_benchmark - o.p_win)
    o = o.filter(o.gap >= trig.min_gap)
    deals = x.wh.as_of("opportunities", x.day)
    deals = deals.filter(deals.closed_at.isnull()).select("opportunity_id", deal_amount=deals.amount)
    o = o.join(deals, "opportunity_id")
    o = o.mutate(amount=ibis.coalesce(o.amount, o.deal_amount, 0.0))  # the scored amount, else the deal's
    count = o.group_by("account_id").aggregate(deals=o.count())
    top = _first(o.select("account_id", "opportunity_id", "owner_id", "p_win", "stage_benchmark", "reasons",
                          "amount", "gap"), "account_id", ibis.desc("gap"), "opportunity_id")
    j = top.join(count, "account_id")
    return shape(j, (j.owner_id, j.amount), n1=j.p_win, n2=j.stage_benchmark, n3=j.deals, s1=j.opportunity_id,
                 s2=j.reasons)


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
    "callback_missed": _callback_missed,
    "lead_dropped": _lead_dropped,
    "deal_below_benchmark": _deal_below_benchmark,
}


def active_accounts(x: Inputs) -> ir.Table:
    """Accounts with a subscription in service on the day, with their ARR (the population every rule watches)."""
    subs = subscriptions(x.wh, x.day)
    subs = subs.filter(active_on(subs.started_on, subs.ended_on, x.today))
    return subs.group_by("account_id").aggregate(arr=subs.mrr.sum() * 12)
