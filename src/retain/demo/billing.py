"""Invoices for every subscription period (late payments follow health, with a lag) and one-off services."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retain.demo._base import DAY, NO_DAY, Clock, arrow_table, ids, sigmoid, stream
from retain.demo.accounts import Accounts
from retain.demo.health import Health
from retain.demo.lifecycle import Lifecycle
from retain.demo.spec import DemoSpec

MONTH = 30.4375


def invoices_table(spec: DemoSpec, clock: Clock, acc: Accounts, health: Health, life: Lifecycle,
                   subscription_id: np.ndarray) -> pa.Table:
    rng = stream(spec, "invoices")
    r = life.rows
    end = np.where(r["end"] == NO_DAY, clock.end + 1, r["end"])
    monthly = acc.monthly[r["account"]]
    length = np.maximum(end - r["start"], 1)
    count = np.where(monthly, np.ceil(length / MONTH).astype(np.int64), 1)
    row = np.repeat(np.arange(len(length)), count)
    k = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    issued = r["start"][row] + np.round(k * MONTH).astype(np.int64)
    keep = issued <= clock.end
    row, issued = row[keep], issued[keep]
    account = r["account"][row]
    term_days = np.where(r["term_end"][row] == NO_DAY, 365, r["term_end"][row] - r["start"][row])
    # a monthly invoice covers a month, or the part of it before the period ends (pro-rated)
    covered = np.clip(np.minimum(issued + MONTH, end[row]) - issued, 1, MONTH) / MONTH
    amount = np.where(monthly[row], r["mrr"][row] * covered, r["mrr"][row] * 12 * np.clip(term_days, 1, 366) / 365)
    net = np.where(monthly[row], 14, 30)
    due = issued + net
    h = health.at(account, clock.week(issued), lag=3)
    late = rng.random(len(row)) < sigmoid(-2.0 - 1.5 * h)
    late_days = 3 + rng.exponential(12 * (1 + np.maximum(0, -h)), len(row))
    paid = np.where(late, due + np.round(late_days), issued + rng.integers(0, net + 1))
    churn = life.end_of_spell(account, issued)
    bad_debt = late & (churn != NO_DAY) & (paid > churn + 20) & (rng.random(len(row)) < 0.5)
    open_ = (paid > clock.end) | bad_debt
    status = np.where(bad_debt, "uncollectible", np.where(open_, "open", "paid")).astype(object)
    order = np.lexsort((row, issued))
    return arrow_table("invoices", {
        "invoice_id": ids("inv_", len(row), 8), "account_id": acc.account_id[account][order],
        "issued_on": issued[order], "due_on": due[order], "amount": np.round(amount, 2)[order], "currency": "USD",
        "subscription_id": subscription_id[row][order], "paid_on": np.where(open_, NO_DAY, paid)[order],
        "status": status[order],
    })


def transactions_table(spec: DemoSpec, clock: Clock, acc: Accounts, health: Health, life: Lifecycle) -> pa.Table:
    """Implementation services at signing, then repeat purchases (training, top-ups) more often when healthy."""
    rng = stream(spec, "transactions")
    n = len(acc)
    first = rng.random(n) < np.array([0.1, 0.6, 0.9])[acc.segment]
    f_acc = np.flatnonzero(first)
    f_day = acc.created_day[f_acc] + rng.integers(0, 10, len(f_acc))
    end = np.where(life.churn_day == NO_DAY, clock.end + 1, life.churn_day)
    weeks = np.maximum(0, (end - acc.created_day) // 7)
    rate = 0.25 / 52 * np.array([0.6, 1.0, 1.6])[acc.segment]
    # candidate purchases thinned by health in their week (vectorised Poisson thinning)
    n_cand = rng.poisson(rate * weeks * 3.0)
    c_acc = np.repeat(np.arange(n), n_cand)
    c_day = acc.created_day[c_acc] + np.floor(rng.random(len(c_acc)) * (end - acc.created_day)[c_acc]).astype(int)
    h = health.at(c_acc, clock.week(c_day))
    keep = (rng.random(len(c_acc)) < sigmoid(1.2 * h - 1.0)) & life.alive(c_acc, c_day)  # not while churned
    account = np.concatenate([f_acc, c_acc[keep]])
    day = np.concatenate([f_day, c_day[keep]])
    ok = day <= clock.end
    account, day = account[ok], day[ok]
    seats = acc.seats[account]
    amount = np.round(np.clip(seats * 40 * rng.lognormal(0, 0.5, len(account)), 300, 250_000), -1)
    discount = np.round(amount * (rng.random(len(account)) < 0.3) * rng.uniform(0.05, 0.2, len(account)), 2)
    order = np.lexsort((account, day))
    account, day, amount, discount = account[order], day[order], amount[order], discount[order]
    return arrow_table("transactions", {
        "transaction_id": ids("txn_", len(account), 7), "account_id": acc.account_id[account],
        "occurred_at": day * DAY + rng.integers(9 * 3600, 18 * 3600, len(account)), "amount": amount - discount,
        "currency": "USD", "product_id": "p_services", "quantity": np.maximum(1, seats // 10),
        "discount_amount": discount, "cost_amount": np.round(amount * 0.55, 2),
    })
