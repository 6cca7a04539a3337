"""Evaluating a rule set as of a day: which accounts fire which rule, for whom, how urgent, and why in words.

The heavy part runs in the engine: every enabled rule's trigger (:mod:`retain.action.triggers`) is one expression,
tagged with the rule's name; they are unioned, restricted to accounts in service on the day, joined to the
account's owner and CSM, and executed once. What comes back is only the fired rows (a few per owner), on which
the CTA's words, priority and owner are put (:func:`describe`), column-wise where it can be.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from retain.action import spec as s
from retain.action.triggers import (
    EVIDENCE,
    OWN_SUBJECT,
    PROBABILITY_SLOT,
    SLOTS,
    TRIGGERS,
    Inputs,
    MissingInput,
    active_accounts,
)
from retain.warehouse import Warehouse

FIRED_COLUMNS = ("account_id", "rule", "rule_version", "type", "reason", "detail", "evidence", "value", "priority",
                 "owner_id", "routed_by", "playbook", "auto_close", "due_on", "manager_id", "csm_id",
                 "account_owner_id")


@dataclass(frozen=True)
class Evaluation:
    """The rules' verdict as of ``day``: one row per fired (account, rule) (:data:`FIRED_COLUMNS`), the rules
    skipped with why, and the team (member, name, role, manager, active) the owners were chosen from."""

    day: dt.date
    fired: pd.DataFrame
    skipped: dict[str, str]
    team: pd.DataFrame


def fired_expression(wh: Warehouse, day: dt.date, rules: s.RuleSetSpec, *,
                     scored: dict | None = None) -> tuple[ibis.Table | None, dict[str, str]]:
    """One expression for every rule that can run (rows: account, rule, evidence slots, ARR, owner, CSM) and the
    rules that cannot, with the reason. ``scored`` (the backtest's cache): score health where none is stored."""
    x = Inputs(wh, day, scored=scored)
    parts: dict[bool, list[ibis.Table]] = {False: [], True: []}  # own subject (a lead, a deal) or an account's
    skipped = {}
    for rule in rules.enabled:
        try:
            part = TRIGGERS[rule.trigger.kind](x, rule.trigger)
        except MissingInput as exc:
            skipped[rule.name] = str(exc)
            continue
        parts[rule.trigger.kind in OWN_SUBJECT].append(part.mutate(rule=ibis.literal(rule.name, type="string")))
    if not parts[False] and not parts[True]:
        return None, skipped
    acc = wh.as_of("accounts", day).select("account_id", "owner_id", "csm_id")
    both = []
    if parts[False]:  # accounts in service, their team, their ARR
        fired = ibis.union(*parts[False], distinct=False)
        out = fired.join(active_accounts(x), "account_id").left_join(acc, "account_id")
        both.append(out.select(*SLOTS, "rule", "arr", "owner_id", "csm_id"))
    if parts[True]:  # the row's own owner and value; the CSM of the account when it is one
        fired = ibis.union(*parts[True], distinct=False)
        out = fired.left_join(acc.select("account_id", "csm_id"), "account_id")
        both.append(out.select(*SLOTS, "rule", arr=out.value, owner_id=out.owner_id, csm_id=out.csm_id))
    return (ibis.union(*both, distinct=False) if len(both) > 1 else both[0]), skipped


def team_on(wh: Warehouse, day: dt.date) -> pd.DataFrame:
    """The team as of ``day``: member, name, role, manager and whether still on the team."""
    t = wh.raw("team_members")
    active = t.left_on.isnull() | (t.left_on > ibis.literal(day, type="date"))
    return wh.execute(t.select("member_id", "name", "role", "manager_id", active=active))


def evaluate(wh: Warehouse, day: dt.date, config: s.ActionConfig) -> Evaluation:
    """Which accounts fire which rule as of ``day``, with the CTA each asks for (owner not yet round-robined)."""
    expr, skipped = fired_expression(wh, day, config.rules)
    team = team_on(wh, day)
    raw = wh.execute(expr) if expr is not None else pd.DataFrame(columns=[*SLOTS, "rule", "arr", "owner_id",
                                                                         "csm_id"])
    return Evaluation(day, describe(raw, day, config.rules, team), skipped, team)


# -- the fired rows in words --------------------------------------------------------------------------------------

def describe(raw: pd.DataFrame, day: dt.date, rules: s.RuleSetSpec, team: pd.DataFrame) -> pd.DataFrame:
    """The fired rows (``fired_expression``'s) as CTAs: type, reason, detail, evidence, value, priority, owner."""
    if raw.empty:
        return pd.DataFrame(columns=FIRED_COLUMNS)
    raw = raw.sort_values(["rule", "account_id"], kind="stable").reset_index(drop=True)
    by_name = {r.name: r for r in rules.rules}
    frames = [_describe_rule(part.reset_index(drop=True), by_name[name], day, rules)
              for name, part in raw.groupby("rule", sort=True)]
    out = pd.concat(frames, ignore_index=True)
    return route(out, rules.routing, team, by_name)


def _describe_rule(part: pd.DataFrame, rule: s.RuleSpec, day: dt.date, rules: s.RuleSetSpec) -> pd.DataFrame:
    kind = rule.trigger.kind
    arr = part["arr"].astype(float).fillna(0.0)
    slot = PROBABILITY_SLOT.get(kind)
    value = arr * part[slot].astype(float).fillna(0.0) if slot else arr
    if rule.priority == "auto":
        t = rules.priority
        priority = np.select([value >= t.critical, value >= t.high, value >= t.medium],
                             [s.Priority.CRITICAL.value, s.Priority.HIGH.value, s.Priority.MEDIUM.value],
                             s.Priority.LOW.value)
    else:
        priority = np.full(len(part), rule.priority.value)
    names = EVIDENCE[kind]
    records = part[list(names)].rename(columns=names).to_dict("records")
    evidence, details = [], []
    value_label = OWN_SUBJECT.get(kind, "ARR")  # None: the subject has no value (a lead)
    for rec, a, v in zip(records, arr, value, strict=True):
        rec = {k: (None if _missing(val) else val) for k, val in rec.items()}
        details.append(_words(kind, rule.trigger, rec) + (f"; {value_label} {a:,.0f}" if value_label else ""))
        if "reasons" in rec:
            rec["reasons"] = _top_reasons(rec["reasons"])
        evidence.append(json.dumps({**rec, "arr": round(a, 2), "value": round(float(v), 2), "as_of": day.isoformat()},
                                   default=str))
    return pd.DataFrame({
        "account_id": part["account_id"], "rule": rule.name, "rule_version": rule.version, "type": rule.type.value,
        "reason": rule.reason, "detail": details, "evidence": evidence, "value": value.round(2),
        "priority": priority, "playbook": rule.playbook, "auto_close": rule.auto_close.value,
        "due_on": day + dt.timedelta(days=rule.due_days),
        "account_owner_id": part["owner_id"], "csm_id": part["csm_id"],
    })


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _top_reasons(doc: str | None, n: int = 2) -> list[str]:
    """The first ``n`` phrases that raise the risk, from a propensity ``reasons`` JSON list."""
    try:
        items = json.loads(doc) if doc else []
    except (TypeError, ValueError):
        return []
    return [i.get("phrase") or i.get("feature") for i in items
            if isinstance(i, dict) and i.get("direction", "raises") == "raises"][:n]


def _words(kind: str, trig, e: dict) -> str:
    """The signal in plain words, with its values."""
    if kind == "health_grade_drop":
        return (f"health grade fell from {e['grade_before']} ({e['total_before']:.0f}) to {e['grade_now']} "
                f"({e['total_now']:.0f}) within {trig.lookback_days} days")
    if kind == "critical_factor":
        note = f" ({e['score_note']})" if e.get("score_note") else ""
        return f"critical factor {e['critical_factor']} fired{note}; health {e['health_total']:.0f}"
    if kind == "churn_probability":
        why = _top_reasons(e.get("reasons"))
        return (f"churn probability {e['churn_probability']:.0%} (above {trig.above:.0%})"
                + (f"; mainly: {', '.join(why)}" if why else ""))
    if kind == "adoption_tier":
        return f"adoption tier is {e['adoption_tier']}"
    if kind == "usage_falling":
        return (f"{trig.measure.value.replace('_', ' ')} fell {abs(e['change_pct']):.0f}% over {trig.window_days} "
                f"days ({e['previous']:,.0f} before, {e['recent']:,.0f} now)")
    if kind == "renewal_due":
        return (f"renews on {e['renewal_on']} (in {e['days_left']:.0f} days) with health {e['health_total']:.0f}, "
                f"below {trig.health_below:.0f}")
    if kind == "nps":
        return f"NPS {e['nps_score']:.0f} ({trig.category.value}) answered on {e['responded_on']}"
    if kind == "expansion_propensity":
        nxt = f"; next product: {e['next_product']}" if e.get("next_product") else ""
        return f"upsell probability {e['upsell_probability']:.0%} (above {trig.above:.0%}){nxt}"
    if kind in _MORE_WORDS:
        return _MORE_WORDS[kind](trig, e)
    if e.get("last_touch_on") is None:
        return f"never touched (cadence {e['cadence_days']:.0f} days)"
    return f"no touch for {e['days_since_touch']:.0f} days since {e['last_touch_on']} (cadence {e['cadence_days']:.0f})"


def _callback_words(trig, e: dict) -> str:
    asked = f" {e['asked_for']}" if e.get("asked_for") else ""
    return (f"asked on a call on {e['requested_on']} to be called back{asked}; no call or activity since "
            f"({e['days_since_request']:.0f} days, {e['days_overdue']:.0f} overdue)")


def _lead_words(trig, e: dict) -> str:
    who = f"lead {e['company']}" if e.get("company") else "lead"
    signals = f"{e['interest_signals']:.0f} buying signal" + ("s" if e["interest_signals"] != 1 else "")
    return (f"{who} showed interest on a call ({signals}) and was touched {e['touches']:.0f} time(s), last on "
            f"{e['last_touch_on']} ({e['days_since_touch']:.0f} days ago)")


def _deal_words(trig, e: dict) -> str:
    more = f" (+{e['deals_below'] - 1:.0f} more below)" if (e.get("deals_below") or 1) > 1 else ""
    why = f"; {e['reasons']}" if e.get("reasons") else ""
    return (f"deal {e['opportunity_id']}: win probability {e['p_win']:.0%} below its stage benchmark "
            f"{e['stage_benchmark']:.0%}{more}{why}")


_MORE_WORDS = {"callback_missed": _callback_words, "lead_dropped": _lead_words, "deal_below_benchmark": _deal_words}


# -- owners ----------------------------------------------------------------------------------------------------

def route(fired: pd.DataFrame, routing: s.RoutingSpec, team: pd.DataFrame, rules: dict[str, s.RuleSpec]
          ) -> pd.DataFrame:
    """Each CTA's owner: the rule's role on the account, else the routing's fallback roles in order; a member who
    left the team counts as absent. ``owner_id`` stays null (``routed_by`` = ``round_robin``) when nobody is found:
    the store assigns those in rotation (:mod:`retain.action.store`)."""
    active = team[team["active"]]
    manager = active.set_index("member_id")["manager_id"]
    present = set(active["member_id"])

    def on_team(col: pd.Series) -> pd.Series:
        return col.where(col.isin(present))

    by_role = {
        s.OwnerRole.ACCOUNT_OWNER: on_team(fired["account_owner_id"]),
        s.OwnerRole.CSM: on_team(fired["csm_id"]),
        s.OwnerRole.MANAGER: on_team(fired["account_owner_id"].map(manager)),
    }
    owner = pd.Series([None] * len(fired), index=fired.index, dtype=object)
    routed = pd.Series(["round_robin"] * len(fired), index=fired.index, dtype=object)
    wanted = fired["rule"].map({name: rule.owner.value for name, rule in rules.items()})
    for role in s.OwnerRole:  # the rule's own role first...
        pick = owner.isna() & (wanted == role.value) & by_role[role].notna()
        owner[pick], routed[pick] = by_role[role][pick], role.value
    for role in routing.fallback:  # ...then the fallback roles, in order
        pick = owner.isna() & by_role[role].notna()
        owner[pick], routed[pick] = by_role[role][pick], f"fallback:{role.value}"
    out = fired.assign(owner_id=owner, routed_by=routed)
    out["manager_id"] = out["owner_id"].map(manager)
    return out[list(FIRED_COLUMNS)]


def round_robin_pool(routing: s.RoutingSpec, team: pd.DataFrame) -> list[str]:
    """Members who take unowned accounts' CTAs in turn: the explicit pool, else active members of the role."""
    active = team[team["active"]]
    if routing.round_robin_members:
        return [m for m in routing.round_robin_members if m in set(active["member_id"])]
    if routing.round_robin_role:
        return sorted(active.loc[active["role"] == routing.round_robin_role, "member_id"].astype(str))
    return []
