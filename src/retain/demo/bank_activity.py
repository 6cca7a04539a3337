"""What bank customers do: branch visits, app logins, card transactions and bill payments (as ``usage`` rows
whose ``feature`` is the event type, with no user counts), support tickets and complaints, NPS and CSAT.

Daily activity per customer, from last week's health and a personal habit (younger customers use the app more,
older ones visit branches), only while they hold something that allows it (card transactions need checking or a
card, bill payments checking). A customer who has decided to leave winds down: activity falls linearly to a quarter
between the decision and the closing day (balances and direct debits move elsewhere first).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from retain.demo._base import DAY, NO_DAY, Clock, arrow_table, ids, pick, sigmoid, stream
from retain.demo._latent import DayGrid, open_end
from retain.demo.bank import CARD, CHECKING, Customers, Holdings, Touchpoints, health_at
from retain.demo.spec import DemoSpec

BLOCK = 1000
FEATURES = ("app_login", "card_transaction", "bill_payment", "branch_visit")
TICKET_CATEGORIES = ("complaint", "card_issue", "fraud_alert", "online_banking", "fees", "loan_query")
TICKET_SUBJECTS = {
    "complaint": "Formal complaint", "card_issue": "Card declined", "fraud_alert": "Suspicious transaction",
    "online_banking": "Cannot log in to the app", "fees": "Question about a fee", "loan_query": "Loan statement",
}


def _alive(cust: Customers, hold: Holdings, clock: Clock, account: np.ndarray, day: np.ndarray) -> np.ndarray:
    end = np.where(hold.churn_day == NO_DAY, clock.end + 1, hold.churn_day)
    return (day >= cust.created_day[account]) & (day < end[account]) & (day <= clock.end)


def holding_weeks(clock: Clock, hold: Holdings, n: int, products: tuple[int, ...]) -> np.ndarray:
    """(customers, weeks) true when the customer holds one of ``products`` at the start of the week."""
    r = hold.rows
    m = np.isin(r["product"], products)
    first = np.clip((r["start"][m] - clock.start + 6) // 7, 0, clock.n_weeks)
    stop = np.clip((open_end(r["end"][m], clock) - clock.start + 6) // 7, 0, clock.n_weeks)
    delta = np.zeros((n, clock.n_weeks + 1), np.int32)
    ok = stop > first
    np.add.at(delta, (r["account"][m][ok], first[ok]), 1)
    np.add.at(delta, (r["account"][m][ok], stop[ok]), -1)
    return np.cumsum(delta, axis=1)[:, : clock.n_weeks] > 0


@dataclass
class Activity:
    tickets: pa.Table
    surveys: pa.Table
    branch_account: np.ndarray
    branch_day: np.ndarray
    digital: np.ndarray  # per customer habit (log-odds) for the app
    spend: np.ndarray  # per customer card transactions per day at neutral health

    @classmethod
    def of(cls, spec: DemoSpec, clock: Clock, cust: Customers, weekly: np.ndarray, hold: Holdings,
           tp: Touchpoints) -> Activity:
        rng = stream(spec, "bank-activity")
        n = len(cust)
        digital = -0.035 * (cust.age - 40) + rng.normal(0, 0.6, n)
        spend = 0.35 * rng.lognormal(0, 0.5, n) * np.array([1.0, 1.6, 2.2])[cust.segment]
        # branch visits: weekly Poisson, more for older and less digital customers
        h = np.nan_to_num(weekly, nan=0.0)
        rate = 0.05 * np.exp(0.02 * (cust.age - 40) - 0.4 * digital)[:, None] * np.exp(0.2 * h)
        count = rng.poisson(np.where(~np.isnan(weekly), rate, 0.0))
        b_acc, b_week = np.nonzero(count)
        b_acc = np.repeat(b_acc, count[b_acc, b_week])
        b_week = np.repeat(b_week, count[count > 0])
        b_day = clock.week_start(b_week) + rng.integers(0, 6, len(b_week))
        keep = _alive(cust, hold, clock, b_acc, b_day)
        b_acc, b_day = b_acc[keep], b_day[keep]
        tickets, facts = _tickets(rng, clock, cust, weekly, hold, tp)
        surveys = _surveys(rng, clock, cust, weekly, hold, tp, b_acc, b_day, facts)
        return cls(tickets, surveys, b_acc, b_day, digital, spend)


def _tickets(rng: np.random.Generator, clock: Clock, cust: Customers, weekly: np.ndarray, hold: Holdings,
             tp: Touchpoints) -> tuple[pa.Table, dict[str, np.ndarray]]:
    keep = _alive(cust, hold, clock, tp.ticket_account, tp.ticket_day)
    account, day, complaint = tp.ticket_account[keep], tp.ticket_day[keep], tp.complaint[keep]
    opened = day * DAY + rng.integers(8 * 3600, 20 * 3600, len(day))
    order = np.lexsort((account, opened))
    account, day, complaint, opened = account[order], day[order], complaint[order], opened[order]
    n = len(account)
    h = health_at(weekly, account, clock.week(day))
    other = pick(rng, TICKET_CATEGORIES[1:], n, (0.3, 0.15, 0.25, 0.15, 0.15))
    category = np.where(complaint, "complaint", other).astype(object)
    priority = np.where(complaint & (rng.random(n) < 0.5), "high",
                        np.where(category == "fraud_alert", "urgent", "normal")).astype(object)
    escalated = complaint & (rng.random(n) < sigmoid(-1.0 - 0.8 * h))
    res_days = rng.lognormal(0, 0.8, n) * (1 + 4 * complaint)
    resolved = opened + np.round(res_days * DAY).astype(np.int64)
    first = opened + np.round(rng.lognormal(1.0, 0.8, n) * 3600).astype(np.int64)
    horizon = (clock.end + 1) * DAY
    open_ = resolved >= horizon
    first = np.where(first >= horizon, NO_DAY, first)
    status = np.where(open_, "open", "closed").astype(object)
    table = arrow_table("support_tickets", {
        "ticket_id": ids("btk_", n, 7), "account_id": cust.account_id[account], "opened_at": opened,
        "priority": priority, "category": category, "subject": np.vectorize(TICKET_SUBJECTS.get, otypes=[object])(
            category) if n else category, "first_response_at": first,
        "resolved_at": np.where(open_, NO_DAY, resolved), "escalated": escalated, "status": status,
    })
    return table, {"account": account, "resolved": np.where(open_, NO_DAY, resolved), "h": h,
                   "escalated": escalated, "res_days": res_days}


def _surveys(rng: np.random.Generator, clock: Clock, cust: Customers, weekly: np.ndarray, hold: Holdings,
             tp: Touchpoints, b_acc: np.ndarray, b_day: np.ndarray, facts: dict[str, np.ndarray]) -> pa.Table:
    """Relationship NPS (yearly), CSAT after a tenth of branch visits and a third of resolved tickets."""
    keep = _alive(cust, hold, clock, tp.nps_account, tp.nps_day)
    n_acc, n_day, n_score = tp.nps_account[keep], tp.nps_day[keep], tp.nps_score[keep]
    n_sec = n_day * DAY + rng.integers(9 * 3600, 21 * 3600, len(n_day))
    asked = rng.random(len(b_acc)) < 0.1
    v_acc, v_day = b_acc[asked], b_day[asked] + 1
    ok = _alive(cust, hold, clock, v_acc, v_day)
    v_acc, v_day = v_acc[ok], v_day[ok]
    v_h = health_at(weekly, v_acc, clock.week(v_day))
    v_score = np.clip(np.round(4.0 + 0.5 * v_h + rng.normal(0, 0.8, len(v_acc))), 1, 5)
    v_sec = v_day * DAY + rng.integers(9 * 3600, 21 * 3600, len(v_day))
    t = facts
    answered = (t["resolved"] != NO_DAY) & (rng.random(len(t["account"])) < 0.33)
    c_sec = t["resolved"][answered] + rng.integers(3600, 2 * DAY, answered.sum())
    c_acc = t["account"][answered]
    c_score = np.clip(np.round(3.9 + 0.5 * t["h"][answered] - 0.8 * t["escalated"][answered]
                               - 0.08 * t["res_days"][answered] + rng.normal(0, 0.8, len(c_acc))), 1, 5)
    ok = (c_sec < (clock.end + 1) * DAY) & _alive(cust, hold, clock, c_acc, c_sec // DAY)
    c_sec, c_acc, c_score = c_sec[ok], c_acc[ok], c_score[ok]
    account = np.concatenate([n_acc, v_acc, c_acc])
    seconds = np.concatenate([n_sec, v_sec, c_sec])
    survey = np.concatenate([np.full(len(n_acc), "nps", dtype=object), np.full(len(v_acc) + len(c_acc), "csat",
                                                                                 dtype=object)])
    touch = np.concatenate([np.full(len(n_acc), "relationship", dtype=object),
                            np.full(len(v_acc), "other", dtype=object),
                            np.full(len(c_acc), "support_ticket", dtype=object)])
    score = np.concatenate([n_score, v_score, c_score]).astype(np.int64)
    order = np.lexsort((account, seconds))
    return arrow_table("survey_responses", {
        "response_id": ids("bsv_", len(account), 7), "account_id": cust.account_id[account][order],
        "responded_at": seconds[order], "survey_type": survey[order], "score": score[order],
        "touchpoint": touch[order],
    })


def _wind_down(hold: Holdings, account: np.ndarray, day: np.ndarray) -> np.ndarray:
    """1 before a customer decides to leave, falling linearly to 0.25 on the closing day."""
    decided = hold.decided_day[account]
    leave = np.where(hold.churn_day[account] == NO_DAY, decided + 42, hold.churn_day[account])
    frac = np.clip((day - decided) / np.maximum(leave - decided, 1), 0, 1)
    return np.where((decided == NO_DAY) | (day < decided), 1.0, 1.0 - 0.75 * frac)


def usage_blocks(spec: DemoSpec, clock: Clock, cust: Customers, weekly: np.ndarray, hold: Holdings,
                 act: Activity) -> Iterator[pa.Table]:
    """Daily ``usage`` rows per customer and event type, in blocks of :data:`BLOCK` customers."""
    n = len(cust)
    pays = holding_weeks(clock, hold, n, (CHECKING, CARD))
    bills = holding_weeks(clock, hold, n, (CHECKING,))
    first = np.maximum(cust.created_day, clock.start)
    end = np.where(hold.churn_day == NO_DAY, clock.end + 1, hold.churn_day)
    for b, lo in enumerate(range(0, n, BLOCK)):
        rng = stream(spec, f"bank-usage-{b}")
        who = np.arange(lo, min(lo + BLOCK, n))
        grid = DayGrid.of(who, first[who], end[who])
        a, day = grid.account, grid.day
        week = clock.week(day)
        h = health_at(weekly, a, week, lag=1)
        wind = _wind_down(hold, a, day)
        weekend = (day + 3) % 7 >= 5
        login = rng.random(len(a)) < sigmoid(-1.1 + 0.9 * h + act.digital[a]) * wind
        logins = 1 + rng.poisson(0.5, len(a))
        cards = rng.poisson(act.spend[a] * np.exp(0.3 * h) * wind * np.where(weekend, 1.3, 1.0)) * pays[a, week]
        bill = (rng.random(len(a)) < 0.05 * wind * np.where(weekend, 0.2, 1.0)) & bills[a, week]
        parts = [(login, logins), (cards > 0, cards), (bill, np.ones(len(a), np.int64))]
        in_block = (act.branch_account >= lo) & (act.branch_account < lo + BLOCK)
        key = act.branch_account[in_block] * np.int64(1 << 32) + act.branch_day[in_block]
        visit_key, visits = np.unique(key, return_counts=True)
        acc_col = np.concatenate([a[m] for m, _ in parts] + [visit_key >> 32])
        day_col = np.concatenate([day[m] for m, _ in parts] + [visit_key & ((1 << 32) - 1)])
        feat = np.concatenate([np.full(m.sum(), i) for i, (m, _) in enumerate(parts)]
                              + [np.full(len(visit_key), 3)])
        events = np.concatenate([v[m] for m, v in parts] + [visits]).astype(np.float64)
        order = np.lexsort((feat, day_col, acc_col))
        yield arrow_table("usage", {
            "account_id": cust.account_id[acc_col[order]], "usage_on": day_col[order],
            "feature": np.asarray(FEATURES, dtype=object)[feat[order]], "events": events[order],
        })
