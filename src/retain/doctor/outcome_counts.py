"""The outcome counts analytics need, as of a day: churns and when, labels, expansions, deals, surveys, calls.

Churns are counted per source (the names of :class:`retain.models.frame.OutcomeSource`):

- ``subscriptions``: the end of a period of an account with no other period of that account in service on its end
  day (the account stopped being a customer); trials are left out, as the metrics do;
- ``churn_events``: rows of type ``churn``;
- ``churned_at``: accounts with ``accounts.churned_at`` (hidden until that day, like every revealed value).

An expansion is a day on which an account that already held a running subscription either raised its MRR or
started a product it did not hold the day before (at no lower MRR), plus ``churn_events`` of type ``upgrade`` and
``outcome_labels`` about expansion that happened. Everything is an aggregate in the engine; only counts come back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import ibis
import ibis.expr.types as ir
import pandas as pd

from retain.doctor.report import ChurnSource, Outcomes
from retain.metrics.dimensions import count_if
from retain.models.frame import OutcomeSource
from retain.warehouse import Warehouse

PERIOD_DAYS = {"monthly": 30.44, "quarterly": 91.31, "semi_annual": 182.62, "annual": 365.25, "multi_year": 730.5,
               "other": 30.44}
ALL_SOURCES = "all"


def paying(wh: Warehouse, day: dt.date) -> ir.Table:
    """Subscription periods known by ``day``, trials left out."""
    s = wh.as_of("subscriptions", day)
    return s.filter(s.status.isnull() | (s.status != "trial"))


def _running_on(s: ir.Table, when: ir.Value) -> ir.BooleanValue:
    return (s.started_on <= when) & (s.ended_on.isnull() | (s.ended_on > when))


def subscription_churns(wh: Warehouse, day: dt.date) -> ir.Table:
    """``(account_id, churned_on)``: ends of periods with no other period of the account in service that day."""
    s = paying(wh, day)
    ended = s.filter(s.ended_on.notnull()).select("account_id", churned_on=s.ended_on)
    other = s.select(o_account=s.account_id, o_start=s.started_on, o_end=s.ended_on)
    kept = ended.anti_join(other, [ended.account_id == other.o_account, other.o_start <= ended.churned_on,
                                   other.o_end.isnull() | (other.o_end > ended.churned_on)])
    return kept.distinct()


def churn_rows(wh: Warehouse, day: dt.date) -> ir.Table:
    """``(source, account_id, churned_on)`` of every churn source (labels apart)."""
    subs = subscription_churns(wh, day).mutate(source=ibis.literal(OutcomeSource.SUBSCRIPTIONS.value))
    e = wh.as_of("churn_events", day)
    e = e.filter(e.event_type == "churn")
    events = e.select(source=ibis.literal(OutcomeSource.CHURN_EVENTS.value), account_id=e.account_id,
                      churned_on=e.occurred_on)
    a = wh.as_of("accounts", day)
    a = a.filter(a.churned_at.notnull())
    flagged = a.select(source=ibis.literal(OutcomeSource.CHURNED_AT.value), account_id=a.account_id,
                       churned_on=a.churned_at.cast("timestamp('UTC')").date())
    return ibis.union(subs.select("source", "account_id", "churned_on"), events, flagged)


def _churn_summary(rows: ir.Table) -> ir.Table:
    month = rows.churned_on.truncate("M")
    per_source = rows.group_by("source").aggregate(
        accounts=rows.account_id.nunique(), dates=rows.churned_on.nunique(), months=month.nunique(),
        first_on=rows.churned_on.min(), last_on=rows.churned_on.max())
    overall = rows.aggregate(
        accounts=rows.account_id.nunique(), dates=rows.churned_on.nunique(), months=month.nunique(),
        first_on=rows.churned_on.min(), last_on=rows.churned_on.max()).mutate(source=ibis.literal(ALL_SOURCES))
    return ibis.union(per_source, overall.select(*per_source.columns))


def _date(value) -> dt.date | None:
    if value is None or pd.isna(value):
        return None
    return value.date() if isinstance(value, pd.Timestamp | dt.datetime) else value


def churn_sources(wh: Warehouse, day: dt.date) -> tuple[tuple[ChurnSource, ...], ChurnSource]:
    """Churns per source (sources with none left out) and over all sources, in one query."""
    frame = wh.execute(_churn_summary(churn_rows(wh, day)))
    found = {r.source: ChurnSource(r.source, int(r.accounts), int(r.dates), int(r.months), _date(r.first_on),
                                   _date(r.last_on)) for r in frame.itertuples(index=False)}
    overall = found.pop(ALL_SOURCES, None) or ChurnSource(ALL_SOURCES, 0, 0, 0)
    order = [s.value for s in OutcomeSource]
    return tuple(found[s] for s in order if s in found and found[s].accounts), overall


def expansion_days(wh: Warehouse, day: dt.date) -> ir.Table:
    """``(account_id, on)``: days an account already holding a subscription raised MRR or added a product."""
    s = paying(wh, day)
    points = s.select(p_account=s.account_id, on=s.started_on).distinct()
    j = points.join(s, points.p_account == s.account_id)
    before = _running_on(j, j.on - ibis.interval(days=1))
    after = _running_on(j, j.on)
    per_product = j.group_by(["account_id", "on", "product_id"]).aggregate(
        b=before.max(), a=after.max(), mrr_b=j.mrr.sum(where=before), mrr_a=j.mrr.sum(where=after))
    p = per_product
    per_day = p.group_by(["account_id", "on"]).aggregate(
        had=p.b.max(), mrr_b=p.mrr_b.sum(), mrr_a=p.mrr_a.sum(), new=count_if(p.a & ~p.b))
    d = per_day.mutate(mrr_b=per_day.mrr_b.fill_null(0.0), mrr_a=per_day.mrr_a.fill_null(0.0))
    grew = d.had & ((d.mrr_a > d.mrr_b + 1e-9) | ((d.new > 0) & (d.mrr_a >= d.mrr_b - 1e-9)))
    return d.filter(grew).select("account_id", "on")


def _expansion_expr(wh: Warehouse, day: dt.date) -> ir.Table:
    subs = expansion_days(wh, day)
    e = wh.as_of("churn_events", day)
    e = e.filter(e.event_type == "upgrade")
    lab = wh.as_of("outcome_labels", day)
    lab = lab.filter((lab.outcome == "expansion") & lab.happened)
    rows = ibis.union(
        subs.select("account_id", on=subs.on, kind=ibis.literal("subscriptions")),
        e.select("account_id", on=e.occurred_on, kind=ibis.literal("churn_events")),
        lab.select("account_id", on=lab.observed_on, kind=ibis.literal("labels")),
    )
    return rows.aggregate(n=rows.count(), accounts=rows.account_id.nunique(),
                          labels=count_if(rows.kind == "labels"))


def _labels(wh: Warehouse, day: dt.date) -> pd.DataFrame:
    lab = wh.as_of("outcome_labels", day)
    return wh.execute(lab.group_by("outcome").aggregate(
        rows=lab.count(), dates=lab.observed_on.nunique(), happened=count_if(lab.happened)))


def _subscription_span(wh: Warehouse, day: dt.date) -> tuple[int, int, float]:
    """Accounts holding a running subscription, accounts with any, and the longest history in billing periods."""
    s = paying(wh, day)
    today = ibis.literal(day, type="date")
    period = wh.execute(s.group_by(p=s.billing_period.fill_null("monthly")).aggregate(n=s.count()))
    commonest = Counter(dict(zip(period["p"], period["n"], strict=True))).most_common(1)
    period_days = PERIOD_DAYS.get(commonest[0][0], 30.44) if commonest else 30.44
    end = ibis.least(s.ended_on.fill_null(today), today)
    spans = s.group_by("account_id").aggregate(first=s.started_on.min(), last=end.max(),
                                               running=_running_on(s, today).max())
    row = wh.execute(spans.aggregate(
        accounts=spans.count(), running=count_if(spans.running),
        longest=spans.last.delta(spans.first, unit="day").max())).iloc[0]
    longest = 0 if pd.isna(row["longest"]) else float(row["longest"])
    running = 0 if pd.isna(row["running"]) else int(row["running"])
    return running, int(row["accounts"]), round(longest / period_days, 1)


def _counts(wh: Warehouse, day: dt.date) -> dict[str, int]:
    """Repeat buyers, deals won, lost and open, conversations and those with words, in one query."""
    t = wh.as_of("transactions", day)
    buyers = t.group_by("account_id").aggregate(days=t.occurred_at.cast("timestamp('UTC')").date().nunique())
    o = wh.as_of("opportunities", day)
    closed = o.closed_at.notnull()
    won = o.is_won.fill_null(o.stage == "closed_won")
    c = wh.as_of("conversations", day)
    u = wh.as_of("utterances", day)
    parts = [
        buyers.aggregate(repeat_buyers=count_if(buyers.days >= 2)),
        o.aggregate(deals_won=count_if(closed & won), deals_lost=count_if(closed & ~won),
                    deals_open=count_if(~closed)),
        c.aggregate(conversations=c.count()),
        c.semi_join(u, "conversation_id").aggregate(conversations_with_words=ibis._.count()),
    ]
    row = parts[0]
    for part in parts[1:]:
        row = row.cross_join(part)
    first = wh.execute(row).iloc[0]
    return {k: 0 if pd.isna(v) else int(v) for k, v in first.items()}


def surveys(wh: Warehouse, day: dt.date) -> dict[str, int]:
    s = wh.as_of("survey_responses", day)
    frame = wh.execute(s.group_by("survey_type").aggregate(n=s.count()).order_by("survey_type"))
    return {str(k): int(v) for k, v in zip(frame["survey_type"], frame["n"], strict=True)}


def outcomes(wh: Warehouse, day: dt.date) -> Outcomes:
    """Every outcome count of :class:`Outcomes` as of ``day``."""
    sources, overall = churn_sources(wh, day)
    labels = _labels(wh, day).set_index("outcome")
    churn_labels = labels.loc["churn"] if "churn" in labels.index else None
    expansion = wh.execute(_expansion_expr(wh, day)).iloc[0]
    running, with_subs, periods = _subscription_span(wh, day)
    counts = _counts(wh, day)
    return Outcomes(
        churn_sources=sources, churned_accounts=overall.accounts, churn_dates=overall.dates,
        churn_months=overall.months, first_churn_on=overall.first_on, last_churn_on=overall.last_on,
        label_rows=int(churn_labels["rows"]) if churn_labels is not None else 0,
        label_dates=int(churn_labels["dates"]) if churn_labels is not None else 0,
        labels_churned=int(churn_labels["happened"] or 0) if churn_labels is not None else 0,
        expansion_labels=int(expansion["labels"] or 0), expansions=int(expansion["n"]),
        expansion_accounts=int(expansion["accounts"]), running_accounts=running, subscription_accounts=with_subs,
        max_periods=periods, repeat_buyers=counts["repeat_buyers"], deals_won=counts["deals_won"],
        deals_lost=counts["deals_lost"], deals_open=counts["deals_open"], surveys=surveys(wh, day),
        conversations=counts["conversations"], conversations_with_words=counts["conversations_with_words"],
    )
