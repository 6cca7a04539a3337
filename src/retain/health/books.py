"""Owners' books: per CSM (or account owner) the health of their accounts and how it moved.

A person's book is the accounts they own (``owner_id``) or look after as CSM (``csm_id``): an account whose owner
and CSM differ counts in both books, once in each; one with neither is "(unassigned)". The same definition scopes
the accounts a member sees and groups the web Team page (:func:`retain.state.queries.team`). Changes over 30 and
90 days compare the same accounts at both dates, so a manager judges the movement of the book, not accounts won or
lost.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from retain.health.history import scores_at
from retain.warehouse import AsOf, Warehouse, as_of_date

GRADE_RANK = {"red": 0, "yellow": 1, "green": 2}
BOOK_COLUMNS = ("owner_id", "owner", "accounts", "arr", "avg_health", "change_30d", "change_90d", "red", "yellow",
                "green", "moved_up_90d", "moved_down_90d", "arr_at_risk")


def book_members(accounts: pd.DataFrame) -> pd.DataFrame:
    """``account_id, owner_id`` (the person) per book membership, from accounts' ``owner_id`` and ``csm_id``."""
    owned = accounts[["account_id", "owner_id"]]
    cared = accounts[["account_id", "csm_id"]].rename(columns={"csm_id": "owner_id"}) if (
        "csm_id" in accounts) else owned.iloc[:0]
    both = pd.concat([owned, cared]).dropna(subset=["owner_id"]).drop_duplicates()
    orphans = accounts.loc[~accounts["account_id"].isin(both["account_id"]), ["account_id"]].assign(owner_id=None)
    return pd.concat([both, orphans], ignore_index=True)


def book_table(now: pd.DataFrame, ago_30: pd.DataFrame, ago_90: pd.DataFrame,
               names: pd.DataFrame | None = None, members: pd.DataFrame | None = None) -> pd.DataFrame:
    """Books from three score frames (``account_id, owner_id, total, grade, critical_factor, arr``) and optional
    ``names`` (``member_id, name``) of the people. ``members`` (``account_id, owner_id``, see :func:`book_members`)
    puts an account in every book it belongs to; without it, each account is in its score frame's ``owner_id``."""
    if members is not None:
        now = now.drop(columns="owner_id").merge(members, on="account_id", how="left")
    cur = now.assign(owner_id=now["owner_id"].fillna("(unassigned)"))
    cur = cur.merge(ago_30[["account_id", "total"]].rename(columns={"total": "total_30"}), on="account_id", how="left")
    cur = cur.merge(ago_90[["account_id", "total", "grade"]].rename(columns={"total": "total_90", "grade": "grade_90"}),
                    on="account_id", how="left")
    rank_now = cur["grade"].map(GRADE_RANK)
    rank_then = cur["grade_90"].map(GRADE_RANK)
    at_risk = (cur["grade"] == "red") | cur["critical_factor"].notna()
    cur = cur.assign(
        d30=(cur["total"] - cur["total_30"]), d90=(cur["total"] - cur["total_90"]),
        is_red=cur["grade"] == "red", is_yellow=cur["grade"] == "yellow", is_green=cur["grade"] == "green",
        up=rank_now > rank_then, down=rank_now < rank_then,
        risk_arr=np.where(at_risk, cur["arr"].fillna(0.0), 0.0),
    )
    out = cur.groupby("owner_id", as_index=False).agg(
        accounts=("account_id", "size"), arr=("arr", "sum"), avg_health=("total", "mean"),
        change_30d=("d30", "mean"), change_90d=("d90", "mean"), red=("is_red", "sum"), yellow=("is_yellow", "sum"),
        green=("is_green", "sum"), moved_up_90d=("up", "sum"), moved_down_90d=("down", "sum"),
        arr_at_risk=("risk_arr", "sum"),
    )
    if names is not None and len(names):
        out = out.merge(names.rename(columns={"member_id": "owner_id", "name": "owner"}), on="owner_id", how="left")
        out["owner"] = out["owner"].fillna(out["owner_id"])
    else:
        out["owner"] = out["owner_id"]
    return out.sort_values(["arr_at_risk", "avg_health"], ascending=[False, True], ignore_index=True)[
        list(BOOK_COLUMNS)]


def books(wh: Warehouse, as_of: AsOf, scorecards=None) -> pd.DataFrame:
    """Owners' books as of a date (stored scores are reused for dates already backfilled)."""
    day = as_of_date(as_of)
    frames = [scores_at(wh, day - dt.timedelta(days=back), scorecards) for back in (0, 30, 90)]
    names = wh.execute(wh.as_of("team_members", day).select("member_id", "name"))
    accounts = wh.execute(wh.as_of("accounts", day).select("account_id", "owner_id", "csm_id"))
    return book_table(*frames, names=names, members=book_members(accounts))
