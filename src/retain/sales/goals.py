"""Goals → KPIs: each goal's progress as of a day, its pace and projected attainment with an interval.

Every goal is counted from one stream of dated sales events (:func:`events`): deals won (ARR by type, units of a
product, add-on units), deals created, meetings, calls and follow-ups, each with its owner and the owner's team.
One join of the goals with the events (period, person or team, product) gives every goal's figures in the engine.

- **pace**: target x the share of the period elapsed by the day (where the goal should be by now).
- **projected**: actual / that share (the run rate carried to the period's end). Its 90 % interval treats what is
  still to come as a compound Poisson process at the observed rate: the variance of the rest is
  (Σ value² / days elapsed) x days remaining. An add-on share is projected at its current value with a binomial
  interval over the units counted so far.
- **units**: the ``quantity`` an export carries on the opportunity (kept in ``attributes``), else the amount over the
  product's yearly list price per licence, else 1 per deal.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from retain.errors import ConfigError
from retain.sales.goal_spec import DEMO_GOALS, Goal, GoalMetric, load_goal_spec
from retain.warehouse import Warehouse

Z90 = 1.645
ARR_TYPES = {GoalMetric.NEW_BUSINESS_ARR: "new_business", GoalMetric.ADD_ON_ARR: "add_on",
             GoalMetric.RENEWAL_ARR: "renewal"}


def table_goals(wh: Warehouse) -> list[Goal]:
    """The warehouse ``goals`` table as :class:`Goal` rows (metrics this module cannot count, nrr and grr, are
    left to the retention pages)."""
    frame = wh.execute(wh.raw("goals"))
    known = {m.value for m in GoalMetric}
    out = []
    for rec in frame.to_dict("records"):
        if rec["metric"] not in known:
            continue
        out.append(Goal(goal_id=rec["goal_id"], metric=rec["metric"], period_start_on=pd.Timestamp(
            rec["period_start_on"]).date(), period_end_on=pd.Timestamp(rec["period_end_on"]).date(),
            target=float(rec["target"]), member_id=rec.get("member_id") if pd.notna(rec.get("member_id")) else None,
            team=rec.get("team") if pd.notna(rec.get("team")) else None))
    return out


def all_goals(wh: Warehouse, path: str | Path | None = None) -> tuple[list[Goal], list[str]]:
    """The table's goals and those of ``path`` (default: the demo's goals, kept only when the warehouse sells
    their product); notes on what was left out."""
    goals, notes = table_goals(wh), []
    source = Path(path) if path else DEMO_GOALS
    try:
        extra = list(load_goal_spec(source).goals)
    except ConfigError:
        if path:
            raise
        extra = []
    products = set(wh.execute(wh.raw("products").select("product_id"))["product_id"])
    for g in extra:
        if g.product_id and g.product_id not in products:
            if path:
                notes.append(f"goal {g.goal_id}: product {g.product_id} is not in the products table")
            continue
        goals.append(g)
    return goals, notes


def events(wh: Warehouse, day: dt.date) -> ir.Table:
    """Dated sales events known by ``day``: kind, on (date), member_id, team, product_id, opportunity_type, value,
    units."""
    team = wh.raw("team_members").select("member_id", team="team")
    o = with_units(wh, wh.as_of("opportunities", day))
    qty = o.units
    base = dict(member_id=o.owner_id, product_id=o.product_id, opportunity_type=o.opportunity_type)
    won = o.filter(o.is_won.fill_null(False)).select(
        kind=ibis.literal("won"), on=o.closed_at.date(), value=o.amount.fill_null(0.0), units=qty, **base)
    created = o.select(kind=ibis.literal("created"), on=o.created_at.date(), value=ibis.literal(1.0),
                       units=ibis.literal(1.0), **base)
    a = wh.as_of("activities", day)
    kind = ibis.cases((a.activity_type.isin(("meeting", "executive_meeting", "qbr")), "meeting"),
                      (a.activity_type == "call", "call"), else_="other")
    acts = a.select(kind=kind, on=a.occurred_at.date(), value=ibis.literal(1.0), units=ibis.literal(1.0),
                    member_id=a.member_id, product_id=ibis.null("string"), opportunity_type=ibis.null("string"))
    follow = a.filter(a.opportunity_id.notnull() & (a.direction == "outbound")).select(
        kind=ibis.literal("follow_up"), on=a.occurred_at.date(), value=ibis.literal(1.0), units=ibis.literal(1.0),
        member_id=a.member_id, product_id=ibis.null("string"), opportunity_type=ibis.null("string"))
    stream = ibis.union(won, created, acts, follow)
    return stream.left_join(team, "member_id").drop("member_id_right")


def with_units(wh: Warehouse, o: ir.Table) -> ir.Table:
    """``o`` (opportunities) with ``units``: the ``quantity`` the export carries (kept in ``attributes``), else the
    amount over the product's yearly list price per licence, else 1."""
    p = wh.raw("products")
    prices = p.filter(p.list_mrr > 0).select(price_product_id=p.product_id, yearly_price=p.list_mrr * 12.0)
    t = o.left_join(prices, o.product_id == prices.price_product_id)
    quantity = t.attributes.re_extract(r'"quantity"\s*:\s*([0-9.]+)', 1).nullif("").cast("float64")
    by_price = (t.amount / t.yearly_price).round()
    return t.mutate(units=quantity.fill_null(by_price).fill_null(1.0).cast("float64")).drop(
        "price_product_id", "yearly_price")


def _kind(metric: GoalMetric) -> str:
    return {GoalMetric.OPPORTUNITIES_CREATED: "created", GoalMetric.MEETINGS: "meeting", GoalMetric.CALLS: "call",
            GoalMetric.FOLLOW_UPS: "follow_up"}.get(metric, "won")


def _goal_table(goals: list[Goal], day: dt.date) -> ir.Table:
    frame = pd.DataFrame([{
        "goal_id": g.goal_id, "metric": g.metric.value, "g_kind": _kind(g.metric),
        "g_type": ARR_TYPES.get(g.metric), "g_start": g.period_start_on, "g_end": min(g.period_end_on, day),
        "g_member": g.member_id, "g_team": g.team, "g_product": g.product_id} for g in goals])
    return ibis.memtable(frame, schema={"goal_id": "string", "metric": "string", "g_kind": "string",
                                        "g_type": "string", "g_start": "date", "g_end": "date",
                                        "g_member": "string", "g_team": "string", "g_product": "string"})


def actuals(wh: Warehouse, goals: list[Goal], day: dt.date) -> ir.Table:
    """Per goal: value, value², events, units and add-on units counted in its period up to ``day``."""
    g = _goal_table(goals, day)
    e = events(wh, day)
    j = g.inner_join(e, [
        g.g_kind == e.kind, e.on >= g.g_start, e.on <= g.g_end,
        g.g_member.isnull() | (g.g_member == e.member_id), g.g_team.isnull() | (g.g_team == e.team),
        g.g_product.isnull() | (g.g_product == e.product_id),
        g.g_type.isnull() | (g.g_type == e.opportunity_type)])
    is_units = j.metric.isin((GoalMetric.UNITS.value, GoalMetric.ADD_ON_SHARE.value))
    v = ibis.ifelse(is_units, j.units, j.value)
    return j.group_by("goal_id").aggregate(
        actual=v.sum(), sq=(v * v).sum(), n=j.count(), units=j.units.sum(),
        add_on_units=ibis.ifelse(j.opportunity_type == "add_on", j.units, 0.0).sum())


def progress(wh: Warehouse, day: dt.date, goals: list[Goal]) -> pd.DataFrame:
    """Each goal's actual, pace, attainment and projected attainment with its 90 % interval as of ``day``
    (goals starting after ``day`` are left out)."""
    goals = [g for g in goals if g.period_start_on <= day]
    cols = ["goal_id", "metric", "member_id", "team", "product_id", "period_start_on", "period_end_on", "target",
            "actual", "pace", "attainment", "projected", "projected_low", "projected_high", "projected_attainment",
            "description"]
    if not goals:
        return pd.DataFrame(columns=cols)
    got = wh.execute(actuals(wh, goals, day)).set_index("goal_id")
    frame = pd.DataFrame([g.model_dump() for g in goals])
    frame["metric"] = frame["metric"].map(lambda m: GoalMetric(m).value)
    frame = frame.join(got, on="goal_id")
    for c in ("actual", "sq", "n", "units", "add_on_units"):
        frame[c] = frame[c].fillna(0.0)
    start = pd.to_datetime(frame["period_start_on"])
    end = pd.to_datetime(frame["period_end_on"])
    length = (end - start).dt.days + 1
    elapsed = ((pd.Timestamp(day) - start).dt.days + 1).clip(lower=1, upper=length)
    share_elapsed = elapsed / length
    remaining = length - elapsed
    share = frame["metric"] == GoalMetric.ADD_ON_SHARE.value
    ratio = np.where(frame["units"] > 0, frame["add_on_units"] / frame["units"].where(frame["units"] > 0), np.nan)
    frame["actual"] = np.where(share, ratio, frame["actual"])
    frame["pace"] = np.where(share, frame["target"], frame["target"] * share_elapsed)
    projected = np.where(share, ratio, frame["actual"] / share_elapsed)
    spread = np.where(share, Z90 * np.sqrt(np.nan_to_num(ratio * (1 - ratio)) / frame["n"].clip(lower=1)),
                      Z90 * np.sqrt(frame["sq"] / elapsed * remaining))
    frame["projected"] = projected
    frame["projected_low"] = np.where(share, np.clip(projected - spread, 0, 1),
                                      np.maximum(frame["actual"], projected - spread))
    frame["projected_high"] = np.where(share, np.clip(projected + spread, 0, 1), projected + spread)
    frame["attainment"] = frame["actual"] / frame["target"]
    frame["projected_attainment"] = frame["projected"] / frame["target"]
    frame["description"] = frame["description"].fillna(frame.apply(_words, axis=1)) if len(frame) else []
    return frame[cols]


def _words(row: pd.Series) -> str:
    who = row["member_id"] or row["team"] or "company"
    target = f"{row['target']:.0%}" if row["metric"] == GoalMetric.ADD_ON_SHARE.value else f"{row['target']:,.0f}"
    return f"{row['metric'].replace('_', ' ')} {target} ({who}, {row['period_start_on']} to {row['period_end_on']})"
