"""Activities: every recorded call, touches on leads, and the rhythm of account management.

Customer side: CSM e-mails and meetings (more when the account is healthy and engaged), onboarding milestones
(reached later when health is low), QBRs (held or cancelled, as scheduled in :mod:`retain.demo.touchpoints`)
and executive meetings for larger accounts (skipped when the relationship is poor). Lead side: e-mails and call
attempts before conversion; leads dropped after the callback request get no touch after that one call.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retain.demo._base import DAY, NO_DAY, Clock, arrow_table, ids, pick, sigmoid, stream
from retain.demo.accounts import Accounts, Contacts
from retain.demo.conversations import Calls
from retain.demo.health import Health
from retain.demo.lifecycle import Lifecycle
from retain.demo.sales import Leads
from retain.demo.spec import DemoSpec
from retain.demo.support import alive_weeks
from retain.demo.team import Team
from retain.demo.touchpoints import Touchpoints

MILESTONES = (("kickoff", 3), ("data_connected", 12), ("admin_trained", 21), ("go_live", 40))


def activities_table(spec: DemoSpec, clock: Clock, acc: Accounts, contacts: Contacts, team: Team, health: Health,
                     life: Lifecycle, tp: Touchpoints, leads: Leads, calls: Calls,
                     conversation_id: np.ndarray, opportunity_id: np.ndarray) -> pa.Table:
    rng = stream(spec, "activities")
    cols: dict[str, list] = {k: [] for k in ("time", "type", "account", "lead", "opp", "member", "direction",
                                               "subject", "outcome", "contact")}

    def add(time, kind, account, lead, opp, member, direction, subject, outcome, contact):
        m = len(time)
        for key, val in (("time", time), ("type", kind), ("account", account), ("lead", lead), ("opp", opp),
                         ("member", member), ("direction", direction), ("subject", subject),
                         ("outcome", outcome), ("contact", contact)):
            arr = np.asarray(val)
            cols[key].append(np.broadcast_to(arr, (m,)) if arr.ndim == 0 else arr)

    # 1. calls and meetings that were recorded
    meeting = np.isin(calls.call_type, ["demo", "negotiation", "qbr"])
    add(calls.started, np.where(meeting, "meeting", "call"), calls.account, calls.lead, calls.opp, calls.member,
        "outbound", np.char.add("recorded ", calls.call_type.astype(str)), "connected", -1)
    # 2. lead touches: unanswered call attempts and e-mails between creation and conversion / last touch
    status = leads.status
    m = len(status)
    n_touch = np.select(
        [leads.account >= 0, leads.callback_dropped, status == "dropped", status == "disqualified",
         status == "nurturing", status == "qualified"],
        [rng.integers(3, 9, m), 0, rng.integers(0, 2, m), rng.integers(1, 4, m), rng.integers(2, 6, m),
         rng.integers(4, 9, m)],
        rng.integers(0, 3, m))
    lead = np.repeat(np.arange(len(status)), n_touch)
    stop = np.where(leads.account >= 0, acc.created_sec[np.maximum(leads.account, 0)],
                    leads.created_sec + 45 * DAY)[lead]
    t = leads.created_sec[lead] + np.round(rng.random(len(lead)) * (stop - leads.created_sec[lead])).astype(np.int64)
    kind = np.where(rng.random(len(lead)) < 0.5, "email", "call").astype(object)
    outcome = np.where(kind == "call", pick(rng, ("no_answer", "voicemail", "connected"), len(lead)), "sent")
    add(t, kind, np.where(leads.account[lead] >= 0, leads.account[lead], -1), lead, -1, leads.owner[lead],
        "outbound", np.where(kind == "email", "follow-up e-mail", "follow-up call"), outcome, -1)
    # 3. account management, week by week while a customer
    alive = alive_weeks(clock, acc, life)
    h = np.nan_to_num(health.weekly, nan=0.0)
    seg = np.array([1.0, 1.6, 2.4])[acc.segment][:, None]
    for kind, base, slope, direction in (("email", 0.35, 0.3, "outbound"), ("meeting", 0.05, 0.5, "outbound"),
                                         ("call", 0.06, -0.3, "inbound")):
        count = rng.poisson(np.where(alive, base * seg * np.exp(slope * h), 0.0))
        a, w = np.nonzero(count)
        reps = count[a, w]
        a, w = np.repeat(a, reps), np.repeat(w, reps)
        t = clock.week_start(w) * DAY + rng.integers(8 * 3600, 5 * DAY, len(w))
        ok = life.alive(a, t // DAY)
        a, t = a[ok], t[ok]
        subject = {"email": "check-in", "meeting": "working session", "call": "customer called"}[kind]
        add(t, kind, a, -1, -1, acc.csm[a], direction, subject, "completed", contacts.random_of(rng, a, t))
    # onboarding milestones, later when health is low
    for name, days in MILESTONES:
        a = np.arange(len(acc))
        delay = days * np.exp(-0.35 * health.at(a, clock.week(acc.created_day) + 2)) * rng.lognormal(0, 0.25, len(a))
        day = acc.created_day + np.round(delay).astype(np.int64)
        ok = (day <= clock.end) & life.alive(a, day)
        add(day[ok] * DAY + 11 * 3600, "onboarding_milestone", a[ok], -1, -1, acc.csm[a[ok]], "internal", name,
            "completed", -1)
    # QBRs as scheduled (held or cancelled)
    q = tp.qbr.take(life.alive(tp.qbr.account, tp.qbr.day))
    add(q.day * DAY + 14 * 3600, "qbr", q.account, -1, -1, acc.csm[q.account], "outbound", "quarterly business review",
        np.where(q.score == 1, "completed", "cancelled"), contacts.random_of(rng, q.account, q.day * DAY))
    # executive meetings for larger accounts, twice a year when the relationship allows
    from retain.demo.touchpoints import recurring

    e_acc, e_day = recurring(acc.created_day, 60, 180, clock.end, acc.segment >= 1)
    e_day = np.minimum(e_day + rng.integers(0, 30, len(e_day)), clock.end)
    held = rng.random(len(e_acc)) < sigmoid(0.5 + 1.2 * health.at(e_acc, clock.week(e_day)))
    held &= life.alive(e_acc, e_day)
    add(e_day[held] * DAY + 15 * 3600, "executive_meeting", e_acc[held], -1, -1, acc.owner[e_acc[held]], "outbound",
        "executive sponsor meeting", "completed", contacts.first_of_role(len(acc), "executive_sponsor")[e_acc[held]])
    c = {k: np.concatenate(v) for k, v in cols.items()}
    horizon = (clock.end + 1) * DAY
    keep = (c["time"] < horizon) & (c["time"] != NO_DAY)
    c = {k: v[keep] for k, v in c.items()}
    order = np.lexsort((c["type"].astype(str), c["time"]))
    c = {k: v[order] for k, v in c.items()}
    account, lead, opp, contact = (c[k].astype(np.int64) for k in ("account", "lead", "opp", "contact"))
    return arrow_table("activities", {
        "activity_id": ids("act_", len(account), 8), "occurred_at": c["time"], "activity_type": c["type"],
        "account_id": np.where(account >= 0, acc.account_id[np.maximum(account, 0)], None),
        "lead_id": np.where(lead >= 0, leads.lead_id[np.maximum(lead, 0)], None),
        "opportunity_id": np.where(opp >= 0, opportunity_id[np.maximum(opp, 0)], None),
        "contact_id": np.where(contact >= 0, contacts.contact_id[np.maximum(contact, 0)], None),
        "member_id": team.member_id[c["member"].astype(np.int64)], "direction": c["direction"],
        "subject": c["subject"], "outcome": c["outcome"],
    })
