"""Follow-up cadence: how many touches a lead or opportunity got before it was dropped, per rep.

A touch is an e-mail, call or meeting with the lead/opportunity (activities), counting recorded calls
(``conversations``) too when the CRM logged fewer call activities than there are recordings. The reference
line: most deals need about five follow-ups (``REFERENCE_TOUCHES``).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from retain.warehouse import Warehouse

REFERENCE_TOUCHES = 5
TOUCH_TYPES = ("email", "call", "meeting", "executive_meeting")
CADENCE_COLUMNS = ["member_id", "dropped", "median_touches", "mean_touches", "dropped_after_one", "share_after_one",
                   "reached_reference", "share_reached_reference"]


def lead_touches(wh: Warehouse, as_of: dt.date) -> pd.DataFrame:
    """Per lead: owner, status, converted, touches, calls and the last touch (an executed compact summary)."""
    leads = wh.as_of("leads", as_of)
    act = wh.as_of("activities", as_of)
    act = act.filter(act.lead_id.notnull() & act.activity_type.isin(TOUCH_TYPES))
    per = act.group_by("lead_id").aggregate(
        n_activities=act.count(), n_call_activities=(act.activity_type == "call").sum(),
        last_activity_at=act.occurred_at.max())
    conv = wh.as_of("conversations", as_of)
    conv = conv.filter(conv.lead_id.notnull())
    calls = conv.group_by("lead_id").aggregate(n_recorded=conv.count(), last_call_at=conv.started_at.max())
    expr = (
        leads.select("lead_id", "owner_id", "status", "source", "created_at", "converted_at", "company", "industry",
                     "region", "employees")
        .left_join(per, "lead_id").drop("lead_id_right")
        .left_join(calls, "lead_id").drop("lead_id_right")
    )
    frame = wh.execute(expr)
    for col in ("n_activities", "n_call_activities", "n_recorded"):
        frame[col] = frame[col].fillna(0).astype(int)
    extra_calls = (frame["n_recorded"] - frame["n_call_activities"]).clip(lower=0)
    frame["touches"] = frame["n_activities"] + extra_calls
    frame["last_touch_at"] = pd.concat([pd.to_datetime(frame["last_activity_at"], utc=True),
                                        pd.to_datetime(frame["last_call_at"], utc=True)], axis=1).max(axis=1)
    return frame.drop(columns=["last_activity_at", "last_call_at"])


def opportunity_touches(wh: Warehouse, as_of: dt.date) -> pd.DataFrame:
    opp = wh.as_of("opportunities", as_of)
    act = wh.as_of("activities", as_of)
    act = act.filter(act.opportunity_id.notnull() & act.activity_type.isin(TOUCH_TYPES))
    per = act.group_by("opportunity_id").aggregate(touches=act.count())
    expr = opp.select("opportunity_id", "owner_id", "stage", "closed_at", "is_won").left_join(
        per, "opportunity_id").drop("opportunity_id_right")
    frame = wh.execute(expr)
    frame["touches"] = frame["touches"].fillna(0).astype(int)
    return frame


def cadence_by_rep(touches: pd.DataFrame, *, dropped: pd.Series) -> pd.DataFrame:
    """Per rep (``owner_id``): among dropped items, touches before dropping, after one touch, reaching five."""
    d = touches[dropped.to_numpy()].rename(columns={"owner_id": "member_id"})
    if d.empty:
        return pd.DataFrame(columns=CADENCE_COLUMNS)
    d = d.assign(one=d["touches"] <= 1, reached=d["touches"] >= REFERENCE_TOUCHES)
    out = d.groupby("member_id", dropna=False).agg(
        dropped=("touches", "size"), median_touches=("touches", "median"), mean_touches=("touches", "mean"),
        dropped_after_one=("one", "sum"), reached_reference=("reached", "sum"))
    total = pd.DataFrame({"dropped": [len(d)], "median_touches": [d["touches"].median()],
                          "mean_touches": [d["touches"].mean()], "dropped_after_one": [int(d["one"].sum())],
                          "reached_reference": [int(d["reached"].sum())]}, index=pd.Index(["(all)"], name="member_id"))
    out = pd.concat([out, total])
    out["share_after_one"] = out["dropped_after_one"] / out["dropped"]
    out["share_reached_reference"] = out["reached_reference"] / out["dropped"]
    return out.reset_index()[CADENCE_COLUMNS]


def touches_histogram(touches: pd.Series, cap: int = 10) -> pd.DataFrame:
    """How many items got 0, 1, … ``cap``+ touches (with the reference line at five)."""
    counts = touches.clip(upper=cap).value_counts().reindex(range(cap + 1), fill_value=0)
    return pd.DataFrame({"touches": [str(i) if i < cap else f"{cap}+" for i in counts.index],
                         "items": counts.to_numpy(),
                         "reference": ["<- most deals need about five follow-ups" if i == REFERENCE_TOUCHES else ""
                                       for i in counts.index]})


def lead_cadence(wh: Warehouse, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-rep cadence of dropped leads, histogram of touches of dropped leads)."""
    t = lead_touches(wh, as_of)
    dropped = t["status"].isin(["dropped", "disqualified"]) & t["converted_at"].isna()
    return cadence_by_rep(t, dropped=dropped), touches_histogram(t.loc[dropped, "touches"])


