"""A consumer subscription app (``retain demo --profile app``): individual subscribers, trials, two plans,
product events without user ids, a short history.

Every subscriber starts with a 7-day trial (a ``subscriptions`` row with ``status = trial`` and no MRR). Converting
depends on the hidden health (:func:`retain.demo._latent.weekly_health`, more volatile than a company's); the
converted choose Premium Monthly or, more often when healthy, Premium Annual. At each renewal a subscriber cancels
voluntarily with log-odds ``-2.9 - 1.6 h + 0.7 [auto-renew off]`` (annual plans a little less), having decided
3 to 25 days before (activity stops then); independently, 1.2 % of monthly renewals fail on payment
(``payment_failed``: no warning in the data). A churned subscriber may come back 3 to 26 weeks later on the monthly
plan (a reactivation, without a new trial). ``churn_events`` records every churn with its reason and every
reactivation. Events: :mod:`retain.demo.app_events`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from retain.demo._base import DAY, NO_DAY, Clock, arrow_table, ids, pick, sigmoid, stream
from retain.demo._latent import Shocks, truth_dates, weekly_health, weekly_truth
from retain.demo.names import person_names
from retain.demo.outcomes import events_table
from retain.demo.spec import DemoSpec

STEPS = ("subscribers", "health", "subscriptions", "events")

TRIAL_DAYS = 7
# product_id, name, MRR, billing period, days per period
PLANS = (("p_monthly", "Premium Monthly", 9.99, "monthly", 30), ("p_annual", "Premium Annual", 6.67, "annual", 365))
PLATFORMS = ("ios", "android", "web")
PLATFORM_SHARE = (0.55, 0.35, 0.10)
CHANNELS = ("app_store", "paid_social", "organic_search", "referral", "influencer")
CHANNEL_SHARE = (0.35, 0.25, 0.15, 0.15, 0.10)
CHANNEL_HEALTH = (0.0, -0.25, 0.05, 0.3, -0.1)
COUNTRIES = ("US", "GB", "DE", "CA", "AU", "FR", "BR", "IN")
COUNTRY_SHARE = (0.4, 0.12, 0.1, 0.08, 0.07, 0.08, 0.08, 0.07)
REASONS = ("price", "no_value", "competitor", "technical_issues", "payment_failed", "other")
PAYMENT_FAILED = REASONS.index("payment_failed")
CHURN_BASE = -2.9
CHURN_HEALTH = 1.6
CHURN_NO_AUTO_RENEW = 0.7
PAYMENT_FAILURE = 0.012


@dataclass
class Subscribers:
    account_id: np.ndarray
    created_day: np.ndarray
    platform: np.ndarray
    channel: np.ndarray
    auto_renew: np.ndarray
    table: pa.Table

    def __len__(self) -> int:
        return len(self.account_id)


def build_subscribers(spec: DemoSpec, clock: Clock) -> Subscribers:
    rng = stream(spec, "app-subscribers")
    n = spec.accounts
    g = 1.2 / 365.0  # a young app: sign-ups grow fast
    span = clock.n_days - 3
    created = np.sort(clock.start + np.floor(np.log1p(rng.random(n) * np.expm1(g * span)) / g).astype(np.int64))
    platform = pick(rng, PLATFORMS, n, PLATFORM_SHARE)
    channel = pick(rng, CHANNELS, n, CHANNEL_SHARE)
    auto_renew = rng.random(n) < 0.8
    name, _ = person_names(rng, n, np.zeros(n, bool))
    account_id = ids("mem_", n)
    table = arrow_table("accounts", {
        "account_id": account_id, "name": name, "created_at": created * DAY + rng.integers(6 * 3600, 23 * 3600, n),
        "segment": "consumer", "country": pick(rng, COUNTRIES, n, COUNTRY_SHARE), "acquisition_channel": channel,
    })
    # extra export columns, kept as `attributes` on load
    table = table.append_column("platform", pa.array(platform.astype(str))).append_column(
        "auto_renew", pa.array(auto_renew))
    return Subscribers(account_id, created, platform, channel, auto_renew, table)


def products_table(clock: Clock) -> pa.Table:
    return arrow_table("products", {
        "product_id": np.array([p[0] for p in PLANS], dtype=object),
        "name": np.array([p[1] for p in PLANS], dtype=object), "family": "premium",
        "is_addon": np.zeros(len(PLANS), bool), "seat_based": np.zeros(len(PLANS), bool),
        "list_mrr": np.array([p[2] for p in PLANS]), "currency": "USD",
        "launched_on": np.full(len(PLANS), clock.start - 400),
    })


@dataclass
class Lifecycle:
    rows: dict[str, np.ndarray]  # account, plan, start, end, trial, reason (-1), kind (0 new/trial, 1 renewal, 2 back)
    decided_day: np.ndarray  # per row: when a voluntary cancel was decided (NO_DAY otherwise)


class _Rows:
    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, account, plan, start, end, trial, reason, kind, decided) -> None:
        m = len(account)
        self.parts.append({k: np.broadcast_to(np.asarray(v), (m,)).astype(np.int64) for k, v in (
            ("account", account), ("plan", plan), ("start", start), ("end", end), ("trial", trial),
            ("reason", reason), ("kind", kind), ("decided", decided))})

    def finish(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


def _at(weekly: np.ndarray, clock: Clock, account: np.ndarray, day: np.ndarray) -> np.ndarray:
    w = clock.week(np.minimum(day, clock.end))
    return np.nan_to_num(weekly[account, w])


def simulate(spec: DemoSpec, clock: Clock, subs: Subscribers, weekly: np.ndarray) -> Lifecycle:
    """Trials, conversions, renewals, churns and reactivations, one renewal cycle at a time (vectorised)."""
    rng = stream(spec, "app-lifecycle")
    n = len(subs)
    out = _Rows()
    trial_end = subs.created_day + TRIAL_DAYS
    h = _at(weekly, clock, np.arange(n), trial_end - 1)
    plan = (rng.random(n) < sigmoid(-1.2 + 0.6 * h)).astype(np.int64)
    out.add(np.arange(n), plan, subs.created_day, np.where(trial_end > clock.end, NO_DAY, trial_end), 1, -1, 0,
            NO_DAY)
    converts = (rng.random(n) < sigmoid(0.1 + 1.4 * h)) & (trial_end <= clock.end)
    # active paid rows: one per subscriber at most
    acc = np.flatnonzero(converts)
    start, pl, kind = trial_end[acc], plan[acc], np.zeros(len(acc), np.int64)
    while len(acc):
        period = np.array([p[4] for p in PLANS])[pl]
        # monthly rows run until a cancel; annual rows end at each renewal (a new row follows)
        cycles = np.where(pl == 0, 1 + (clock.end - start) // 30, 1)
        rep = np.repeat(np.arange(len(acc)), cycles)
        k = np.arange(len(rep)) - np.repeat(np.cumsum(cycles) - cycles, cycles)
        renew = start[rep] + period[rep] * (k + 1)
        a = acc[rep]
        hr = _at(weekly, clock, a, renew - 7)
        logit = CHURN_BASE - CHURN_HEALTH * hr + CHURN_NO_AUTO_RENEW * ~subs.auto_renew[a] - 0.4 * (pl[rep] == 1)
        quit_ = rng.random(len(rep)) < sigmoid(logit)
        failed = (pl[rep] == 0) & (rng.random(len(rep)) < PAYMENT_FAILURE)
        ends = (quit_ | failed) & (renew <= clock.end)
        # first ending cycle per row (monthly); annual rows have one cycle
        first_end = np.full(len(acc), -1, np.int64)
        idx = np.flatnonzero(ends)[::-1]
        first_end[rep[idx]] = idx
        stopped = first_end >= 0
        e = first_end[stopped]
        end = np.full(len(acc), NO_DAY, np.int64)
        end[stopped] = renew[e]
        reason = np.full(len(acc), -1, np.int64)
        voluntary = np.zeros(len(acc), bool)
        voluntary[stopped] = quit_[e]
        reason[stopped] = np.where(quit_[e], _reason(rng, hr[e]), PAYMENT_FAILED)
        decided = np.where(voluntary, end - rng.integers(3, 26, len(acc)), NO_DAY)
        renewed_annual = (pl == 1) & ~stopped & (start + 365 <= clock.end)
        end = np.where(renewed_annual, start + 365, end)
        out.add(acc, pl, start, end, 0, reason, kind, decided)
        # next rows: annual renewals, and reactivations of some churned subscribers
        hb = _at(weekly, clock, acc, end)
        back = stopped & (rng.random(len(acc)) < sigmoid(-1.7 + 0.8 * hb + 0.9 * (reason == PAYMENT_FAILED)))
        back_day = end + rng.integers(21, 183, len(acc))
        back &= back_day <= clock.end
        nxt = renewed_annual | back
        start = np.where(renewed_annual, start + 365, back_day)[nxt]
        pl = np.where(renewed_annual, 1, 0)[nxt]
        kind = np.where(renewed_annual, 1, 2)[nxt]
        acc = acc[nxt]
    rows = out.finish()
    order = np.lexsort((rows["start"], rows["account"]))
    return Lifecycle({k: v[order] for k, v in rows.items()}, rows["decided"][order])


def _reason(rng: np.random.Generator, h: np.ndarray) -> np.ndarray:
    """Voluntary cancels: unhappy subscribers cite no value and technical issues; others price or a competitor."""
    low = np.array([0.2, 0.4, 0.1, 0.2, 0.0, 0.1])
    high = np.array([0.45, 0.15, 0.25, 0.05, 0.0, 0.1])
    w = np.clip(0.5 - 0.5 * h, 0, 1)[:, None]
    p = w * low + (1 - w) * high
    return (rng.random(len(h))[:, None] > np.cumsum(p, axis=1)).sum(axis=1).clip(0, len(REASONS) - 1)


def subscriptions_table(subs: Subscribers, life: Lifecycle) -> pa.Table:
    r = life.rows
    trial = r["trial"] == 1
    mrr = np.where(trial, 0.0, np.array([p[2] for p in PLANS])[r["plan"]])
    status = np.where(trial, "trial", np.where(r["end"] == NO_DAY, "active",
                                                np.where(r["reason"] >= 0, "cancelled", "expired"))).astype(object)
    annual = (r["plan"] == 1) & ~trial
    return arrow_table("subscriptions", {
        "subscription_id": ids("sub_", len(mrr), 7), "account_id": subs.account_id[r["account"]],
        "product_id": np.array([p[0] for p in PLANS], dtype=object)[r["plan"]], "started_on": r["start"],
        "mrr": mrr, "currency": "USD", "term_end_on": np.where(annual, r["start"] + 365, NO_DAY),
        "ended_on": r["end"], "status": status,
        "billing_period": np.where(trial, None, np.array([p[3] for p in PLANS], dtype=object)[r["plan"]]),
        "cancel_reason": np.where(r["reason"] >= 0, np.asarray(REASONS, dtype=object)[np.maximum(r["reason"], 0)],
                                  None),
    })


def churn_events(subs: Subscribers, life: Lifecycle) -> pa.Table:
    r = life.rows
    mrr = np.array([p[2] for p in PLANS])[r["plan"]]
    product = np.array([p[0] for p in PLANS], dtype=object)[r["plan"]]
    gone = np.flatnonzero(r["reason"] >= 0)
    back = np.flatnonzero(r["kind"] == 2)
    return events_table(
        "ace_", subs.account_id[r["account"][np.r_[gone, back]]], np.r_[r["end"][gone], r["start"][back]],
        np.r_[np.full(len(gone), "churn", dtype=object), np.full(len(back), "reactivation", dtype=object)],
        product[np.r_[gone, back]],
        np.r_[np.asarray(REASONS, dtype=object)[r["reason"][gone]], np.full(len(back), None, dtype=object)],
        np.r_[-mrr[gone], mrr[back]],
    )


def truth(clock: Clock, subs: Subscribers, weekly: np.ndarray, life: Lifecycle) -> dict[str, pd.DataFrame]:
    r = life.rows
    paid = r["trial"] == 0
    return {
        "health_weekly": weekly_truth(clock, subs.account_id, weekly),
        "accounts": pd.DataFrame({"account_id": subs.account_id, "health_mean": np.nanmean(weekly, axis=1),
                                  "converted": np.isin(np.arange(len(subs)), r["account"][paid])}),
        "paid_periods": pd.DataFrame({"account_id": subs.account_id[r["account"][paid]],
                                      "started_on": truth_dates(r["start"][paid]),
                                      "ended_on": truth_dates(r["end"][paid]),
                                      "cancel_decided_on": truth_dates(life.decided_day[paid])}),
    }


def generate_app(spec: DemoSpec, step: Callable[[str], None] | None = None):
    from retain.demo.app_events import events_table as product_events
    from retain.demo.app_events import tickets_table
    from retain.demo.company import DemoData

    tick = step or (lambda _name: None)
    clock = Clock.of(spec)
    tick("subscribers")
    subs = build_subscribers(spec, clock)
    tick("health")
    rng = stream(spec, "app-health")
    mu = np.asarray(CHANNEL_HEALTH)[pd.Index(CHANNELS).get_indexer(subs.channel)] + rng.normal(0, 0.6, len(subs))
    weekly = weekly_health(rng, clock, mu, (subs.created_day - clock.start) // 7, phi=0.94, noise=0.22,
                           shocks=Shocks(bad=(0.006, -1.0, 0.4), good=(0.004, 0.7, 0.3)), onboarding=-0.2)
    tick("subscriptions")
    life = simulate(spec, clock, subs, weekly)
    tick("events")
    tables = {
        "products": products_table(clock), "accounts": subs.table, "subscriptions": subscriptions_table(subs, life),
        "churn_events": churn_events(subs, life), "support_tickets": tickets_table(spec, clock, subs, weekly, life),
        "product_events": product_events(spec, clock, subs, weekly, life),
    }
    return DemoData(spec, tables, lambda: iter(()), truth(clock, subs, weekly, life))
