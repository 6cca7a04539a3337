"""Contracts over time: new business, renewals, expansions, contractions, cross-sell and churn, driven by health.

A weekly loop over the calendar (vectorised across accounts; never a loop over rows). Each account holds a core
line (its plan) and optionally add-on lines. Any change ends the current row of a line and starts the next one,
so ``subscriptions`` has one row per period of constant price and quantity.

Churn, as a log-odds: ``base + segment - 2.4 h + 1.9 detractor_90d - 0.6 (products - 1)`` (segment: smb 0,
mid-market -0.3, enterprise -0.8). Yearly contracts can only end
at their term end; monthly ones any month. Healthy customers expand licences and buy add-ons; unhealthy monthly
customers cut licences, and unhealthy yearly ones drop add-ons at renewal.

Win-backs: a churned account may come back two to twelve months later with a new core subscription (same account,
usually fewer licences and for larger customers often a cheaper plan), more likely when its health at churn was not
terrible and it left for price or budget rather than for a competitor or lack of value. Its later life follows the
same rules, so an account's history is a sequence of customer *spells* (:class:`Lifecycle` keeps them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from retain.demo._base import NO_DAY, Clock, arrow_table, ids, sigmoid, stream
from retain.demo.accounts import Accounts
from retain.demo.health import Health
from retain.demo.spec import ADDONS, CANCEL_REASONS, CORE_BY_SEGMENT, PRODUCT_INDEX, PRODUCTS, DemoSpec
from retain.demo.touchpoints import Touchpoints

N_LINES = 1 + len(ADDONS)
ADDON_PRICE = np.array([PRODUCTS[PRODUCT_INDEX[p]][4] for p in ADDONS])
ADDON_LAUNCH = np.array([PRODUCTS[PRODUCT_INDEX[p]][6] for p in ADDONS])
CORE_PRICE = np.array([PRODUCTS[PRODUCT_INDEX[p]][4] for p in CORE_BY_SEGMENT])

# how a row began and how it ended (kept for opportunities; not loaded)
KINDS = ("new", "renewal", "expansion", "contraction", "cross_sell", "winback")
ENDS = ("open", "superseded", "churn", "dropped")

CHURN_BASE_YEARLY = -2.6
CHURN_BASE_MONTHLY = -6.3
CHURN_HEALTH = 2.4
CHURN_DETRACTOR = 1.9
CHURN_PER_PRODUCT = 0.6
CHURN_SEGMENT = np.array([0.0, -0.3, -0.8])  # smb, mid-market, enterprise: bigger customers are stickier
# win-back log-odds: base + health at churn + cancel reason (order of CANCEL_REASONS)
WINBACK_BASE = -0.9
WINBACK_HEALTH = 0.8
WINBACK_REASON = np.array([0.6, -0.9, -1.1, 1.1, -1.6, 0.0])  # price, competitor, no_value, budget, acquired, other
WINBACK_DAYS = (61, 366)  # returns two to twelve months after churn
_KEY = np.int64(1) << 32  # (account, day) -> one sortable integer


@dataclass
class Lifecycle:
    rows: dict[str, np.ndarray]  # one entry per subscription period (internal columns included)
    churn_day: np.ndarray  # per account: day its last spell ended (NO_DAY = a customer at the end)
    spell_account: np.ndarray  # customer spells sorted by (account, start): from signing or a win-back ...
    spell_start: np.ndarray
    spell_end: np.ndarray  # ... to churn (NO_DAY while it runs)

    def _spell(self, account: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the latest spell of ``account`` started on or before ``day``, and whether there is one."""
        account, day = np.broadcast_arrays(np.asarray(account, np.int64), np.asarray(day, np.int64))
        key = self.spell_account * _KEY + self.spell_start
        idx = np.searchsorted(key, account * _KEY + np.clip(day, 0, _KEY - 1), side="right") - 1
        found = (idx >= 0) & (self.spell_account[np.maximum(idx, 0)] == account)
        return np.maximum(idx, 0), found

    def alive(self, account: np.ndarray, day: np.ndarray) -> np.ndarray:
        """True where ``account`` is a customer on ``day`` (inside one of its spells)."""
        idx, found = self._spell(account, day)
        end = self.spell_end[idx]
        return found & ((end == NO_DAY) | (np.asarray(day) < end))

    def end_of_spell(self, account: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The churn day ending the spell that ``day`` falls in (or follows), NO_DAY when it still runs."""
        idx, found = self._spell(account, day)
        return np.where(found, self.spell_end[idx], NO_DAY)

    def alive_weeks(self, clock: Clock) -> np.ndarray:
        """(accounts, weeks) true for the weeks after a spell's first week that start before it ends."""
        n = len(self.churn_day)
        delta = np.zeros((n, clock.n_weeks + 1), dtype=np.int32)
        first = clock.week(self.spell_start) + 1
        end = np.where(self.spell_end == NO_DAY, clock.end + 1, self.spell_end)
        stop = np.clip((end - clock.start + 6) // 7, 0, clock.n_weeks)
        ok = stop > first
        np.add.at(delta, (self.spell_account[ok], first[ok]), 1)
        np.add.at(delta, (self.spell_account[ok], stop[ok]), -1)
        return np.cumsum(delta, axis=1)[:, : clock.n_weeks] > 0


class _Book:
    """Open rows per (account, line) and the finished rows collected so far."""

    def __init__(self, n: int) -> None:
        self.open = np.zeros((n, N_LINES), bool)
        self.start = np.zeros((n, N_LINES), np.int64)
        self.qty = np.zeros((n, N_LINES), np.int64)
        self.term_end = np.full((n, N_LINES), NO_DAY, np.int64)
        self.kind = np.zeros((n, N_LINES), np.int64)
        self.tier = np.zeros(n, np.int64)  # core plan held (index into CORE_BY_SEGMENT)
        self.done: list[dict[str, np.ndarray]] = []

    def close(self, acc: np.ndarray, line: np.ndarray | int, day: np.ndarray, end_kind: int, reason=None) -> None:
        line = np.broadcast_to(np.asarray(line), acc.shape)
        day = np.broadcast_to(np.asarray(day), acc.shape)
        self.done.append({
            "account": acc.copy(), "line": line.copy(), "start": self.start[acc, line], "end": day.copy(),
            "qty": self.qty[acc, line], "term_end": self.term_end[acc, line], "kind": self.kind[acc, line],
            "tier": self.tier[acc],
            "end_kind": np.full(len(acc), end_kind), "reason": (np.full(len(acc), -1) if reason is None
                                                              else np.broadcast_to(reason, acc.shape).copy()),
        })
        self.open[acc, line] = False

    def begin(self, acc, line, day, qty, term_end, kind: int) -> None:
        line = np.broadcast_to(np.asarray(line), acc.shape)
        self.open[acc, line] = True
        self.start[acc, line] = day
        self.qty[acc, line] = qty
        self.term_end[acc, line] = term_end
        self.kind[acc, line] = kind

    def finish(self) -> dict[str, np.ndarray]:
        acc, line = np.nonzero(self.open)
        self.close(acc, line, np.full(len(acc), NO_DAY), ENDS.index("open"))
        return {k: np.concatenate([d[k] for d in self.done]) for k in self.done[0]}


def _cancel_reason(rng: np.random.Generator, h: np.ndarray) -> np.ndarray:
    """Unhealthy customers leave for lack of value or a competitor; healthy ones for price, budget, acquisition."""
    low = np.array([0.12, 0.22, 0.42, 0.12, 0.04, 0.08])
    high = np.array([0.28, 0.18, 0.08, 0.24, 0.14, 0.08])
    w = np.clip(0.5 - 0.5 * h, 0, 1)[:, None]
    p = w * low + (1 - w) * high
    u = rng.random(len(h))[:, None]
    return (u > np.cumsum(p, axis=1)).sum(axis=1).clip(0, len(CANCEL_REASONS) - 1)


class _WinBacks:
    """Churned accounts that will come back, and every spell start and end so far."""

    def __init__(self, spec: DemoSpec, acc: Accounts) -> None:
        self.rng = stream(spec, "winback")
        self.due = np.full(len(acc), NO_DAY, np.int64)  # day of the planned return
        self.began = acc.created_day.copy()  # start of the current spell
        self.starts = [(np.arange(len(acc)), acc.created_day)]
        self.ends: list[tuple[np.ndarray, np.ndarray]] = []

    def churned(self, account: np.ndarray, day: np.ndarray, h: np.ndarray, reason: np.ndarray) -> None:
        """Record churns; plan a return for some (health at churn and cancel reason matter)."""
        self.ends.append((account, np.asarray(day)))
        p = sigmoid(WINBACK_BASE + WINBACK_HEALTH * h + WINBACK_REASON[reason])
        back = self.rng.random(len(account)) < p
        self.due[account[back]] = (np.asarray(day) + self.rng.integers(*WINBACK_DAYS, len(account)))[back]

    def returning(self, book: _Book, d0: int, last: int, annual: np.ndarray) -> None:
        """Accounts returning this week sign a new core subscription: fewer licences, maybe a cheaper plan."""
        back = np.flatnonzero((self.due >= d0) & (self.due <= last))
        if not len(back):
            return
        day = self.due[back]
        self.due[back] = NO_DAY
        book.tier[back] = np.maximum(0, book.tier[back] - (self.rng.random(len(back)) < 0.45))
        qty = np.maximum(1, np.round(book.qty[back, 0] * self.rng.uniform(0.5, 0.9, len(back)))).astype(np.int64)
        book.begin(back, 0, day, qty, np.where(annual[back], day + 365, NO_DAY), KINDS.index("winback"))
        self.began[back] = day
        self.starts.append((back, day))

    def spells(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(account, start, end) per spell sorted by account and start, and each account's final churn day."""
        s_acc = np.concatenate([a for a, _ in self.starts])
        s_day = np.concatenate([d for _, d in self.starts])
        e_acc = np.concatenate([a for a, _ in self.ends]) if self.ends else np.zeros(0, np.int64)
        e_day = np.concatenate([d for _, d in self.ends]) if self.ends else np.zeros(0, np.int64)
        so, eo = np.lexsort((s_day, s_acc)), np.lexsort((e_day, e_acc))
        s_acc, s_day, e_acc, e_day = s_acc[so], s_day[so], e_acc[eo], e_day[eo]
        k = np.arange(len(s_acc)) - np.searchsorted(s_acc, s_acc)  # spell number within the account
        n_end = np.bincount(e_acc, minlength=n)
        first_end = np.searchsorted(e_acc, s_acc)
        ended = k < n_end[s_acc]
        end = np.full(len(s_acc), NO_DAY, np.int64)
        end[ended] = e_day[first_end[ended] + k[ended]]
        final = np.full(n, NO_DAY, np.int64)
        last = np.r_[s_acc[1:] != s_acc[:-1], True]
        final[s_acc[last]] = end[last]
        return s_acc, s_day, end, final


def simulate_lifecycle(spec: DemoSpec, clock: Clock, acc: Accounts, health: Health, tp: Touchpoints) -> Lifecycle:
    rng = stream(spec, "lifecycle")
    n = len(acc)
    book = _Book(n)
    book.tier[:] = acc.segment
    wins = _WinBacks(spec, acc)
    created_week = clock.week(acc.created_day)
    annual = ~acc.monthly
    for w in range(clock.n_weeks):
        d0 = int(clock.week_start(w))
        last = min(d0 + 6, clock.end)
        wins.returning(book, d0, last, annual)
        # new customers: core plan, some enterprise/mid-market deals bundle an add-on
        new = np.flatnonzero(created_week == w)
        if len(new):
            day = acc.created_day[new]
            term = np.where(annual[new], day + 365, NO_DAY)
            book.begin(new, 0, day, acc.seats[new], term, KINDS.index("new"))
            bundle = (rng.random(len(new)) < np.array([0.05, 0.2, 0.45])[acc.segment[new]])
            k = rng.integers(0, len(ADDONS), len(new))
            ok = bundle & (clock.start + ADDON_LAUNCH[k] <= day)
            book.begin(new[ok], 1 + k[ok], day[ok], acc.seats[new[ok]], term[ok], KINDS.index("new"))
        alive = np.flatnonzero(book.open[:, 0] & (wins.began < d0))
        if not len(alive):
            continue
        h = health.weekly[alive, w].astype(np.float64)
        det = tp.detractor[alive, w]
        n_prod = book.open[alive].sum(axis=1)
        logit = (-CHURN_HEALTH * h + CHURN_DETRACTOR * det - CHURN_PER_PRODUCT * (n_prod - 1)
                 + CHURN_SEGMENT[acc.segment[alive]])
        term = book.term_end[alive, 0]
        due = annual[alive] & (term >= d0) & (term <= last)
        # --- yearly renewals
        r = alive[due]
        if len(r):
            hr, lr = h[due], logit[due]
            churn = rng.random(len(r)) < sigmoid(CHURN_BASE_YEARLY + lr)
            c = r[churn]
            reason = _cancel_reason(rng, hr[churn])
            wins.churned(c, book.term_end[c, 0].copy(), hr[churn], reason)
            for line in range(N_LINES):
                m = book.open[c, line]
                book.close(c[m], line, book.term_end[c[m], 0], ENDS.index("churn"), reason[m])
            s, hs = r[~churn], hr[~churn]
            day = book.term_end[s, 0].copy()
            new_qty = np.maximum(1, np.round(book.qty[s, 0] * np.exp(0.12 * hs + rng.normal(0, 0.08, len(s)))))
            drop_p = sigmoid(-2.6 - 1.3 * hs)
            for line in range(N_LINES):
                m = book.open[s, line]
                a, d = s[m], day[m]
                if line == 0:
                    book.close(a, 0, d, ENDS.index("superseded"))
                    book.begin(a, 0, d, new_qty[m], d + 365, KINDS.index("renewal"))
                    continue
                dropped = rng.random(len(a)) < drop_p[m]
                book.close(a[dropped], line, d[dropped], ENDS.index("dropped"),
                           _cancel_reason(rng, hs[m][dropped]))
                keep = ~dropped
                q = book.qty[a[keep], line]
                book.close(a[keep], line, d[keep], ENDS.index("superseded"))
                book.begin(a[keep], line, d[keep], q, d[keep] + 365, KINDS.index("renewal"))
        # --- monthly churn (any month)
        m_idx = np.flatnonzero(~annual[alive] & (wins.began[alive] + 28 <= d0))
        mc = rng.random(len(m_idx)) < sigmoid(CHURN_BASE_MONTHLY + logit[m_idx])
        if mc.any():
            c = alive[m_idx[mc]]
            day = np.minimum(d0 + rng.integers(0, 7, len(c)), last)
            reason = _cancel_reason(rng, h[m_idx[mc]])
            wins.churned(c, day, h[m_idx[mc]], reason)
            for line in range(N_LINES):
                m = book.open[c, line]
                book.close(c[m], line, day[m], ENDS.index("churn"), reason[m])
        # --- mid-term licence changes (not in a renewal week, not on a row that started this week)
        still = book.open[alive, 0] & ~due & (book.start[alive, 0] < d0)
        up = still & (rng.random(len(alive)) < 0.025 * sigmoid(2.5 * (h - 0.7)))
        down = still & ~up & ~annual[alive] & (rng.random(len(alive)) < 0.02 * sigmoid(2.5 * (-h - 0.5)))
        for mask, factor, kind in ((up, (1.1, 1.6), "expansion"), (down, (0.5, 0.9), "contraction")):
            a = alive[mask]
            if not len(a):
                continue
            day = np.minimum(d0 + rng.integers(0, 7, len(a)), last)
            q = np.maximum(1, np.round(book.qty[a, 0] * rng.uniform(*factor, len(a)))).astype(np.int64)
            q = np.where(q == book.qty[a, 0], q + (1 if kind == "expansion" else -1), q).clip(1)
            te = book.term_end[a, 0].copy()
            book.close(a, 0, day, ENDS.index("superseded"))
            book.begin(a, 0, day, q, te, KINDS.index(kind))
        # --- cross-sell of add-ons to healthy customers
        ok_acc = book.open[alive, 0] & ~due & (book.start[alive, 0] < d0)
        for k in range(len(ADDONS)):
            if clock.start + ADDON_LAUNCH[k] > last:
                continue
            p = 0.006 * sigmoid(2.2 * (h - 0.4)) * np.array([0.7, 1.0, 1.3])[acc.segment[alive]]
            buy = ok_acc & ~book.open[alive, 1 + k] & (rng.random(len(alive)) < p)
            a = alive[buy]
            if len(a):
                day = np.minimum(d0 + rng.integers(0, 7, len(a)), last)
                book.begin(a, 1 + k, day, book.qty[a, 0], book.term_end[a, 0], KINDS.index("cross_sell"))
            # monthly customers may cancel an add-on any time when unhappy
            drop = ~annual[alive] & book.open[alive, 1 + k] & (book.start[alive, 1 + k] < d0)
            drop &= rng.random(len(alive)) < 0.01 * sigmoid(2.0 * (-h - 0.3))
            a = alive[drop]
            if len(a):
                day = np.minimum(d0 + rng.integers(0, 7, len(a)), last)
                book.close(a, 1 + k, day, ENDS.index("dropped"), _cancel_reason(rng, h[drop]))
    rows = book.finish()
    s_acc, s_start, s_end, churn_day = wins.spells(n)
    order = np.lexsort((rows["line"], rows["start"], rows["account"]))
    rows = {k: v[order] for k, v in rows.items()}
    price = np.where(rows["line"] == 0, CORE_PRICE[rows["tier"]],
                     np.r_[0.0, ADDON_PRICE][rows["line"]])
    discount = _account_discount(spec, acc)[rows["account"]]
    rows["list_mrr"] = rows["qty"] * price
    rows["discount"] = np.round(rows["list_mrr"] * discount, 2)
    rows["mrr"] = np.round(rows["list_mrr"] - rows["discount"], 2)
    return Lifecycle(rows, churn_day, s_acc, s_start, s_end)


def _account_discount(spec: DemoSpec, acc: Accounts) -> np.ndarray:
    rng = stream(spec, "discount")
    return np.clip(rng.normal(np.array([0.03, 0.10, 0.18])[acc.segment], 0.05), 0, 0.4) * (rng.random(len(acc)) < 0.7)


def subscription_products(r: dict[str, np.ndarray]) -> np.ndarray:
    """The product id of each lifecycle row: the core plan of its tier, or the add-on of its line."""
    return np.where(r["line"] == 0, np.asarray(CORE_BY_SEGMENT, dtype=object)[r["tier"]],
                    np.asarray((None, *ADDONS), dtype=object)[r["line"]])


def subscriptions_table(acc: Accounts, life: Lifecycle) -> pa.Table:
    r = life.rows
    product = subscription_products(r)
    end_kind = np.asarray(ENDS, dtype=object)[r["end_kind"]]
    status = np.select([end_kind == "open", end_kind == "superseded"], ["active", "expired"], "cancelled")
    reason = np.where(r["reason"] >= 0, np.asarray(CANCEL_REASONS, dtype=object)[np.maximum(r["reason"], 0)], None)
    annual = ~acc.monthly[r["account"]]
    return arrow_table("subscriptions", {
        "subscription_id": ids("sub_", len(product), 7), "account_id": acc.account_id[r["account"]],
        "product_id": product, "started_on": r["start"], "mrr": r["mrr"], "currency": "USD", "quantity": r["qty"],
        "term_end_on": r["term_end"], "ended_on": r["end"], "status": status.astype(object),
        "billing_period": np.where(annual, "annual", "monthly").astype(object), "cancel_reason": reason,
        "discount_amount": r["discount"],
    })
