"""Replaying the rules over past dates, and measuring them against what customers did afterwards.

For each monthly date of the last ``months`` (the dates the main job keeps health history for), the rules are
evaluated as of that date, from what was known then: warehouse tables through ``as_of`` and stored results at
their latest date on or before it (health missing at a date is scored as of that date; a prediction is used only
where one was stored then, so rules on predictions replay only over dates that have one — said in the notes).
A CTA is counted once while its rule keeps firing on the account from one date to the next (the dedupe of
``retain act``); the first date is warm-up (its backlog is not a week's flow).

Per rule:

- ``ctas_per_owner_week``: new CTAs after the first date / owners / weeks replayed;
- ``churn_caught_30/60/90``: of the accounts that churned (after the first date + 90 days, up to the end), the
  share that had this rule fire on a date 1-30 (1-60, 1-90) days before the churn (risk rules);
- ``churned_or_contracted``: of the risk CTAs old enough to judge (opened 90+ days before the end), the share on
  accounts whose MRR 90 days later was lower (churn included), beside ``base_rate``, the same share among every
  account in service on those dates, and ``lift`` = their ratio.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from retain.action import spec as s
from retain.action.evaluate import describe, fired_expression, team_on
from retain.health.history import Frequency, backfill_dates
from retain.metrics.dimensions import active_on, subscriptions
from retain.metrics.spells import churn_events
from retain.warehouse import Warehouse

OUTCOME_DAYS = 90
WINDOWS = (30, 60, 90)
COLUMNS = ("rule", "type", "dates_replayed", "ctas", "ctas_per_owner_week", "churn_caught_30", "churn_caught_60",
           "churn_caught_90", "judged", "churned_or_contracted", "base_rate", "lift")


@dataclass(frozen=True)
class Backtest:
    """The replay: its dates, owners and weeks, one row per rule (and ``all risk rules``), notes on what was not
    replayed."""

    dates: list[dt.date]
    owners: int
    weeks: float
    per_rule: pd.DataFrame
    fired: pd.DataFrame  # every (date, account, rule) that fired, with ``new`` (a CTA would have been created)
    notes: list[str] = field(default_factory=list)


def replay_dates(end: dt.date, months: int) -> list[dt.date]:
    """Month starts of the last ``months`` months, and ``end``."""
    start = (pd.Timestamp(end) - pd.DateOffset(months=months - 1)).date().replace(day=1)
    return backfill_dates(start, end, Frequency.MONTH)


def backtest(wh: Warehouse, end: dt.date, config: s.ActionConfig | str | Path | None = None, *,
             months: int = 12) -> Backtest:
    """Replay the rules monthly over ``months`` up to ``end`` and measure them (see the module's definitions)."""
    if not isinstance(config, s.ActionConfig):
        config = s.load_rules(config)
    dates = replay_dates(end, months)
    scored: dict = {}
    frames, ran, skipped = [], {r.name: [] for r in config.rules.enabled}, {}
    for day in dates:
        expr, why = fired_expression(wh, day, config.rules, scored=scored)
        for rule, reason in why.items():
            skipped.setdefault(rule, []).append((day, reason))
        for rule, days in ran.items():
            if rule not in why:
                days.append(day)
        if expr is None:
            continue
        fired = describe(wh.execute(expr), day, config.rules, team_on(wh, day))
        frames.append(fired[["account_id", "rule", "type", "owner_id"]].assign(day=day))
    fired = _mark_new(pd.concat(frames, ignore_index=True) if frames else
                      pd.DataFrame(columns=["account_id", "rule", "type", "owner_id", "day"]), dates)
    owners = int(fired["owner_id"].dropna().nunique())
    churns = _churns(wh, dates, end)
    outcomes = _outcomes(wh, [d for d in dates if d <= end - dt.timedelta(days=OUTCOME_DAYS)], end)
    rows = [_rule_row(rule.name, rule.type.value, fired[fired["rule"] == rule.name], ran[rule.name], owners,
                      churns, outcomes) for rule in config.rules.enabled]
    risk = fired[fired["type"] == s.CtaType.RISK.value]
    rows.append(_rule_row("all risk rules", "risk", _dedupe_accounts(risk), dates, owners, churns, outcomes))
    weeks = (dates[-1] - dates[0]).days / 7
    notes = [f"{rule}: not replayed on {len(days)} of {len(dates)} dates ({days[0][1]})"
             for rule, days in sorted(skipped.items())]
    notes.append(f"churns judged: {len(churns):,} (after {dates[0] + dt.timedelta(days=OUTCOME_DAYS)}); risk CTAs "
                 f"judged on their next {OUTCOME_DAYS} days: those opened by {end - dt.timedelta(days=OUTCOME_DAYS)}")
    return Backtest(dates, owners, weeks, pd.DataFrame(rows, columns=list(COLUMNS)), fired, notes)


def _mark_new(fired: pd.DataFrame, dates: list[dt.date]) -> pd.DataFrame:
    """``new``: the rule did not fire on the account at the previous date (so ``retain act`` would create a CTA)."""
    index = {d: i for i, d in enumerate(dates)}
    fired = fired.assign(step=fired["day"].map(index)).sort_values(["rule", "account_id", "step"])
    prev = fired.groupby(["rule", "account_id"])["step"].shift()
    return fired.assign(new=prev.isna() | (prev != fired["step"] - 1)).reset_index(drop=True)


def _dedupe_accounts(fired: pd.DataFrame) -> pd.DataFrame:
    """Any risk rule as one: an account fires at a date when any risk rule does."""
    one = fired.drop_duplicates(["account_id", "day"]).assign(rule="all risk rules")
    dates = sorted(one["day"].unique()) if len(one) else []
    return _mark_new(one.drop(columns=["step", "new"], errors="ignore"), dates) if dates else one


def _churns(wh: Warehouse, dates: list[dt.date], end: dt.date) -> pd.DataFrame:
    ev = churn_events(wh, end)
    first = ibis.literal(dates[0] + dt.timedelta(days=OUTCOME_DAYS), type="date")
    ev = ev.filter((ev.churned_on > first) & (ev.churned_on <= ibis.literal(end, type="date")))
    out = wh.execute(ev.select("account_id", "churned_on"))
    out["churned_on"] = pd.to_datetime(out["churned_on"]).dt.date
    return out


def _mrr_on(wh: Warehouse, end: dt.date, day: dt.date) -> ir.Table:
    subs = subscriptions(wh, end)
    on = ibis.literal(day, type="date")
    subs = subs.filter(active_on(subs.started_on, subs.ended_on, on))
    return subs.group_by("account_id").aggregate(mrr=subs.mrr.sum())


def _outcomes(wh: Warehouse, dates: list[dt.date], end: dt.date) -> pd.DataFrame:
    """Per judged date and account in service: whether MRR ``OUTCOME_DAYS`` later was lower (churn included)."""
    parts = []
    for day in dates:
        now, later = _mrr_on(wh, end, day), _mrr_on(wh, end, day + dt.timedelta(days=OUTCOME_DAYS))
        j = now.left_join(later, "account_id")
        parts.append(j.select(now.account_id, day=ibis.literal(day, type="date"),
                              worse=j.mrr_right.fill_null(0.0) < j.mrr - 1e-9))
    if not parts:
        return pd.DataFrame(columns=["account_id", "day", "worse"])
    out = wh.execute(ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0])
    out["day"] = pd.to_datetime(out["day"]).dt.date
    return out


def _rule_row(rule: str, type_: str, fired: pd.DataFrame, ran: list[dt.date], owners: int,
              churns: pd.DataFrame, outcomes: pd.DataFrame) -> dict:
    """One rule's figures; its flow counts from the first date it ran (that date's backlog is warm-up)."""
    new = fired[fired["new"] & (fired["day"] > ran[0])] if len(fired) and ran else fired.iloc[0:0]
    weeks = (ran[-1] - ran[0]).days / 7 if ran else 0
    row = {"rule": rule, "type": type_, "dates_replayed": len(ran), "ctas": len(new),
           "ctas_per_owner_week": len(new) / owners / weeks if owners and weeks else None}
    if type_ != s.CtaType.RISK.value or len(ran) < 2:  # one date is warm-up only: nothing to measure
        return row
    if len(churns):
        hits = churns.merge(fired[["account_id", "day"]], on="account_id", how="left")
        lead = (pd.to_datetime(hits["churned_on"]) - pd.to_datetime(hits["day"])).dt.days
        for n in WINDOWS:
            caught = hits.loc[(lead >= 1) & (lead <= n), "account_id"].nunique()
            row[f"churn_caught_{n}"] = caught / len(churns)
    if len(outcomes):
        judged = fired[fired["new"]].merge(outcomes, on=["account_id", "day"], how="inner")
        base = outcomes["worse"].mean()
        row["judged"] = len(judged)
        if len(judged):
            row["churned_or_contracted"] = judged["worse"].mean()
            row["base_rate"] = base
            row["lift"] = row["churned_or_contracted"] / base if base else None
    return row
