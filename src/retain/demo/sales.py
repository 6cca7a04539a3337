"""Leads, referrals, opportunities with stage history, and quota goals.

Every account was a lead once (converted on the day it signed). Other leads are disqualified, dropped, nurtured,
lost after qualification, or still new. Referral leads name the referring account, chosen among customers at
that moment with a strong preference for promoters (an NPS of 9-10 in the past year). Opportunities: new business
(won for every account, lost for qualified leads that did not buy), add-on (cross-sell and licence expansion),
and renewal (won when a yearly contract renews, lost when it ends).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from retain.demo._base import DAY, NO_DAY, Clock, arrow_table, ids, lookup, pick, stream
from retain.demo.accounts import Accounts, Contacts, speaks_chinese
from retain.demo.health import Health
from retain.demo.lifecycle import KINDS, Lifecycle
from retain.demo.names import company_names, person_names, phones
from retain.demo.spec import (
    ADDONS,
    CANCEL_REASONS,
    COMPETITORS,
    CORE_BY_SEGMENT,
    INDUSTRIES,
    REGIONS,
    SEGMENT_EMPLOYEES,
    DemoSpec,
)
from retain.demo.team import REGION_NAMES, Team
from retain.demo.touchpoints import Events

STAGES = ("prospecting", "discovery", "proposal", "negotiation")
STAGE_PROB = (0.1, 0.25, 0.5, 0.75)
LOSS_REASONS = ("price", "competitor", "no_decision", "timing", "features", "other")
CHANNEL_TO_SOURCE = {"inbound": "inbound", "outbound": "outbound", "referral": "referral", "partner": "partner",
                     "paid": "paid"}
# what a cancellation reason reads as on the lost renewal opportunity
CANCEL_TO_LOSS = {"price": "price", "competitor": "competitor", "no_value": "features", "budget": "price",
                  "acquired": "other", "other": "no_decision"}


def pick_referrers(spec: DemoSpec, clock: Clock, acc: Accounts, life: Lifecycle, nps: Events,
                   days: np.ndarray) -> np.ndarray:
    """A referring account per day in ``days`` (-1 when no customer existed yet).

    A customer who gave an NPS of 9-10 is up to 21 times as likely to refer as others, most in the months right
    after the score (the weight decays with a 120-day scale).
    """
    rng = stream(spec, "referrers")
    out = np.full(len(days), -1, dtype=np.int64)
    promoter = nps.score >= 9
    month = (days - clock.start) // 30
    for m in np.unique(month):
        rows = np.flatnonzero(month == m)
        ms = clock.start + int(m) * 30
        everyone = np.arange(len(acc))
        cand = np.flatnonzero((acc.created_day < ms) & life.alive(everyone, ms) & life.alive(everyone, ms + 30))
        if not len(cand):
            continue
        recent = promoter & (nps.day < ms) & (nps.day >= ms - 365)
        last_promoter = np.full(len(acc), -10_000, dtype=np.int64)
        np.maximum.at(last_promoter, nps.account[recent], nps.day[recent])
        # promoters refer most in the weeks after their score, less as it fades
        weight = 1.0 + 20.0 * np.exp(-(ms - last_promoter[cand]) / 120.0)
        out[rows] = cand[rng.choice(len(cand), len(rows), p=weight / weight.sum())]
    return out


@dataclass
class Leads:
    lead_id: np.ndarray
    created_sec: np.ndarray
    status: np.ndarray
    source: np.ndarray
    owner: np.ndarray  # team index
    account: np.ndarray  # converted account index, -1 otherwise
    chinese: np.ndarray
    contact_name: np.ndarray
    company: np.ndarray
    callback_dropped: np.ndarray  # asked to be called back on the only call, never called back
    qualified_lost: np.ndarray
    referrer: np.ndarray
    table: pa.Table | None = None


def build_leads(spec: DemoSpec, clock: Clock, acc: Accounts, contacts: Contacts, team: Team, life: Lifecycle,
                nps: Events) -> Leads:
    rng = stream(spec, "leads")
    n_acc = len(acc)
    cycle = np.array([30, 60, 110])[acc.segment] * rng.lognormal(0, 0.35, n_acc)
    conv_created = acc.created_sec - np.round(cycle * DAY).astype(np.int64)
    champion = contacts.first_of_role(n_acc, "champion")
    # leads that did not become customers
    n_other = int(round(spec.accounts * 3.5))
    g = 0.45 / 365.0
    span = clock.n_days + 60
    o_day = clock.start - 60 + np.floor(np.log1p(rng.random(n_other) * np.expm1(g * span)) / g).astype(np.int64)
    o_day = np.minimum(o_day, clock.end)
    o_sec = o_day * DAY + rng.integers(8 * 3600, 19 * 3600, n_other)
    o_source = pick(rng, ("inbound", "outbound", "referral", "event", "partner", "paid", "list"), n_other,
                    (0.25, 0.3, 0.07, 0.1, 0.08, 0.1, 0.1))
    age = clock.end - o_day
    u = rng.random(n_other)
    o_status = np.select(
        [age < 14, age < 35, u < 0.3, u < 0.52, u < 0.62],
        ["new", "working", "disqualified", "dropped", "nurturing"], "qualified").astype(object)
    region_names = np.asarray(REGION_NAMES, dtype=object)
    o_region = region_names[rng.choice(len(REGIONS), n_other, p=[s for _, s in REGIONS.values()])]
    o_chinese = speaks_chinese(rng, o_region, spec.zh_share)
    o_company = company_names(rng, n_other, o_chinese)
    o_contact, _ = person_names(rng, n_other, o_chinese)
    # referral leads name a customer; accounts won by referral too
    o_ref = np.where(o_source == "referral", pick_referrers(spec, clock, acc, life, nps, o_day), -1)
    acc_ref = np.where(acc.channel == "referral", pick_referrers(spec, clock, acc, life, nps,
                                                                 acc.created_day - 20), -1)
    o_source = np.where((o_source == "referral") & (o_ref < 0), "inbound", o_source)
    # reps in the lead's region work it
    owner = np.empty(n_other, dtype=np.int64)
    for region in REGION_NAMES:
        rows = np.flatnonzero(o_region == region)
        people = np.concatenate([team.of_role("rep", region), team.of_role("sdr", region)])
        people = people if len(people) else team.of_role("rep")
        owner[rows] = people[rng.integers(0, len(people), len(rows))]
    callback_dropped = (o_status == "dropped") & (rng.random(n_other) < 0.45)
    disq = pick(rng, ("no_budget", "not_a_fit", "no_response", "bad_timing", "duplicate"), n_other)
    reason = np.where(o_status == "disqualified", disq,
                      np.where(o_status == "dropped", pick(rng, ("no_response", "no_follow_up"), n_other), None))
    lead_days_seen = o_sec + np.round(rng.exponential(6, n_other) * DAY).astype(np.int64)
    last_touch = np.where(o_status == "new", NO_DAY, np.minimum(lead_days_seen, (clock.end + 1) * DAY - 1))
    # assemble: converted leads first (same order as accounts), then the others, sorted by creation time
    created = np.concatenate([conv_created, o_sec])
    status = np.concatenate([np.full(n_acc, "converted", dtype=object), o_status])
    source = np.concatenate([lookup(CHANNEL_TO_SOURCE, acc.channel), o_source])
    source[:n_acc] = np.where((source[:n_acc] == "referral") & (acc_ref < 0), "inbound", source[:n_acc])
    account = np.concatenate([np.arange(n_acc), np.full(n_other, -1)])
    order = np.argsort(created, kind="stable")
    n = len(created)
    lead_id = np.empty(n, dtype=object)
    lead_id[order] = ids("lead_", n, 7)
    employees = np.concatenate([acc.employees, np.round(np.asarray(SEGMENT_EMPLOYEES)[
        rng.choice(3, n_other, p=(0.6, 0.3, 0.1))] * rng.lognormal(0, 0.6, n_other)).astype(np.int64)])
    company = np.concatenate([acc.name, o_company])
    contact_name = np.concatenate([contacts.name[champion], o_contact])
    chinese = np.concatenate([acc.chinese, o_chinese])
    email = np.concatenate([contacts.table.column("email").to_numpy(zero_copy_only=False)[champion],
                            np.char.add(np.char.add("contact", np.arange(n_other).astype(str)),
                                        "@prospect.example.com").astype(object)])
    phone = np.concatenate([contacts.table.column("phone").to_numpy(zero_copy_only=False)[champion],
                            phones(rng, n_other, o_chinese)])
    referrer = np.concatenate([acc_ref, o_ref])
    owner_all = np.concatenate([acc.owner, owner])
    conv_at = np.concatenate([acc.created_sec, np.full(n_other, NO_DAY)])
    table = arrow_table("leads", {
        "lead_id": lead_id[order], "created_at": created[order], "source": source[order], "status": status[order],
        "company": company[order], "contact_name": contact_name[order], "email": email[order],
        "phone": phone[order], "industry": np.concatenate([acc.industry, pick(rng, INDUSTRIES, n_other)])[order],
        "region": np.concatenate([acc.region, o_region])[order], "employees": employees[order],
        "owner_id": team.member_id[owner_all][order],
        "referring_account_id": np.where(referrer >= 0, acc.account_id[np.maximum(referrer, 0)], None)[order],
        "disqualify_reason": np.concatenate([np.full(n_acc, None, dtype=object), reason])[order],
        "converted_account_id": np.where(account >= 0, acc.account_id[np.maximum(account, 0)], None)[order],
        "converted_at": conv_at[order],
        "last_touched_at": np.concatenate([acc.created_sec, last_touch])[order],
    })
    return Leads(
        lead_id=lead_id, created_sec=created, status=status, source=source, owner=owner_all, account=account,
        chinese=chinese, contact_name=contact_name, company=company,
        callback_dropped=np.concatenate([np.zeros(n_acc, bool), callback_dropped]),
        qualified_lost=np.concatenate([np.zeros(n_acc, bool), o_status == "qualified"]),
        referrer=referrer, table=table,
    )


@dataclass
class Opportunities:
    """Opportunity facts kept for conversations and activities (index-aligned with the table rows)."""

    opportunity_id: np.ndarray
    opp_type: np.ndarray
    account: np.ndarray  # -1 for prospects
    lead: np.ndarray  # -1 when none
    owner: np.ndarray
    created_sec: np.ndarray
    closed_sec: np.ndarray  # NO_DAY while open
    won: np.ndarray  # bool (False while open)
    competitor: np.ndarray  # object or None
    product: np.ndarray
    amount: np.ndarray
    table: pa.Table
    stages: pa.Table


def build_opportunities(spec: DemoSpec, clock: Clock, acc: Accounts, team: Team, health: Health, life: Lifecycle,
                        leads: Leads) -> Opportunities:
    rng = stream(spec, "opportunities")
    r = life.rows
    parts = []
    core = np.asarray(CORE_BY_SEGMENT, dtype=object)
    # new business won: one per account, from its lead
    first_core = np.flatnonzero((r["line"] == 0) & (r["kind"] == KINDS.index("new")))
    a = r["account"][first_core]
    lead_created = leads.created_sec[a]
    parts.append(dict(
        type="new_business", account=a, lead=a, owner=acc.owner[a],
        created=lead_created + np.round((acc.created_sec[a] - lead_created) * rng.uniform(0.1, 0.4, len(a))),
        closed=acc.created_sec[a], won=np.ones(len(a), bool), product=core[acc.segment[a]],
        amount=r["mrr"][first_core] * 12, loss=np.full(len(a), None, dtype=object),
        competitor=np.where(rng.random(len(a)) < 0.35, pick(rng, COMPETITORS, len(a)), None),
    ))
    # new business lost: qualified leads that did not buy
    q = np.flatnonzero(leads.qualified_lost)
    created = leads.created_sec[q] + rng.integers(3, 20, len(q)) * DAY
    closed = created + rng.integers(20, 120, len(q)) * DAY
    loss = pick(rng, LOSS_REASONS, len(q), (0.25, 0.3, 0.2, 0.1, 0.1, 0.05))
    seg = rng.choice(3, len(q), p=(0.6, 0.3, 0.1))
    parts.append(dict(
        type="new_business", account=np.full(len(q), -1), lead=q, owner=leads.owner[q], created=created,
        closed=closed, won=np.zeros(len(q), bool), product=core[seg],
        amount=np.round(np.array([8, 45, 260])[seg] * rng.lognormal(0, 0.5, len(q))) * np.array([25, 45, 70])[seg]
        * 12, loss=loss,
        competitor=np.where((loss == "competitor") | (rng.random(len(q)) < 0.3), pick(rng, COMPETITORS, len(q)), None),
    ))
    # new business won back: a churned account returning (no lead; the rep reopens the account)
    wb = np.flatnonzero((r["line"] == 0) & (r["kind"] == KINDS.index("winback")))
    a = r["account"][wb]
    closed = r["start"][wb] * DAY + rng.integers(9 * 3600, 18 * 3600, len(wb))
    parts.append(dict(
        type="new_business", account=a, lead=np.full(len(a), -1), owner=acc.owner[a],
        created=closed - rng.integers(20, 75, len(wb)) * DAY, closed=closed, won=np.ones(len(a), bool),
        product=core[r["tier"][wb]], amount=r["mrr"][wb] * 12, loss=np.full(len(a), None, dtype=object),
        competitor=np.where(rng.random(len(a)) < 0.2, pick(rng, COMPETITORS, len(a)), None), label="win-back",
    ))
    # add-on won: cross-sell and licence expansion
    xs = np.flatnonzero(np.isin(r["kind"], [KINDS.index("cross_sell"), KINDS.index("expansion")]))
    a = r["account"][xs]
    closed = r["start"][xs] * DAY + rng.integers(9 * 3600, 18 * 3600, len(xs))
    addon_names = np.asarray((None, *ADDONS), dtype=object)
    product = np.where(r["line"][xs] == 0, core[r["tier"][xs]], addon_names[r["line"][xs]])
    prev_qty = np.where(r["kind"][xs] == KINDS.index("expansion"), _previous_qty(r)[xs], 0)
    parts.append(dict(
        type="add_on", account=a, lead=np.full(len(a), -1), owner=acc.owner[a],
        created=closed - rng.integers(10, 60, len(xs)) * DAY, closed=closed, won=np.ones(len(a), bool),
        product=product, amount=np.maximum(r["mrr"][xs] * 12 * (1 - prev_qty / np.maximum(r["qty"][xs], 1)), 100),
        loss=np.full(len(a), None, dtype=object), competitor=np.full(len(a), None, dtype=object),
    ))
    # add-on lost: pitched to customers who did not buy (less healthy ones)
    n_lost = len(xs) // 2
    cand = rng.integers(0, len(acc), n_lost * 3)
    day = acc.created_day[cand] + rng.integers(60, 700, len(cand))
    ok = (day < clock.end - 30) & life.alive(cand, day)
    cand, day = cand[ok][:n_lost], day[ok][:n_lost]
    loss = pick(rng, LOSS_REASONS, len(cand), (0.4, 0.05, 0.3, 0.15, 0.05, 0.05))
    parts.append(dict(
        type="add_on", account=cand, lead=np.full(len(cand), -1), owner=acc.owner[cand],
        created=day * DAY + 10 * 3600, closed=(day + rng.integers(14, 60, len(cand))) * DAY + 15 * 3600,
        won=np.zeros(len(cand), bool), product=pick(rng, ADDONS, len(cand)),
        amount=acc.seats[cand] * 10.0 * 12, loss=loss, competitor=np.full(len(cand), None, dtype=object),
    ))
    # renewals: won when a yearly core contract renews, lost when it ends at term
    ren = np.flatnonzero((r["line"] == 0) & (r["kind"] == KINDS.index("renewal")))
    lost = np.flatnonzero((r["line"] == 0) & (r["reason"] >= 0) & (r["term_end"] != NO_DAY)
                          & (r["end"] == r["term_end"]))
    for rows, won in ((ren, True), (lost, False)):
        a = r["account"][rows]
        at = (r["start"][rows] if won else r["end"][rows]) * DAY + 9 * 3600
        reason = np.asarray(CANCEL_REASONS, dtype=object)[np.maximum(r["reason"][rows], 0)]
        loss = None if won else lookup(CANCEL_TO_LOSS, reason)
        parts.append(dict(
            type="renewal", account=a, lead=np.full(len(a), -1), owner=acc.owner[a], created=at - 90 * DAY,
            closed=at, won=np.full(len(a), won), product=core[r["tier"][rows]], amount=r["mrr"][rows] * 12,
            loss=np.full(len(a), None, dtype=object) if won else loss,
            competitor=(np.full(len(a), None, dtype=object) if won else
                        np.where(reason == "competitor", pick(rng, COMPETITORS, len(a)), None)),
        ))
    # open renewals: yearly contracts whose term ends in the next 90 days
    up = np.flatnonzero((r["line"] == 0) & (r["end"] == NO_DAY) & (r["term_end"] != NO_DAY)
                        & (r["term_end"] - clock.end <= 90))
    a = r["account"][up]
    parts.append(dict(
        type="renewal", account=a, lead=np.full(len(a), -1), owner=acc.owner[a],
        created=(r["term_end"][up] - 90) * DAY + 9 * 3600, closed=np.full(len(a), NO_DAY),
        won=np.zeros(len(a), bool), product=core[r["tier"][up]], amount=r["mrr"][up] * 12,
        loss=np.full(len(a), None, dtype=object), competitor=np.full(len(a), None, dtype=object),
    ))
    label = np.concatenate([np.full(len(p["account"]), p.pop("label", p["type"]), dtype=object) for p in parts])
    cat = {k: np.concatenate([np.asarray(p[k]) if np.ndim(p[k]) else np.full(len(p["account"]), p[k], dtype=object)
                              for p in parts]) for k in parts[0]}
    horizon = (clock.end + 1) * DAY
    created = np.minimum(cat["created"].astype(np.int64), horizon - DAY)
    closed = cat["closed"].astype(np.int64)
    is_open = (closed == NO_DAY) | (closed >= horizon)
    closed = np.where(is_open, NO_DAY, np.maximum(closed, created))
    won = cat["won"].astype(bool) & ~is_open
    order = np.lexsort((cat["account"], created))
    n = len(created)
    opp_id = ids("opp_", n, 7)
    # stage reached: won -> all; lost -> random stage; open -> by age
    reached = np.where(won, 4, rng.integers(1, 5, n))
    reached = np.where(is_open, np.clip((horizon - created) // (20 * DAY) + 1, 1, 4), reached)
    stage = np.where(is_open, np.asarray(STAGES, dtype=object)[reached - 1],
                     np.where(won, "closed_won", "closed_lost")).astype(object)
    prob = np.where(is_open, np.asarray(STAGE_PROB)[reached - 1], np.where(won, 1.0, 0.0))
    amount = np.round(cat["amount"].astype(float), 2)
    lead_idx = cat["lead"].astype(np.int64)
    account = cat["account"].astype(np.int64)
    owner = cat["owner"].astype(np.int64)
    name = np.where(account >= 0, acc.name[np.maximum(account, 0)], leads.company[np.maximum(lead_idx, 0)])
    name = name + " - " + label
    close_on = np.where(is_open, created // DAY + 60, closed // DAY)
    competitor = np.where(is_open, None, cat["competitor"])
    loss = np.where(is_open | won, None, cat["loss"])
    loss = np.where((loss == None) & ~is_open & ~won, "other", loss)  # noqa: E711
    table = arrow_table("opportunities", {
        "opportunity_id": opp_id, "created_at": created[order], "opportunity_type": cat["type"][order],
        "stage": stage[order],
        "account_id": np.where(account >= 0, acc.account_id[np.maximum(account, 0)], None)[order],
        "lead_id": np.where(lead_idx >= 0, leads.lead_id[np.maximum(lead_idx, 0)], None)[order],
        "name": name[order], "owner_id": team.member_id[owner][order], "amount": amount[order], "currency": "USD",
        "product_id": cat["product"][order], "close_on": close_on[order], "closed_at": closed[order],
        "is_won": np.where(is_open, None, won).astype(object)[order], "loss_reason": loss[order],
        "competitor": competitor[order], "probability": prob[order],
    })
    stages = _stage_history(rng, opp_id, created[order], closed[order], reached[order], won[order],
                            is_open[order], amount[order], horizon)
    return Opportunities(
        opportunity_id=opp_id, opp_type=cat["type"][order], account=account[order], lead=lead_idx[order],
        owner=owner[order], created_sec=created[order], closed_sec=closed[order], won=won[order],
        competitor=cat["competitor"][order], product=cat["product"][order], amount=amount[order], table=table,
        stages=stages,
    )


def _previous_qty(r: dict[str, np.ndarray]) -> np.ndarray:
    """Per subscription row the quantity of the previous period of the same account and line (0 for the first)."""
    order = np.lexsort((r["start"], r["line"], r["account"]))
    acc, line, qty = r["account"][order], r["line"][order], r["qty"][order]
    same = np.r_[False, (acc[1:] == acc[:-1]) & (line[1:] == line[:-1])]
    prev = np.where(same, np.r_[0, qty[:-1]], 0)
    out = np.empty_like(prev)
    out[order] = prev
    return out


def _stage_history(rng, opp_id, created, closed, reached, won, is_open, amount, horizon) -> pa.Table:
    n_rows = reached + (~is_open)
    opp = np.repeat(np.arange(len(opp_id)), n_rows)
    k = np.arange(len(opp)) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    end = np.where(is_open, horizon - DAY, closed)
    span = np.maximum(end - created, 4 * 3600)
    last = k == reached[opp]  # the closing row
    frac = np.where(last, 1.0, k / np.maximum(reached[opp], 1))
    entered = created[opp] + np.round(span[opp] * frac).astype(np.int64)
    entered = entered + k  # strictly increasing within an opportunity (key: opportunity_id, entered_at)
    stage = np.where(last, np.where(won[opp], "closed_won", "closed_lost"),
                     np.asarray(STAGES, dtype=object)[np.minimum(k, 3)]).astype(object)
    prob = np.where(last, np.where(won[opp], 1.0, 0.0), np.asarray(STAGE_PROB)[np.minimum(k, 3)])
    return arrow_table("opportunity_stages", {
        "opportunity_id": opp_id[opp], "entered_at": entered, "stage": stage,
        "amount": np.round(amount[opp] * rng.uniform(0.9, 1.1, len(opp)) * np.where(last, 1.0, 1.0), 2),
        "probability": prob,
    })


def goals_table(spec: DemoSpec, clock: Clock, team: Team, opps: Opportunities) -> pa.Table:
    """Quarterly targets per rep (new business and add-on ARR) and per CSM (add-on ARR), near what they reach."""
    rng = stream(spec, "goals")
    starts = []
    y, m = spec.start.year, ((spec.start.month - 1) // 3) * 3 + 1
    while dt.date(y, m, 1) <= spec.end:
        starts.append(dt.date(y, m, 1))
        m += 3
        if m > 12:
            y, m = y + 1, m - 12
    q_start = np.array([(s - dt.date(1970, 1, 1)).days for s in starts])
    q_end = np.r_[q_start[1:] - 1, q_start[-1] + 91]
    reps = team.of_role("rep")
    csms = team.of_role("csm")
    quarters = len(q_start)
    total_nb = opps.amount[opps.won & (opps.opp_type == "new_business")].sum()
    total_ao = opps.amount[opps.won & (opps.opp_type == "add_on")].sum()
    rows = []
    for members, metric, total in ((reps, "new_business_arr", total_nb), (reps, "add_on_arr", total_ao * 0.6),
                                   (csms, "add_on_arr", total_ao * 0.4)):
        per = total / max(1, len(members)) / quarters
        mm = np.repeat(members, quarters)
        qq = np.tile(np.arange(quarters), len(members))
        target = np.round(per * rng.uniform(0.9, 1.4, len(mm)) * (0.7 + 0.6 * qq / max(1, quarters - 1)), -2)
        rows.append((mm, qq, np.full(len(mm), metric, dtype=object), target))
    member = np.concatenate([r[0] for r in rows])
    quarter = np.concatenate([r[1] for r in rows])
    metric = np.concatenate([r[2] for r in rows])
    target = np.concatenate([r[3] for r in rows])
    return arrow_table("goals", {
        "goal_id": ids("goal_", len(member), 6), "metric": metric, "period_start_on": q_start[quarter],
        "period_end_on": q_end[quarter], "target": target, "member_id": team.member_id[member],
        "team": np.full(len(member), None, dtype=object),
    })
