"""Recorded calls with transcripts whose words follow the deal, plus manual CRM tags that sometimes disagree.

Which calls happen: a first call on most leads (a cold call for outbound leads), demo and negotiation calls on
opportunities, a call before each renewal and some QBRs. Which beats a call contains (see
:mod:`retain.demo.transcripts`) depends on the facts: won deals have more discovery questions and longer customer
answers (a lower rep talk ratio), lost ones more long pitches, objections and competitors; cold calls that open
with "how are you doing?" convert less; leads dropped after one call asked to be called back on that call.
The deal's outcome is drawn first and the call is written to match: a correlation to find, not a cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from retain.demo._base import DAY, NO_DAY, Clock, arrow_table, ids, pick, sigmoid, stream
from retain.demo.accounts import Accounts, Contacts
from retain.demo.health import Health
from retain.demo.names import person_names, phones
from retain.demo.sales import Leads, Opportunities
from retain.demo.spec import COMPETITORS, PRODUCT_INDEX, PRODUCTS, DemoSpec
from retain.demo.team import Team
from retain.demo.touchpoints import Touchpoints
from retain.demo.transcripts import BEAT_NAMES, BEATS

CUSTOMER_FIRST = {"competitor", "objection", "callback"}
DISCLOSURE_LOGIT = 1.25  # P(recording disclosure) = sigmoid(1.25 + 0.9 skill): about 75 % of calls
# the callback requests of transcripts.BEATS["callback"], in order: (weekday or None, days ahead, hour)
CALLBACKS = (
    ("next Monday morning", "next_monday", 10),
    ("tomorrow evening", "tomorrow", 19),
    ("Thursday afternoon", "thursday", 15),
    ("next week, Wednesday", "next_wednesday", 10),
)


def callback_due(started: np.ndarray, alt: np.ndarray) -> np.ndarray:
    """When the prospect asked to be called back (seconds), resolved against the call's own time."""
    day = started // DAY
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    to_next_week = 7 - weekday
    delta = np.select(
        [alt == 0, alt == 1, alt == 2],
        [to_next_week, 1, np.where((3 - weekday) % 7 == 0, 7, (3 - weekday) % 7)],
        to_next_week + 2,
    )
    hour = np.asarray([c[2] for c in CALLBACKS])[np.clip(alt, 0, len(CALLBACKS) - 1)]
    return (day + delta) * DAY + hour * 3600
B = {name: i for i, name in enumerate(BEAT_NAMES)}


@dataclass
class Calls:
    """One row per conversation, with the facts its transcript was written from."""

    lead: np.ndarray  # -1 when none
    opp: np.ndarray  # -1 when none
    account: np.ndarray  # -1 when none
    member: np.ndarray
    started: np.ndarray  # seconds
    call_type: np.ndarray
    zh: np.ndarray
    good: np.ndarray  # the deal was won / the lead converted / the customer is healthy
    health: np.ndarray  # NaN for prospects
    callback: np.ndarray
    callback_alt: np.ndarray  # which callback request was said (index into CALLBACKS), -1 when none
    competitor: np.ndarray
    budget: np.ndarray  # 1 yes, 0 none, -1 not discussed
    product: np.ndarray


def _office_hours(rng: np.random.Generator, seconds: np.ndarray) -> np.ndarray:
    """The same day between 08:30 and 18:00 if that is not earlier, else the next day."""
    office = (seconds // DAY) * DAY + rng.integers(8 * 3600 + 1800, 18 * 3600, len(seconds))
    return np.where(office < seconds, office + DAY, office)


def plan_calls(spec: DemoSpec, clock: Clock, acc: Accounts, team: Team, health: Health, leads: Leads,
               opps: Opportunities, tp: Touchpoints, life_alive) -> tuple[Calls, np.ndarray]:
    """Which calls happen, when, with whom; also each lead's budget truth (1/0/-1) for tags."""
    rng = stream(spec, "calls")
    n_leads = len(leads.lead_id)
    converted = leads.account >= 0
    status = leads.status
    p_call = np.select([converted, leads.callback_dropped, status == "qualified", status == "new"],
                       [0.85, 1.0, 0.9, 0.2], 0.5)
    called = rng.random(n_leads) < p_call
    lead_budget = np.where(rng.random(n_leads) < np.where(converted, 0.75, 0.35), 1,
                           np.where(rng.random(n_leads) < 0.5, 0, -1))
    lead_product = pick(rng, ("p_starter", "p_professional", "p_enterprise", "p_analytics"), n_leads,
                        (0.5, 0.3, 0.1, 0.1))
    parts = []
    # first call on a lead
    lc = np.flatnonzero(called)
    start = _office_hours(rng, leads.created_sec[lc] + np.round(rng.uniform(0.1, 3.0, len(lc)) * DAY).astype(np.int64))
    cold = np.isin(leads.source[lc], ["outbound", "list", "event"])
    ask_back = leads.callback_dropped[lc] | (converted[lc] & (rng.random(len(lc)) < 0.3))
    alt = np.where(ask_back, rng.integers(0, len(CALLBACKS), len(lc)), -1)
    parts.append(dict(lead=lc, opp=-1, account=np.where(converted[lc], leads.account[lc], -1),
                      member=leads.owner[lc], started=start,
                      call_type=np.where(cold, "cold_call", "discovery").astype(object), good=converted[lc],
                      callback=ask_back, callback_alt=alt, competitor=None,
                      budget=np.where(ask_back, -1, lead_budget[lc]),
                      product=lead_product[lc]))
    # the honoured callback: a second call at the time asked for, for leads that went on
    honoured = ask_back & converted[lc]
    cb = lc[honoured]
    due = callback_due(start[honoured], alt[honoured]) + rng.integers(-900, 1800, len(cb))
    parts.append(dict(lead=cb, opp=-1, account=leads.account[cb], member=leads.owner[cb], started=due,
                      call_type="discovery", good=True, callback=False, callback_alt=-1, competitor=None,
                      budget=lead_budget[cb],
                      product=lead_product[cb]))
    # opportunity calls
    closed = opps.closed_sec != NO_DAY
    span_end = np.where(closed, opps.closed_sec, (clock.end + 1) * DAY - DAY)
    for call_type, share, frac in (("demo", 0.8, 0.35), ("negotiation", 0.6, 0.8)):
        m = (opps.opp_type != "renewal") & (rng.random(len(opps.opp_type)) < share)
        if call_type == "negotiation":
            m &= opps.opp_type == "new_business"
        o = np.flatnonzero(m)
        t = opps.created_sec[o] + np.round((span_end[o] - opps.created_sec[o]) * frac).astype(np.int64)
        parts.append(dict(lead=np.maximum(opps.lead[o], -1), opp=o, account=opps.account[o], member=opps.owner[o],
                          started=t, call_type=call_type, good=opps.won[o], callback=False, callback_alt=-1,
                          competitor=opps.competitor[o],
                          budget=np.where(opps.lead[o] >= 0, lead_budget[np.maximum(opps.lead[o], 0)], -1),
                          product=opps.product[o]))
    o = np.flatnonzero((opps.opp_type == "renewal") & (rng.random(len(opps.opp_type)) < 0.6))
    t = opps.created_sec[o] + np.round((span_end[o] - opps.created_sec[o]) * 0.5).astype(np.int64)
    parts.append(dict(lead=-1, opp=o, account=opps.account[o], member=acc.csm[opps.account[o]], started=t,
                      call_type="renewal", good=opps.won[o], callback=False, callback_alt=-1,
                      competitor=opps.competitor[o],
                      budget=-1, product=opps.product[o]))
    # a share of held QBRs is recorded
    q = tp.qbr.take((tp.qbr.score == 1) & life_alive(tp.qbr.account, tp.qbr.day) & (rng.random(len(tp.qbr.day)) < 0.4))
    parts.append(dict(lead=-1, opp=-1, account=q.account, member=acc.csm[q.account],
                      started=q.day * DAY + rng.integers(9 * 3600, 17 * 3600, len(q.day)), call_type="qbr",
                      good=True, callback=False, callback_alt=-1, competitor=None, budget=-1, product=None))
    n = [len(p["started"]) for p in parts]

    def cat(key, dtype=None):
        return np.concatenate([np.broadcast_to(np.asarray(p[key], dtype=dtype), (k,)) if np.ndim(p[key]) == 0
                               else np.asarray(p[key], dtype=dtype) for p, k in zip(parts, n, strict=True)])

    started = cat("started").astype(np.int64)
    # calls happen in office hours, except a callback kept at the time the prospect asked for
    exact = np.repeat(np.arange(len(parts)) <= 1, n)
    started = np.where(exact, started, _office_hours(rng, started))
    started = np.minimum(started, clock.end * DAY + 17 * 3600)
    account = cat("account").astype(np.int64)
    lead = cat("lead").astype(np.int64)
    week = clock.week(started // DAY)
    h = np.where(account >= 0, health.at(np.maximum(account, 0), week), np.nan)
    is_customer_call = np.isin(cat("call_type", object), ["renewal", "qbr"])
    good = np.where(is_customer_call, np.nan_to_num(h) > -0.3 + rng.normal(0, 0.4, len(h)), cat("good").astype(bool))
    zh = np.where(account >= 0, acc.chinese[np.maximum(account, 0)], leads.chinese[np.maximum(lead, 0)])
    order = np.argsort(started, kind="stable")
    calls = Calls(
        lead=lead[order], opp=cat("opp").astype(np.int64)[order], account=account[order],
        member=cat("member").astype(np.int64)[order], started=started[order], call_type=cat("call_type", object)[order],
        zh=zh[order], good=good[order], health=h[order], callback=cat("callback").astype(bool)[order],
        callback_alt=cat("callback_alt").astype(np.int64)[order],
        competitor=cat("competitor", object)[order], budget=cat("budget").astype(np.int64)[order],
        product=cat("product", object)[order],
    )
    return calls, lead_budget


def _beats(rng: np.random.Generator, calls: Calls, skill: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(conversation, beat) pairs in speaking order."""
    n = len(calls.started)
    ct = calls.call_type
    good = calls.good
    cold = ct == "cold_call"
    customer_call = np.isin(ct, ["renewal", "qbr"])
    cb = calls.callback
    counts = np.zeros((n, len(BEAT_NAMES)), dtype=np.int64)
    how = cold & (rng.random(n) < np.where(good, 0.3, 0.65))
    counts[:, B["opener_how_are_you"]] = how
    counts[:, B["opener_direct"]] = cold & ~how
    counts[:, B["opener_meeting"]] = ~cold
    # the recording disclosure right after the opener: most calls, less often with weaker reps
    counts[:, B["disclosure"]] = rng.random(n) < sigmoid(DISCLOSURE_LOGIT + 0.9 * skill)
    counts[:, B["health_good"]] = customer_call & good
    counts[:, B["health_bad"]] = customer_call & ~good
    q = rng.poisson(np.clip(1.2 + 1.8 * good + 0.6 * skill - 0.8 * customer_call, 0.2, None))
    counts[:, B["discovery_question"]] = np.where(cb, np.minimum(q, 1), np.minimum(q, 6))
    long_pitch = rng.random(n) < sigmoid(-0.4 - 1.3 * good - 0.7 * skill)
    deal = ~cb & ~customer_call
    counts[:, B["pitch_long"]] = deal & long_pitch
    counts[:, B["pitch_short"]] = deal & ~long_pitch & (rng.random(n) < 0.7)
    counts[:, B["pricing"]] = ~cb & (rng.random(n) < np.select([cold, ct == "negotiation", ct == "renewal"],
                                                                 [0.25, 0.95, 0.7], 0.55))
    counts[:, B["competitor"]] = ~cb & (calls.competitor != None) & (rng.random(n) < 0.8)  # noqa: E711
    counts[:, B["objection"]] = ~cb & (rng.random(n) < np.where(good, 0.2, 0.65))
    counts[:, B["budget_yes"]] = ~cb & (calls.budget == 1)
    counts[:, B["budget_no"]] = ~cb & (calls.budget == 0)
    counts[:, B["decision_maker"]] = ~cb & deal & (rng.random(n) < np.where(good, 0.55, 0.25))
    counts[:, B["contact_details"]] = rng.random(n) < 0.25
    counts[:, B["callback"]] = cb
    counts[:, B["next_steps"]] = ~cb & (rng.random(n) < np.where(good, 0.85, 0.3))
    counts[:, B["close"]] = 1
    conv, beat = np.nonzero(counts)
    reps = counts[conv, beat]
    return np.repeat(conv, reps), np.repeat(beat, reps)


def _fill(templates: np.ndarray, values: dict[str, np.ndarray]) -> np.ndarray:
    """Format each row's template with that row's values, one vectorised pass per distinct template."""
    out = np.empty(len(templates), dtype=object)
    codes, uniques = pd.factorize(templates)
    for i, tpl in enumerate(uniques):
        rows = np.flatnonzero(codes == i)
        text = np.full(len(rows), "", dtype=object)
        for literal, field, _, _ in Formatter().parse(tpl):
            text = text + literal
            if field:
                text = text + values[field][rows].astype(str).astype(object)
        out[rows] = text
    return out


def transcripts(spec: DemoSpec, clock: Clock, acc: Accounts, contacts: Contacts, team: Team, leads: Leads,
                opps: Opportunities, calls: Calls) -> tuple[pa.Table, pa.Table]:
    rng = stream(spec, "transcripts")
    n = len(calls.started)
    conv_id = ids("conv_", n, 7)
    conv, beat = _beats(rng, calls, team.skill[calls.member])
    # each beat gives two turns (rep then customer, or the reverse)
    first_customer = np.isin(np.asarray(BEAT_NAMES, dtype=object)[beat], list(CUSTOMER_FIRST))
    conv = np.repeat(conv, 2)
    beat = np.repeat(beat, 2)
    second = np.tile([False, True], len(first_customer))
    is_customer = np.repeat(first_customer, 2) ^ second
    zh = calls.zh[conv]
    side = np.where(zh, 2, 0) + is_customer.astype(int)
    pools = [[BEATS[name][s] for s in range(4)] for name in BEAT_NAMES]
    size = np.array([[len(p[s]) for s in range(4)] for p in pools])
    alt = np.floor(rng.random(len(conv)) * size[beat, side]).astype(np.int64)
    asks = (beat == B["callback"]) & is_customer
    alt[asks] = calls.callback_alt[conv[asks]]
    # every template in one flat array; (beat, side) -> offset of its first alternative
    flat = np.array([tpl for pool in pools for side_pool in pool for tpl in side_pool], dtype=object)
    offset = (np.cumsum(size.ravel()) - size.ravel()).reshape(size.shape)
    templates = flat[offset[beat, side] + alt]
    # values per conversation
    cust_name, local = person_names(rng, n, calls.zh)
    lead_name = leads.contact_name[np.maximum(calls.lead, 0)]
    champion = contacts.first_of_role(len(acc), "champion")
    acc_contact = contacts.name[champion[np.maximum(calls.account, 0)]]
    cust_name = np.where(calls.lead >= 0, lead_name, np.where(calls.account >= 0, acc_contact, cust_name))
    company = np.where(calls.account >= 0, acc.name[np.maximum(calls.account, 0)],
                       leads.company[np.maximum(calls.lead, 0)])
    product_idx = pd.Series(calls.product).map(PRODUCT_INDEX).fillna(0).astype(int).to_numpy()
    product_name = np.array([p[1] for p in PRODUCTS], dtype=object)[product_idx]
    price = np.array([p[4] for p in PRODUCTS])[product_idx]
    price = np.where(price > 0, price, 25.0) * np.where(calls.good, 1.0, 1.1)
    competitor = np.where(calls.competitor != None, calls.competitor, pick(rng, COMPETITORS, n))  # noqa: E711
    own = pc.replace_substring(pc.utf8_lower(pa.array(cust_name, pa.string())), " ", ".").to_numpy(
        zero_copy_only=False).astype(object)
    local = np.where(calls.zh, local, own)
    email = local + "@" + np.where(calls.zh, "qq.example.com", "mail.example.com").astype(object)
    dm = np.where(calls.zh, pick(rng, ("王总", "李总", "张总", "陈总"), n),
                  pick(rng, ("Our CFO", "Our VP of Customer Success", "Our COO", "The CEO"), n))
    values = {
        "rep": team.name[calls.member], "customer": cust_name, "company": company, "product": product_name,
        "price": np.round(price).astype(int), "competitor": competitor, "phone": phones(rng, n, calls.zh),
        "email": email, "dm": dm, "quarter": rng.integers(1, 5, n),
    }
    text = _fill(templates, {k: np.asarray(v, dtype=object)[conv] for k, v in values.items()})
    # filler words, more from less skilled reps
    skill = team.skill[calls.member][conv]
    filler = rng.random(len(text)) < np.where(is_customer, 0.08, sigmoid(-1.8 - 0.8 * skill))
    words = np.where(zh, pick(rng, ("嗯，", "那个，", "就是说，"), len(text)),
                     pick(rng, ("Um, ", "So, you know, ", "Uh, ", "Like, "), len(text)))
    text = pa.array(text, pa.string())
    head = pc.utf8_slice_codeunits(text, 0, 1)
    head = pc.if_else(pc.match_substring_regex(text, "^[A-Z][a-z]"), pc.utf8_lower(head), head)
    lowered = pc.if_else(pa.array(zh), text, pc.binary_join_element_wise(head, pc.utf8_slice_codeunits(text, 1), ""))
    text = pc.if_else(pa.array(filler), pc.binary_join_element_wise(pa.array(words, pa.string()), lowered, ""), text)
    # timing: words (or characters) at a speaking pace, pauses between turns, the odd long silence
    chars = pc.utf8_length(text).to_numpy(zero_copy_only=False)
    spaces = pc.count_substring(text, " ").to_numpy(zero_copy_only=False)
    length = np.where(zh, chars / 4.2, (spaces + 1) / 2.6)
    dur = np.round(length * rng.lognormal(0, 0.15, len(text)) + 0.4, 2)
    pause = rng.lognormal(np.log(0.6), 0.5, len(text)) + (rng.random(len(text)) < 0.03) * rng.uniform(3, 8, len(text))
    pause = np.where(is_customer, pause, pause * np.exp(0.25 * skill))  # better reps let the customer finish
    # now and then someone starts before the other has finished (an interruption)
    pause = np.where(rng.random(len(text)) < 0.04, -rng.uniform(0.2, 0.9, len(text)), pause)
    pause[np.r_[True, conv[1:] != conv[:-1]]] = rng.uniform(0.5, 2.0, (np.r_[True, conv[1:] != conv[:-1]]).sum())
    step = pause + dur
    cs = np.cumsum(step)
    first = np.r_[0, np.flatnonzero(conv[1:] != conv[:-1]) + 1]
    offset = np.repeat(cs[first] - step[first], np.diff(np.r_[first, len(conv)]))
    end = np.round(cs - offset, 2)
    start = np.round(end - dur, 2)
    seq = np.arange(len(conv)) - np.repeat(first, np.diff(np.r_[first, len(conv)]))
    speaker = np.where(is_customer, cust_name[conv], team.name[calls.member][conv])
    utter = arrow_table("utterances", {
        "conversation_id": conv_id[conv], "seq": seq, "speaker": speaker,
        "role": np.where(is_customer, "customer", "rep").astype(object), "start_seconds": start,
        "end_seconds": end, "text": text,
    })
    duration = np.zeros(n)
    duration[conv[np.r_[first[1:] - 1, len(conv) - 1]]] = end[np.r_[first[1:] - 1, len(conv) - 1]]
    ct = calls.call_type
    channel = np.where(np.isin(ct, ["cold_call", "discovery", "renewal"]), "phone", "video").astype(object)
    title = np.char.add(np.char.add(ct.astype(str), ": "), company.astype(str)).astype(object)
    conversations = arrow_table("conversations", {
        "conversation_id": conv_id, "started_at": calls.started, "duration_seconds": np.round(duration + 1.5, 1),
        "language": np.where(calls.zh, "zh", "en").astype(object), "channel": channel, "call_type": ct,
        "member_id": team.member_id[calls.member],
        "account_id": np.where(calls.account >= 0, acc.account_id[np.maximum(calls.account, 0)], None),
        "lead_id": np.where(calls.lead >= 0, leads.lead_id[np.maximum(calls.lead, 0)], None),
        "opportunity_id": np.where(calls.opp >= 0, opps.opportunity_id[np.maximum(calls.opp, 0)], None),
        "title": title,
        "source_file": np.char.add(np.char.add("demo/calls/", conv_id.astype(str)), ".json").astype(object),
    })
    return conversations, utter


def tags_table(spec: DemoSpec, clock: Clock, acc: Accounts, team: Team, leads: Leads, opps: Opportunities,
               calls: Calls, lead_budget: np.ndarray) -> tuple[pa.Table, pd.DataFrame]:
    """Manual tags set after calls: on leads (budget, interested product) and on accounts (add-on of interest).

    About one in five contradicts what was said on the call (the truth is returned for tests).
    """
    rng = stream(spec, "tags")
    first = np.unique(calls.lead[calls.lead >= 0], return_index=True)
    lead, idx = first
    tagged = rng.random(len(lead)) < 0.6
    lead, idx = lead[tagged], idx[tagged]
    at = calls.started[idx] + rng.integers(600, 2 * DAY, len(idx))
    at = np.minimum(at, (clock.end + 1) * DAY - 1)
    truth_budget = np.where(lead_budget[lead] == 1, "yes", np.where(lead_budget[lead] == 0, "none", "unknown"))
    wrong = rng.random(len(lead)) < 0.2
    flip = np.where(truth_budget == "yes", "none", "yes")
    budget = np.where(wrong, flip, truth_budget).astype(object)
    said = calls.budget[idx] >= 0  # budget came up on the first call
    product = calls.product[idx]
    wrong_p = rng.random(len(lead)) < 0.15
    other = pick(rng, ("p_starter", "p_professional", "p_enterprise", "p_analytics", "none"), len(lead))
    product_tag = np.where(wrong_p, other, product).astype(object)
    rows_b = np.flatnonzero(said)
    rows_p = np.arange(len(lead))
    entity = np.concatenate([lead[rows_b], lead[rows_p]])
    tag = np.concatenate([np.full(len(rows_b), "budget", dtype=object), np.full(len(rows_p), "interested_product",
                                                                                dtype=object)])
    value = np.concatenate([budget[rows_b], product_tag[rows_p]])
    when = np.concatenate([at[rows_b], at[rows_p]])
    contradicts = np.concatenate([wrong[rows_b], wrong_p[rows_p] & (other[rows_p] != product[rows_p])])
    # accounts: the add-on a CSM noted after the first recorded add-on call
    addon_call = np.flatnonzero((calls.opp >= 0) & (calls.account >= 0))
    addon_call = addon_call[opps.opp_type[calls.opp[addon_call]] == "add_on"]
    a, first_call = np.unique(calls.account[addon_call], return_index=True)
    c = addon_call[first_call]
    truth_product = opps.product[calls.opp[c]]
    alt = pick(rng, ("p_analytics", "p_automation", "p_api", "p_premium_support"), len(c))
    wrong_a = (rng.random(len(c)) < 0.2) & (alt != truth_product)
    a_value = np.where(wrong_a, alt, truth_product)
    a_at = np.minimum(calls.started[c] + rng.integers(600, DAY, len(c)), (clock.end + 1) * DAY - 1)
    table = arrow_table("tags", {
        "entity_type": np.concatenate([np.full(len(entity), "lead", dtype=object),
                                       np.full(len(a), "account", dtype=object)]),
        "entity_id": np.concatenate([leads.lead_id[entity], acc.account_id[a]]),
        "tag": np.concatenate([tag, np.full(len(a), "interested_product", dtype=object)]),
        "tagged_at": np.concatenate([when, a_at]), "value": np.concatenate([value, a_value]),
        "source": "manual",
        "member_id": np.concatenate([team.member_id[leads.owner[entity]], team.member_id[calls.member[c]]]),
    })
    truth = pd.DataFrame({
        "entity_type": np.r_[np.full(len(entity), "lead"), np.full(len(a), "account")],
        "entity_id": np.concatenate([leads.lead_id[entity], acc.account_id[a]]),
        "tag": np.concatenate([tag, np.full(len(a), "interested_product", dtype=object)]),
        "value": np.concatenate([value, a_value]), "contradicts_calls": np.concatenate([contradicts, wrong_a]),
    })
    return table, truth


def callback_truth(calls: Calls, conversation_id: np.ndarray, leads: Leads) -> pd.DataFrame:
    """Hidden truth for call analytics: each callback request, when it was due, and whether it was honoured."""
    rows = np.flatnonzero(calls.callback)
    lead = calls.lead[rows]
    return pd.DataFrame({
        "conversation_id": conversation_id[rows], "lead_id": leads.lead_id[lead],
        "language": np.where(calls.zh[rows], "zh", "en"),
        "requested": np.asarray([c[0] for c in CALLBACKS], dtype=object)[calls.callback_alt[rows]],
        "due_at": pd.to_datetime(callback_due(calls.started[rows], calls.callback_alt[rows]), unit="s", utc=True),
        "honoured": leads.account[lead] >= 0,
    })
