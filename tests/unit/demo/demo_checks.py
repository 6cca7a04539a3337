"""Measurements of the causal story on generated tables (used by the tests; pandas on small data)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def frames(data) -> dict[str, pd.DataFrame]:
    out = {k: v.to_pandas() for k, v in data.tables.items()}
    out["usage"] = data.usage().to_pandas()
    return out


def churn_days(t: dict[str, pd.DataFrame]) -> pd.Series:
    """Per account the day its last core subscription ended without successor (NaT if still a customer)."""
    subs = t["subscriptions"]
    core = subs[subs.product_id.isin(["p_starter", "p_professional", "p_enterprise"])]
    last = core.sort_values("started_on").groupby("account_id").tail(1).set_index("account_id")
    return pd.to_datetime(last.ended_on.where(last.status == "cancelled"))


def panel(t: dict[str, pd.DataFrame], horizon: int = 180, step: int = 91) -> pd.DataFrame:
    """Account x snapshot rows for active customers, with products held and churn within ``horizon`` days."""
    subs = t["subscriptions"].copy()
    subs["started_on"] = pd.to_datetime(subs.started_on)
    subs["ended_on"] = pd.to_datetime(subs.ended_on)
    churn = churn_days(t)
    start, end = subs.started_on.min(), subs.started_on.max()
    rows = []
    for d in pd.date_range(start + pd.Timedelta(days=180), end - pd.Timedelta(days=horizon), freq=f"{step}D"):
        live = subs[(subs.started_on <= d) & (subs.ended_on.isna() | (subs.ended_on > d))]
        held = live.groupby("account_id").product_id.nunique()
        c = churn.reindex(held.index)
        rows.append(pd.DataFrame({
            "account_id": held.index, "as_of": d, "products": held.to_numpy(),
            "churned": ((c > d) & (c <= d + pd.Timedelta(days=horizon))).to_numpy(),
        }))
    return pd.concat(rows, ignore_index=True)


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """ROC-AUC by ranks (ties averaged); higher score = more likely positive."""
    s = pd.Series(score).rank().to_numpy()
    pos = label.astype(bool)
    n1, n0 = pos.sum(), (~pos).sum()
    return float((s[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def signals(t: dict[str, pd.DataFrame], p: pd.DataFrame) -> pd.DataFrame:
    """Single signals per panel row: usage per licence (30 days), tickets (90 days), last NPS, late invoices."""
    out = p.copy()
    usage = t["usage"]
    usage = usage[usage.feature == "dashboards"].assign(usage_on=lambda f: pd.to_datetime(f.usage_on))
    subs = t["subscriptions"].assign(started_on=lambda f: pd.to_datetime(f.started_on),
                                     ended_on=lambda f: pd.to_datetime(f.ended_on))
    core = subs[subs.product_id.isin(["p_starter", "p_professional", "p_enterprise"])]
    tickets = t["support_tickets"].assign(day=lambda f: f.opened_at.dt.tz_localize(None))
    nps = t["survey_responses"].query("survey_type == 'nps'").assign(day=lambda f: f.responded_at.dt.tz_localize(None))
    inv = t["invoices"].assign(due_on=lambda f: pd.to_datetime(f.due_on), paid_on=lambda f: pd.to_datetime(f.paid_on))
    parts = []
    for d, g in out.groupby("as_of"):
        u = usage[(usage.usage_on > d - pd.Timedelta(days=30)) & (usage.usage_on <= d)]
        au = u.groupby("account_id").active_users.mean()
        live = core[(core.started_on <= d) & (core.ended_on.isna() | (core.ended_on > d))]
        lic = live.groupby("account_id").quantity.sum()
        tk = tickets[(tickets.day > d - pd.Timedelta(days=90)) & (tickets.day <= d)].groupby("account_id").size()
        last_nps = nps[nps.day <= d].sort_values("day").groupby("account_id").score.last()
        late = inv[(inv.due_on <= d) & (inv.due_on > d - pd.Timedelta(days=180))
                   & (inv.paid_on.isna() | (inv.paid_on > inv.due_on))].groupby("account_id").size()
        idx = g.account_id
        parts.append(g.assign(
            usage_per_licence=(au.reindex(idx).fillna(0) / lic.reindex(idx)).to_numpy(),
            tickets=tk.reindex(idx).fillna(0).to_numpy(), last_nps=last_nps.reindex(idx).to_numpy(),
            late_invoices=late.reindex(idx).fillna(0).to_numpy(),
        ))
    return pd.concat(parts, ignore_index=True)
