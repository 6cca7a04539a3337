"""New business or existing customers first: pipeline saturation and conversion per team and month.

Per team and month end: open deals per rep (reps with open deals), accounts owned per rep, the team's historical
capacity (the 80th percentile of open deals per rep over the month ends of the last three years), saturation =
open deals per rep / capacity, the win rate of the last 90 days beside the team's win rate over all history before.
The call, in the three situations the source names:

- **grow_new_business**: not saturated (< 100 % of capacity) and converting at least as well as usual: prioritise
  new business;
- **keep_and_add**: not saturated but converting worse than usual: keep existing customers and add new;
- **protect_existing**: saturated, or deals failing in numbers (the recent win rate under
  :data:`FAILING` x the usual with at least :data:`MIN_CLOSED` deals closed): protect existing customers first.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import ibis
import numpy as np
import pandas as pd

from retain.metrics.dimensions import count_if
from retain.sales.features import open_deals
from retain.sales.scores import add_months
from retain.warehouse import Warehouse

CAPACITY_QUANTILE = 0.8
FAILING = 0.7
MIN_CLOSED = 10
RECENT_DAYS = 90


class Situation(StrEnum):
    GROW_NEW_BUSINESS = "grow_new_business"
    KEEP_AND_ADD = "keep_and_add"
    PROTECT_EXISTING = "protect_existing"


ADVICE = {
    Situation.GROW_NEW_BUSINESS: "prioritise new business",
    Situation.KEEP_AND_ADD: "keep existing customers and add new",
    Situation.PROTECT_EXISTING: "protect existing customers first",
}


def month_ends(day: dt.date, months: int) -> list[dt.date]:
    """The last day of each of the ``months`` months up to ``day``'s month (``day`` itself for the current one)."""
    first = dt.date(day.year, day.month, 1)
    ends = [add_months(first, 1 - k) - dt.timedelta(days=1) for k in range(months - 1, 0, -1)]
    return [*ends, day]


def capacity(wh: Warehouse, day: dt.date, months: int = 12, history_months: int = 36) -> pd.DataFrame:
    """Per team and month: saturation, conversion and the situation with the figures behind it."""
    days = month_ends(day, history_months)
    team = wh.raw("team_members").select("member_id", "team")
    d = open_deals(wh, days)
    load = d.group_by(["as_of", "owner_id"]).aggregate(open_deals=d.count())
    load = load.left_join(team, load.owner_id == team.member_id)
    per_team = load.group_by(["as_of", "team"]).aggregate(reps=load.owner_id.nunique(), deals=load.open_deals.sum())
    acc = wh.raw("accounts")
    owned = acc.inner_join(team, acc.owner_id == team.member_id).group_by("team").aggregate(
        accounts=acc.account_id.nunique(), owners=acc.owner_id.nunique())
    frame = wh.execute(per_team).merge(wh.execute(owned), on="team", how="left")
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    frame["team"] = frame["team"].fillna("unassigned")
    frame["open_deals_per_rep"] = frame["deals"] / frame["reps"]
    frame = frame.sort_values(["team", "as_of"])
    frame["capacity_per_rep"] = frame.groupby("team")["open_deals_per_rep"].transform("quantile", CAPACITY_QUANTILE)
    frame = frame.merge(_conversion(wh, day, days), on=["team", "as_of"], how="left")
    frame = frame[frame["as_of"] >= days[-months]].copy()
    return _situations(frame)


def _conversion(wh: Warehouse, day: dt.date, days: list[dt.date]) -> pd.DataFrame:
    """Per team and month end: win rate over the last 90 days and over all history before."""
    o = wh.as_of("opportunities", day)
    o = o.filter(o.closed_at.notnull() & o.is_won.notnull())
    team = wh.raw("team_members").select("member_id", "team")
    o = o.left_join(team, o.owner_id == team.member_id)
    ends = ibis.memtable({"as_of": days}).mutate(as_of=ibis._.as_of.cast("date"))
    j = o.cross_join(ends)
    on = j.closed_at.date()
    before = j.filter(on <= j.as_of)
    recent = before.closed_at.date() > before.as_of - ibis.interval(days=RECENT_DAYS)
    g = before.group_by(["team", "as_of"]).aggregate(
        closed_recent=count_if(recent), won_recent=count_if(recent & before.is_won),
        closed_all=before.count(), won_all=count_if(before.is_won))
    frame = wh.execute(g)
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    frame["team"] = frame["team"].fillna("unassigned")
    frame["win_rate"] = frame["won_recent"] / frame["closed_recent"].where(frame["closed_recent"] > 0)
    old = frame["closed_all"] - frame["closed_recent"]
    frame["historical_win_rate"] = (frame["won_all"] - frame["won_recent"]) / old.where(old > 0)
    return frame[["team", "as_of", "win_rate", "historical_win_rate", "closed_recent"]]


def _situations(frame: pd.DataFrame) -> pd.DataFrame:
    saturation = frame["open_deals_per_rep"] / frame["capacity_per_rep"]
    failing = ((frame["win_rate"] < FAILING * frame["historical_win_rate"])
               & (frame["closed_recent"].fillna(0) >= MIN_CLOSED))
    converting = frame["win_rate"].fillna(0) >= frame["historical_win_rate"].fillna(0)
    situation = np.select([(saturation >= 1.0) | failing, converting],
                          [Situation.PROTECT_EXISTING.value, Situation.GROW_NEW_BUSINESS.value],
                          Situation.KEEP_AND_ADD.value)
    out = pd.DataFrame({
        "team": frame["team"].to_numpy(), "month": pd.to_datetime(frame["as_of"]).dt.strftime("%Y-%m").to_numpy(),
        "reps": frame["reps"].to_numpy(), "open_deals_per_rep": frame["open_deals_per_rep"].to_numpy(),
        "accounts_per_rep": (frame["accounts"] / frame["owners"]).to_numpy(),
        "capacity_per_rep": frame["capacity_per_rep"].to_numpy(), "saturation": saturation.to_numpy(),
        "win_rate": frame["win_rate"].to_numpy(), "historical_win_rate": frame["historical_win_rate"].to_numpy(),
        "situation": situation})
    out["advice"] = [_advice(r) for r in out.to_dict("records")]
    return out.reset_index(drop=True)


def _advice(r: dict) -> str:
    def pct(v) -> str:
        return "n/a" if v is None or pd.isna(v) else f"{v:.0%}"

    return (f"{ADVICE[Situation(r['situation'])]}: {r['open_deals_per_rep']:.1f} open deals per rep, "
            f"{pct(r['saturation'])} of capacity; win rate {pct(r['win_rate'])} over 90 days vs "
            f"{pct(r['historical_win_rate'])} before")
