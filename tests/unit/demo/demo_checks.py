"""Measurements of the causal story on generated tables (used by the tests; pandas on small data)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def frames(data) -> dict[str, pd.DataFrame]:
    out = {k: v.to_pandas() for k, v in data.tables.items()}
    out["usage"] = data.usage().to_pandas()
    return out


def spells(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Customer spells from the subscriptions: a gap of a day or more between periods starts a new one.

    One row per account and spell: ``spell_no``, ``started_on``, ``churned_on`` (NaT while it runs).
    """
    never = pd.Timestamp("2200-01-01")
    subs = t["subscriptions"].assign(started_on=lambda f: pd.to_datetime(f.started_on).astype("datetime64[ns]"),
                                     ended_on=lambda f: pd.to_datetime(f.ended_on).astype("datetime64[ns]"))
    subs = subs.sort_values(["account_id", "started_on"], ignore_index=True)
    end = subs.ended_on.fillna(never)
    prev_end = end.groupby(subs.account_id).cummax().groupby(subs.account_id).shift()
    subs["spell_no"] = (prev_end.isna() | (subs.started_on > prev_end)).groupby(subs.account_id).cumsum()
    out = subs.assign(end=end).groupby(["account_id", "spell_no"], as_index=False).agg(
        started_on=("started_on", "min"), churned_on=("end", "max"))
    out["churned_on"] = out.churned_on.where(out.churned_on < never)
    return out


def next_churn(t: dict[str, pd.DataFrame], account_id, day) -> np.ndarray:
    """For each (account, day) the first churn strictly after ``day`` (NaT when none)."""
    ends = spells(t).dropna(subset=["churned_on"])[["account_id", "churned_on"]]
    ends = ends.assign(on=ends.churned_on.astype("datetime64[ns]")).sort_values("on")
    q = pd.DataFrame({"account_id": np.asarray(account_id),
                      "on": pd.to_datetime(np.asarray(day)).astype("datetime64[ns]")})
    q["row"] = np.arange(len(q))
    m = pd.merge_asof(q.sort_values("on"), ends, on="on", by="account_id", direction="forward",
                      allow_exact_matches=False)
    return m.sort_values("row").churned_on.to_numpy()


def panel(t: dict[str, pd.DataFrame], horizon: int = 180, step: int = 91) -> pd.DataFrame:
    """Account x snapshot rows for active customers, with products held and churn within ``horizon`` days.

    Snapshots start 180 days after the first usage day (customers may hold products from before the data starts).
    """
    subs = t["subscriptions"].copy()
    subs["started_on"] = pd.to_datetime(subs.started_on)
    subs["ended_on"] = pd.to_datetime(subs.ended_on)
    start = max(subs.started_on.min(), pd.to_datetime(t["usage"].usage_on).min())
    end = max(subs.started_on.max(), pd.to_datetime(t["usage"].usage_on).max())
    rows = []
    for d in pd.date_range(start + pd.Timedelta(days=180), end - pd.Timedelta(days=horizon), freq=f"{step}D"):
        live = subs[(subs.started_on <= d) & (subs.ended_on.isna() | (subs.ended_on > d))]
        held = live.groupby("account_id").product_id.nunique()
        c = next_churn(t, held.index, np.full(len(held), d))
        rows.append(pd.DataFrame({
            "account_id": held.index, "as_of": d, "products": held.to_numpy(),
            "churned": (c <= d + pd.Timedelta(days=horizon)),
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
