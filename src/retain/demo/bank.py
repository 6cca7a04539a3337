"""A retail bank (``retain demo --profile bank``): customers holding products, without seats, CRM or calls.

Customers (individuals; over half were customers before the data starts) hold checking, savings, a credit card,
a personal loan, a mortgage or managed investments: each holding is a ``subscriptions`` row with an open and a
close date, ``mrr`` the monthly revenue (fees and margin) it brings, no quantity and no billing period.

A hidden weekly health per customer (:func:`retain.demo._latent.weekly_health`) drives everything. Each week a
customer may decide to leave, with log-odds

    base - 1.7 h + stickiness(products held) + 0.9 [a complaint in the last ~90 days]
         + 1.0 [an NPS <= 4 in the last ~90 days] + 0.5 [in the first year] + segment

where stickiness is 0, -0.35, -1.5, -1.9, -2.2 for 1, 2, 3, 4, 5+ products (the known banking pattern: three or more
products make a customer much stickier). A customer who decides closes every holding 2 to 10 weeks later; in
between, activity winds down (:mod:`retain.demo.bank_activity`). Healthy customers open more products; unhappy ones
with several close one now and then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from retain.demo._base import DAY, NO_DAY, Clock, arrow_table, ids, pick, sigmoid, stream
from retain.demo._latent import recent_matrix, recurring_days, truth_dates, weekly_health, weekly_truth
from retain.demo.names import person_names
from retain.demo.outcomes import events_table
from retain.demo.spec import DemoSpec
from retain.demo.touchpoints import nps_score

STEPS = ("customers", "health", "touchpoints", "holdings", "activity", "usage")

SEGMENTS = ("mass_market", "affluent", "private")
SEGMENT_SHARE = (0.75, 0.2, 0.05)
SEGMENT_HEALTH = (-0.05, 0.1, 0.25)
SEGMENT_REVENUE = (1.0, 2.2, 5.0)
SEGMENT_CHURN = np.array([0.0, -0.2, -0.5])
REGIONS = ("northeast", "midwest", "south", "west")
CHANNELS = ("branch", "online", "referral", "employer", "paid")
CHANNEL_SHARE = (0.35, 0.3, 0.12, 0.1, 0.13)
INCOME_BANDS = ("low", "middle", "upper_middle", "high")
# product_id, name, family, monthly revenue (mass market), take-up at joining, weekly take-up later
PRODUCTS = (
    ("p_checking", "Everyday Checking", "deposits", 9.0, 0.92, 0.004),
    ("p_savings", "Savings Account", "deposits", 6.0, 0.42, 0.0022),
    ("p_credit_card", "Rewards Credit Card", "cards", 16.0, 0.38, 0.0022),
    ("p_personal_loan", "Personal Loan", "lending", 45.0, 0.1, 0.001),
    ("p_mortgage", "Home Mortgage", "lending", 210.0, 0.13, 0.0005),
    ("p_investments", "Managed Investments", "wealth", 55.0, 0.06, 0.0007),
)
K = len(PRODUCTS)
CHECKING, CARD, LOAN, MORTGAGE, INVEST = 0, 2, 3, 4, 5
TERM_DAYS = {LOAN: 5 * 365, MORTGAGE: 25 * 365}
STICKINESS = np.array([0.0, 0.0, -0.35, -1.5, -1.9, -2.2, -2.2])  # by products held, 0..6
CHURN_BASE = -6.2
CHURN_HEALTH = 1.7
CHURN_COMPLAINT = 0.9
CHURN_DETRACTOR = 1.0
CHURN_FIRST_YEAR = 0.5
RECENT_WEEKS = 13
CLOSE_REASONS = ("fees", "better_rate", "service", "moved", "no_longer_needed", "other")
ENDS = ("open", "churn", "closed")


@dataclass
class Customers:
    account_id: np.ndarray
    created_day: np.ndarray
    segment: np.ndarray  # index into SEGMENTS
    age: np.ndarray
    channel: np.ndarray
    owner: np.ndarray  # index into the relationship managers, -1 when none (mass market)
    columns: dict[str, object] = field(default_factory=dict)  # canonical `accounts` columns
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # extra export columns (kept as `attributes`)

    def __len__(self) -> int:
        return len(self.account_id)


def build_customers(spec: DemoSpec, clock: Clock, n_rm: int) -> Customers:
    rng = stream(spec, "bank-customers")
    n = spec.accounts
    existing = rng.random(n) < 0.55
    before = clock.start - np.floor(30 + rng.random(n) * 15 * 365).astype(np.int64)
    g = 0.3 / 365.0
    span = clock.n_days - 14
    joined = clock.start + np.floor(np.log1p(rng.random(n) * np.expm1(g * span)) / g).astype(np.int64)
    created = np.sort(np.where(existing, before, joined))
    segment = rng.choice(len(SEGMENTS), n, p=SEGMENT_SHARE)
    age = np.clip(np.round(rng.normal(44, 15, n) + 5 * segment), 18, 90).astype(np.int64)
    income = np.clip(segment + rng.integers(0, 3, n) - (age < 25), 0, len(INCOME_BANDS) - 1)
    channel = pick(rng, CHANNELS, n, CHANNEL_SHARE)
    owner = np.where(segment > 0, rng.integers(0, n_rm, n), -1)
    name, _ = person_names(rng, n, np.zeros(n, bool))
    account_id = ids("cus_", n)
    columns = {
        "account_id": account_id, "name": name, "created_at": created * DAY + rng.integers(9 * 3600, 17 * 3600, n),
        "segment": np.asarray(SEGMENTS, dtype=object)[segment], "region": pick(rng, REGIONS, n), "country": "US",
        "acquisition_channel": channel,
    }
    extra = {"age": age, "income_band": np.asarray(INCOME_BANDS, dtype=object)[income]}
    return Customers(account_id, created, segment, age, channel, owner, columns, extra)


def team_table(spec: DemoSpec, clock: Clock, n_rm: int) -> tuple[pa.Table, np.ndarray]:
    """Relationship managers (role ``csm``) for affluent and private customers, and their manager."""
    rng = stream(spec, "bank-team")
    n = n_rm + 1
    name, local = person_names(rng, n, np.zeros(n, bool))
    member_id = ids("rm_", n, 4)
    role = np.array(["manager"] + ["csm"] * n_rm, dtype=object)
    table = arrow_table("team_members", {
        "member_id": member_id, "name": name, "role": role, "email": local + "@bank-demo.example.com",
        "manager_id": np.where(role == "manager", None, member_id[0]), "team": "relationship_management",
        "hired_on": clock.start - rng.integers(60, 3000, n),
    })
    return table, member_id[1:]


def products_table(clock: Clock) -> pa.Table:
    return arrow_table("products", {
        "product_id": np.array([p[0] for p in PRODUCTS], dtype=object),
        "name": np.array([p[1] for p in PRODUCTS], dtype=object),
        "family": np.array([p[2] for p in PRODUCTS], dtype=object),
        "is_addon": np.zeros(K, bool), "seat_based": np.zeros(K, bool),
        "list_mrr": np.array([p[3] for p in PRODUCTS]), "currency": "USD",
        "launched_on": np.full(K, clock.start - 20 * 365),
    })


@dataclass
class Touchpoints:
    nps_account: np.ndarray
    nps_day: np.ndarray
    nps_score: np.ndarray
    ticket_account: np.ndarray
    ticket_day: np.ndarray
    complaint: np.ndarray  # per ticket: a formal complaint (raises churn)
    detractor: np.ndarray  # (customers, weeks)
    complained: np.ndarray  # (customers, weeks)


def health_at(weekly: np.ndarray, account: np.ndarray, week: np.ndarray, lag: int = 0) -> np.ndarray:
    """Health of ``account`` in ``week - lag``; a week before the customer existed reads as its first week."""
    w = np.maximum(np.asarray(week) - lag, 0)
    value = weekly[account, w]
    return np.where(np.isnan(value), np.nan_to_num(weekly[account, np.asarray(week)]), value)


def schedule(spec: DemoSpec, clock: Clock, cust: Customers, weekly: np.ndarray) -> Touchpoints:
    """Yearly relationship NPS and support tickets (complaints more likely when health is low), from health only."""
    rng = stream(spec, "bank-touchpoints")
    n = len(cust)
    first = np.maximum(cust.created_day + 120, clock.start + rng.integers(0, 365, n))
    a, d = recurring_days(rng, first, 365, clock.end, jitter=20)
    answered = rng.random(len(a)) < 0.45
    a, d = a[answered], d[answered]
    score = nps_score(rng, health_at(weekly, a, clock.week(d), lag=1))
    h = np.nan_to_num(weekly, nan=0.0)
    exists = ~np.isnan(weekly)
    count = rng.poisson(np.where(exists, 0.006 * np.exp(-1.1 * h), 0.0))
    t_acc, t_week = np.nonzero(count)
    reps = count[t_acc, t_week]
    t_acc, t_week = np.repeat(t_acc, reps), np.repeat(t_week, reps)
    t_day = np.minimum(clock.week_start(t_week) + rng.integers(0, 7, len(t_week)), clock.end)
    complaint = rng.random(len(t_acc)) < sigmoid(-0.9 - 1.2 * h[t_acc, t_week])
    return Touchpoints(
        a, d, score, t_acc, t_day, complaint,
        recent_matrix(n, clock, a[score <= 4], d[score <= 4], RECENT_WEEKS),
        recent_matrix(n, clock, t_acc[complaint], t_day[complaint], RECENT_WEEKS),
    )


@dataclass
class Holdings:
    rows: dict[str, np.ndarray]  # account, product, start, end, mrr, end_kind, reason, opened_later
    churn_day: np.ndarray  # per customer, NO_DAY while a customer
    decided_day: np.ndarray  # per customer: when it decided to leave (NO_DAY if never)
    churn_reason: np.ndarray  # per customer, -1 if none


class _Book:
    def __init__(self, n: int) -> None:
        self.held = np.zeros((n, K), bool)
        self.start = np.zeros((n, K), np.int64)
        self.mrr = np.zeros((n, K))
        self.later = np.zeros((n, K), bool)  # opened after joining (a cross-sell)
        self.closed_week = np.full((n, K), -100, np.int64)
        self.done: list[dict[str, np.ndarray]] = []

    def open(self, acc: np.ndarray, k: np.ndarray, day: np.ndarray, mrr: np.ndarray, later: bool) -> None:
        self.held[acc, k] = True
        self.start[acc, k] = day
        self.mrr[acc, k] = mrr
        self.later[acc, k] = later

    def close(self, acc: np.ndarray, k: np.ndarray, day: np.ndarray, end_kind: str, reason: np.ndarray,
              week: int) -> None:
        self.done.append({
            "account": acc, "product": k, "start": self.start[acc, k], "end": np.asarray(day, np.int64),
            "mrr": self.mrr[acc, k], "end_kind": np.full(len(acc), ENDS.index(end_kind)),
            "reason": np.asarray(reason, np.int64), "later": self.later[acc, k],
        })
        self.held[acc, k] = False
        self.closed_week[acc, k] = week

    def finish(self) -> dict[str, np.ndarray]:
        acc, k = np.nonzero(self.held)
        self.close(acc, k, np.full(len(acc), NO_DAY), "open", np.full(len(acc), -1), 0)
        return {key: np.concatenate([d[key] for d in self.done]) for key in self.done[0]}


def _revenue(rng: np.random.Generator, k: np.ndarray, segment: np.ndarray) -> np.ndarray:
    base = np.array([p[3] for p in PRODUCTS])[k]
    return np.round(base * np.asarray(SEGMENT_REVENUE)[segment] * rng.lognormal(0, 0.35, len(k)), 2)


def _reason(rng: np.random.Generator, h: np.ndarray, complained: np.ndarray) -> np.ndarray:
    """Unhappy customers leave over fees and service; others for a better rate, a move or no longer needing it."""
    low = np.array([0.3, 0.15, 0.35, 0.05, 0.05, 0.1])
    high = np.array([0.12, 0.3, 0.05, 0.25, 0.18, 0.1])
    w = np.clip(0.5 - 0.5 * h + 0.4 * complained, 0, 1)[:, None]
    p = w * low + (1 - w) * high
    return (rng.random(len(h))[:, None] > np.cumsum(p, axis=1)).sum(axis=1).clip(0, len(CLOSE_REASONS) - 1)


def _join(rng: np.random.Generator, book: _Book, clock: Clock, cust: Customers, who: np.ndarray,
          weekly: np.ndarray) -> None:
    """Holdings at joining (for customers from before the data starts: opened between joining and the start)."""
    if not len(who):
        return
    seg, age = cust.segment[who], cust.age[who]
    h0 = np.nan_to_num(weekly[who, np.maximum(clock.week(cust.created_day[who]), 0)])
    take = np.array([p[4] for p in PRODUCTS])[None, :] * np.exp(0.35 * h0)[:, None]
    take[:, MORTGAGE] *= np.where((age >= 28) & (age <= 62), 1.6, 0.4) * (1 + 0.5 * seg)
    take[:, INVEST] *= np.array([1.0, 3.5, 8.0])[seg] * np.where(age >= 35, 1.3, 0.5)
    take[:, LOAN] *= np.where(age < 50, 1.3, 0.6)
    has = rng.random((len(who), K)) < np.clip(take, 0, 0.97)
    has[~has.any(axis=1), 1] = True  # without checking: a savings account at least
    joined = cust.created_day[who]
    for k in range(K):
        rows = np.flatnonzero(has[:, k])
        a = who[rows]
        lo = joined[rows]
        if k in TERM_DAYS:  # loans still running: opened at most two (or twenty) years before the start
            lo = np.maximum(lo, clock.start - (730 if k == LOAN else 20 * 365))
        hi = np.maximum(np.minimum(clock.start, clock.end), lo)
        late = joined[rows] < clock.start  # customers from before the start opened their other products since
        day = np.where(late & (k != CHECKING), lo + np.floor(rng.random(len(rows)) * (hi - lo)).astype(np.int64),
                       joined[rows])
        day = np.maximum(day, joined[rows])
        book.open(a, np.full(len(a), k), day, _revenue(rng, np.full(len(a), k), seg[rows]), False)


def simulate_holdings(spec: DemoSpec, clock: Clock, cust: Customers, weekly: np.ndarray,
                      tp: Touchpoints) -> Holdings:
    rng = stream(spec, "bank-holdings")
    n = len(cust)
    book = _Book(n)
    leave = np.full(n, NO_DAY, np.int64)
    decided = np.full(n, NO_DAY, np.int64)
    reason = np.full(n, -1, np.int64)
    created_week = (cust.created_day - clock.start) // 7
    cross = np.array([p[5] for p in PRODUCTS])
    _join(rng, book, clock, cust, np.flatnonzero(created_week < 0), weekly)
    for w in range(clock.n_weeks):
        d0 = int(clock.week_start(w))
        last = min(d0 + 6, clock.end)
        _join(rng, book, clock, cust, np.flatnonzero(created_week == w), weekly)
        # those who decided earlier close everything now
        going = np.flatnonzero((leave >= d0) & (leave <= last))
        for k in range(K):
            a = going[book.held[going, k]]
            book.close(a, np.full(len(a), k), leave[a], "churn", reason[a], w)
        alive = np.flatnonzero(book.held.any(axis=1) & (decided == NO_DAY) & (cust.created_day < d0))
        if not len(alive):
            continue
        h = weekly[alive, w].astype(np.float64)
        n_prod = book.held[alive].sum(axis=1)
        complained = tp.complained[alive, w]
        logit = (CHURN_BASE - CHURN_HEALTH * h + STICKINESS[n_prod] + CHURN_COMPLAINT * complained
                 + CHURN_DETRACTOR * tp.detractor[alive, w] + SEGMENT_CHURN[cust.segment[alive]]
                 + CHURN_FIRST_YEAR * (cust.created_day[alive] > d0 - 365))
        go = rng.random(len(alive)) < sigmoid(logit)
        a = alive[go]
        decided[a] = d0 + rng.integers(0, 7, len(a))
        leave[a] = decided[a] + rng.integers(14, 71, len(a))
        reason[a] = _reason(rng, h[go], complained[go])
        stay, hs = alive[~go], h[~go]
        # an unhappy customer with several products closes one of them
        several = book.held[stay].sum(axis=1) >= 2
        drop = several & (rng.random(len(stay)) < 0.004 * sigmoid(-1.6 * hs - 0.5))
        a = stay[drop]
        if len(a):
            u = rng.random((len(a), K)) * book.held[a]
            k = u.argmax(axis=1)
            book.close(a, k, np.minimum(d0 + rng.integers(0, 7, len(a)), last),
                       "closed", _reason(rng, hs[drop], complained[~go][drop]), w)
        # healthy customers open products they do not hold (not one closed in the last two months)
        for k in range(K):
            p = cross[k] * 2 * sigmoid(1.8 * (hs - 0.2))
            if k == INVEST:
                p = p * np.array([1.0, 3.0, 6.0])[cust.segment[stay]]
            if k == MORTGAGE:
                p = p * np.where((cust.age[stay] >= 28) & (cust.age[stay] <= 62), 1.5, 0.3)
            buy = ~book.held[stay, k] & (book.closed_week[stay, k] < w - 8) & (rng.random(len(stay)) < p)
            a = stay[buy]
            if len(a):
                day = np.minimum(d0 + rng.integers(0, 7, len(a)), last)
                book.open(a, np.full(len(a), k), day, _revenue(rng, np.full(len(a), k), cust.segment[a]), True)
    rows = book.finish()
    order = np.lexsort((rows["product"], rows["start"], rows["account"]))
    rows = {k: v[order] for k, v in rows.items()}
    churn = np.where((leave != NO_DAY) & (leave <= clock.end), leave, NO_DAY)
    decided = np.where(decided <= clock.end, decided, NO_DAY)
    return Holdings(rows, churn, decided, reason)


def subscriptions_table(cust: Customers, hold: Holdings) -> pa.Table:
    r = hold.rows
    end_kind = np.asarray(ENDS, dtype=object)[r["end_kind"]]
    term = np.select([r["product"] == LOAN, r["product"] == MORTGAGE],
                     [r["start"] + TERM_DAYS[LOAN], r["start"] + TERM_DAYS[MORTGAGE]], NO_DAY)
    return arrow_table("subscriptions", {
        "subscription_id": ids("hld_", len(r["account"]), 7), "account_id": cust.account_id[r["account"]],
        "product_id": np.array([p[0] for p in PRODUCTS], dtype=object)[r["product"]], "started_on": r["start"],
        "mrr": r["mrr"], "currency": "USD", "term_end_on": term, "ended_on": r["end"],
        "status": np.where(end_kind == "open", "active", "cancelled").astype(object),
        "cancel_reason": np.where(r["reason"] >= 0, np.asarray(CLOSE_REASONS, dtype=object)[np.maximum(r["reason"], 0)],
                                  None),
    })


def churn_events(cust: Customers, hold: Holdings) -> pa.Table:
    """``churn`` when a customer closed everything, ``downgrade`` per product closed, ``upgrade`` per product opened."""
    r = hold.rows
    product = np.array([p[0] for p in PRODUCTS], dtype=object)[r["product"]]
    reasons = np.asarray(CLOSE_REASONS, dtype=object)
    gone = np.flatnonzero(hold.churn_day != NO_DAY)
    lost = np.bincount(r["account"], weights=r["mrr"] * (r["end_kind"] == ENDS.index("churn")), minlength=len(cust))
    closed = np.flatnonzero(r["end_kind"] == ENDS.index("closed"))
    opened = np.flatnonzero(r["later"])
    none = np.full(len(opened), None, dtype=object)
    return events_table(
        "bce_",
        np.concatenate([cust.account_id[gone], cust.account_id[r["account"][closed]],
                        cust.account_id[r["account"][opened]]]),
        np.concatenate([hold.churn_day[gone], r["end"][closed], r["start"][opened]]),
        np.concatenate([np.full(len(gone), "churn", dtype=object), np.full(len(closed), "downgrade", dtype=object),
                        np.full(len(opened), "upgrade", dtype=object)]),
        np.concatenate([np.full(len(gone), None, dtype=object), product[closed], product[opened]]),
        np.concatenate([reasons[hold.churn_reason[gone]], reasons[r["reason"][closed]], none]),
        np.concatenate([-lost[gone], -r["mrr"][closed], r["mrr"][opened]]),
    )


def accounts_table(cust: Customers, hold: Holdings, rm_ids: np.ndarray) -> pa.Table:
    cols = dict(cust.columns)
    cols["owner_id"] = np.where(cust.owner >= 0, rm_ids[np.maximum(cust.owner, 0)], None)
    cols["churned_at"] = np.where(hold.churn_day != NO_DAY, hold.churn_day * DAY + 15 * 3600, NO_DAY)
    table = arrow_table("accounts", cols)
    for name, values in cust.extra.items():  # extra export columns: kept as `attributes`
        table = table.append_column(name, pa.array(values))
    return table


def truth(clock: Clock, cust: Customers, weekly: np.ndarray, hold: Holdings) -> dict[str, pd.DataFrame]:
    return {
        "health_weekly": weekly_truth(clock, cust.account_id, weekly),
        "accounts": pd.DataFrame({"account_id": cust.account_id, "health_mean": np.nanmean(weekly, axis=1),
                                  "churned_on": truth_dates(hold.churn_day),
                                  "decided_on": truth_dates(hold.decided_day)}),
        "spells": pd.DataFrame({"account_id": cust.account_id, "started_on": truth_dates(cust.created_day),
                                "churned_on": truth_dates(hold.churn_day), "spell_no": 1}),
    }


def generate_bank(spec: DemoSpec, step: Callable[[str], None] | None = None):
    from retain.demo import bank_activity
    from retain.demo.company import DemoData

    tick = step or (lambda _name: None)
    clock = Clock.of(spec)
    n_rm = max(2, round(spec.accounts * 0.25 / 150))
    tick("customers")
    cust = build_customers(spec, clock, n_rm)
    team, rm_ids = team_table(spec, clock, n_rm)
    tick("health")
    rng = stream(spec, "bank-health")
    mu = (np.asarray(SEGMENT_HEALTH)[cust.segment] + 0.25 * (cust.channel == "referral")
          + rng.normal(0, 0.55, len(cust)))
    first_week = (cust.created_day - clock.start) // 7
    weekly = weekly_health(rng, clock, mu, first_week)
    tick("touchpoints")
    tp = schedule(spec, clock, cust, weekly)
    tick("holdings")
    hold = simulate_holdings(spec, clock, cust, weekly, tp)
    tick("activity")
    act = bank_activity.Activity.of(spec, clock, cust, weekly, hold, tp)
    tables = {
        "team_members": team, "products": products_table(clock), "accounts": accounts_table(cust, hold, rm_ids),
        "subscriptions": subscriptions_table(cust, hold), "churn_events": churn_events(cust, hold),
        "support_tickets": act.tickets, "survey_responses": act.surveys,
    }
    tick("usage")
    return DemoData(spec, tables, lambda: bank_activity.usage_blocks(spec, clock, cust, weekly, hold, act),
                    truth(clock, cust, weekly, hold))
