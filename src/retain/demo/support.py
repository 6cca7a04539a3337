"""Support tickets (more, more urgent and more escalated when health is low) and survey answers.

Survey answers: the NPS drawn in :mod:`retain.demo.touchpoints` (kept only while the account is a customer),
an NPS two to three weeks after each yearly renewal, and a CSAT after a share of resolved tickets.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retain.demo._base import DAY, NO_DAY, Clock, arrow_table, ids, pick, sigmoid, stream
from retain.demo.accounts import Accounts, Contacts
from retain.demo.health import Health
from retain.demo.lifecycle import KINDS, Lifecycle
from retain.demo.spec import DemoSpec
from retain.demo.touchpoints import Touchpoints, nps_score

CATEGORIES = ("how_to", "bug", "billing", "outage", "feature_request", "integration")
SUBJECTS = {
    "how_to": ("How do I export a report?", "Setting up user roles", "如何添加新用户？", "Question about dashboards"),
    "bug": ("Dashboard not loading", "Numbers in report look wrong", "报表数据不一致", "Error when saving alert"),
    "billing": ("Invoice address change", "Charged twice this month", "发票抬头修改", "Question about renewal price"),
    "outage": ("Service unavailable", "Login fails for all users", "系统无法登录", "Very slow since this morning"),
    "feature_request": ("Request: custom fields", "Need SSO support", "希望支持企业微信", "Export to Excel please"),
    "integration": ("Salesforce sync failing", "API rate limit errors", "接口调用报错", "Webhook not firing"),
}
COMMENTS = {  # (English, Chinese) per score band
    "low": (("Too many bugs lately, we are reconsidering.", "Support takes forever.", "Not worth the price for us."),
            ("系统经常出问题，我们在考虑换供应商。", "价格太贵，效果不明显。")),
    "mid": (("It is fine, some features missing.", "OK overall."), ("还可以，有些功能不够完善。", "整体还行。")),
    "high": (("Great product, our team loves it!", "Excellent support, thank you.", "We would recommend you to peers."),
             ("非常好用，团队都很满意。", "客服响应很快，推荐！")),
}


def alive_weeks(clock: Clock, acc: Accounts, life: Lifecycle) -> np.ndarray:
    """(accounts, weeks) true while the account is a customer (after the first week of each spell)."""
    return life.alive_weeks(clock)


def tickets(spec: DemoSpec, clock: Clock, acc: Accounts, contacts: Contacts, health: Health,
            life: Lifecycle) -> tuple[pa.Table, dict[str, np.ndarray]]:
    rng = stream(spec, "tickets")
    alive = alive_weeks(clock, acc, life)
    h = np.nan_to_num(health.weekly, nan=0.0)
    size = (acc.seats / np.array([8, 45, 260])[acc.segment]) ** 0.3
    base = np.array([0.05, 0.13, 0.3])[acc.segment] * size
    since = np.arange(clock.n_weeks)[None, :] - clock.week(acc.created_day)[:, None]
    rate = base[:, None] * np.exp(-0.9 * h) * (1 + 1.5 * (since < 8))
    count = rng.poisson(np.where(alive, rate, 0.0))
    account, week = np.nonzero(count)
    reps = count[account, week]
    account, week = np.repeat(account, reps), np.repeat(week, reps)
    opened = (clock.week_start(week) * DAY + rng.integers(0, 7 * DAY, len(week)))
    ok = (opened < (clock.end + 1) * DAY) & life.alive(account, opened // DAY)
    account, week, opened = account[ok], week[ok], opened[ok]
    order = np.lexsort((account, opened))
    account, week, opened = account[order], week[order], opened[order]
    n = len(account)
    hw = h[account, week]
    u = rng.random(n)
    p_urgent, p_high = sigmoid(-3.6 - 0.9 * hw), sigmoid(-1.7 - 0.8 * hw)
    priority = np.where(u < p_urgent, "urgent", np.where(u < p_urgent + p_high, "high",
                        np.where(u > 0.8, "low", "normal"))).astype(object)
    onboarding = since[account, week] < 8
    cat_p = np.where(onboarding[:, None], [0.5, 0.15, 0.1, 0.03, 0.07, 0.15], [0.25, 0.3, 0.1, 0.07, 0.15, 0.13])
    cat = (rng.random(n)[:, None] > np.cumsum(cat_p, axis=1)).sum(axis=1).clip(0, len(CATEGORIES) - 1)
    category = np.asarray(CATEGORIES, dtype=object)[cat]
    subject_i = rng.integers(0, 4, n)
    subject_i = np.where(acc.chinese[account], 2, np.where(subject_i == 2, 0, subject_i))
    subject = np.array([SUBJECTS[c] for c in CATEGORIES], dtype=object)[cat, subject_i]
    serious = np.isin(priority, ["high", "urgent"])
    escalated = rng.random(n) < sigmoid(-2.8 - 1.0 * hw + 1.2 * serious)
    hours = np.select([priority == "urgent", priority == "high", priority == "normal"], [0.5, 2.0, 6.0], 14.0)
    first_resp = opened + np.round(hours * rng.lognormal(0, 0.6, n) * 3600).astype(np.int64)
    res_days = rng.lognormal(0, 0.8, n) * (1 + 3 * escalated) * np.where(cat == 4, 6, 1)
    resolved = opened + np.round(res_days * DAY).astype(np.int64)
    horizon = (clock.end + 1) * DAY
    open_ = resolved >= horizon
    first_resp = np.where(first_resp >= horizon, NO_DAY, first_resp)
    status = np.where(open_, np.where(first_resp == NO_DAY, "open", "pending"),
                      np.where(rng.random(n) < 0.7, "closed", "resolved")).astype(object)
    contact = contacts.random_of(rng, account, opened)
    ticket_id = ids("tkt_", n, 7)
    table = arrow_table("support_tickets", {
        "ticket_id": ticket_id, "account_id": acc.account_id[account], "opened_at": opened, "priority": priority,
        "category": category, "subject": subject, "contact_id": contacts.contact_id[contact],
        "first_response_at": first_resp, "resolved_at": np.where(open_, NO_DAY, resolved),
        "escalated": escalated, "status": status,
    })
    facts = {"account": account, "resolved": np.where(open_, NO_DAY, resolved), "escalated": escalated,
             "res_days": res_days, "h": hw, "contact": contact}
    return table, facts


def surveys(spec: DemoSpec, clock: Clock, acc: Accounts, contacts: Contacts, health: Health, life: Lifecycle,
            tp: Touchpoints, ticket_facts: dict[str, np.ndarray]) -> pa.Table:
    rng = stream(spec, "surveys")
    nps = tp.nps.take(life.alive(tp.nps.account, tp.nps.day))
    # NPS after yearly renewals
    r = life.rows
    ren = np.flatnonzero((r["kind"] == KINDS.index("renewal")) & (r["line"] == 0))
    ren = ren[rng.random(len(ren)) < 0.4]
    ren_acc = r["account"][ren]
    ren_day = r["start"][ren] + rng.integers(10, 24, len(ren))
    ok = (ren_day <= clock.end) & life.alive(ren_acc, ren_day)
    ren_acc, ren_day = ren_acc[ok], ren_day[ok]
    ren_score = nps_score(rng, health.at(ren_acc, clock.week(ren_day), lag=1))
    # CSAT after resolved tickets
    t = ticket_facts
    answered = (t["resolved"] != NO_DAY) & (rng.random(len(t["account"])) < 0.35)
    c_sec = t["resolved"][answered] + rng.integers(3600, 3 * DAY, answered.sum())
    c_acc = t["account"][answered]
    ok = (c_sec < (clock.end + 1) * DAY) & life.alive(c_acc, c_sec // DAY)
    c_sec, c_acc = c_sec[ok], c_acc[ok]
    csat = np.clip(np.round(4.1 + 0.5 * t["h"][answered][ok] - 0.7 * t["escalated"][answered][ok]
                            - 0.1 * t["res_days"][answered][ok] + rng.normal(0, 0.8, len(c_acc))), 1, 5)
    account = np.concatenate([nps.account, ren_acc, c_acc])
    seconds = np.concatenate([
        np.concatenate([nps.day, ren_day]) * DAY + rng.integers(8 * 3600, 20 * 3600, len(nps.day) + len(ren_day)),
        c_sec])
    kind = np.concatenate([nps.kind, np.full(len(ren_acc), "renewal", dtype=object),
                           np.full(len(c_acc), "support_ticket", dtype=object)])
    survey_type = np.concatenate([np.full(len(nps.day) + len(ren_acc), "nps", dtype=object),
                                  np.full(len(c_acc), "csat", dtype=object)])
    score = np.concatenate([nps.score, ren_score, csat]).astype(np.int64)
    nps_sec = np.concatenate([nps.day, ren_day]) * DAY
    contact = np.concatenate([contacts.random_of(rng, np.concatenate([nps.account, ren_acc]), nps_sec),
                              t["contact"][answered][ok]])
    band = np.where(survey_type == "nps", np.digitize(score, [7, 9]), np.digitize(score, [3, 5]))
    comment = np.full(len(score), None, dtype=object)
    has = rng.random(len(score)) < 0.3
    zh = acc.chinese[account]
    for b, key in enumerate(("low", "mid", "high")):
        for lang in (0, 1):
            m = has & (band == b) & (zh == bool(lang))
            comment[m] = pick(rng, COMMENTS[key][lang], m.sum())
    order = np.lexsort((account, seconds))
    return arrow_table("survey_responses", {
        "response_id": ids("srv_", len(account), 7), "account_id": acc.account_id[account][order],
        "responded_at": seconds[order], "survey_type": survey_type[order], "score": score[order],
        "touchpoint": kind[order], "contact_id": contacts.contact_id[contact][order], "comment": comment[order],
    })
