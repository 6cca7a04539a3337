"""Behaviour ↔ outcome: which call habits go with won deals, on the user's own data, with honest uncertainty.

The unit is the deal (an opportunity, or a lead when the call has no opportunity), so a deal with ten calls
counts once. A deal's outcome is known at ``as_of``: opportunity closed won/lost, or lead converted vs
disqualified/dropped. Each behaviour is bucketed (rep talk share, rep questions per call, tracker present in any
call) and each bucket gets deals, wins, win rate and a 95 % Wilson interval; buckets under ``min_deals`` are
flagged ``too_small`` and never reported as findings. Each table is computed for all calls (scope ``all``) and
again per call type (scope ``cold_call``, ``discovery``...), each against its own baseline win rate, so "how are
you doing?" is judged among cold calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

OUTCOME_COLUMNS = ["scope", "factor", "bucket", "deals", "wins", "win_rate", "ci_low", "ci_high", "too_small",
                   "baseline"]
TALK_BINS = [0.0, 0.4, 0.5, 0.6, 0.7, 1.0001]
TALK_LABELS = ["<40%", "40-50%", "50-60%", "60-70%", ">=70%"]
QUESTION_BINS = [-0.1, 2, 5, 9, np.inf]
QUESTION_LABELS = ["0-2", "3-5", "6-9", "10+"]


def wilson_interval(wins: np.ndarray, n: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (well-behaved for small n and rates near 0 or 1)."""
    wins, n = np.asarray(wins, dtype=float), np.asarray(n, dtype=float)
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = wins / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def deal_outcomes(conversations: pd.DataFrame, opportunities: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    """conversation_id -> deal_id, won (1/0) for calls whose deal outcome is known."""
    conv = conversations[["conversation_id", "opportunity_id", "lead_id"]].copy()
    opp = opportunities[["opportunity_id", "lead_id", "closed_at", "is_won"]]
    closed = opp[opp["closed_at"].notna() & opp["is_won"].notna()]
    by_lead = closed.dropna(subset=["lead_id"]).drop_duplicates("lead_id").set_index("lead_id")["opportunity_id"]
    conv["deal_opp"] = conv["opportunity_id"].astype(object).where(
        conv["opportunity_id"].notna(), conv["lead_id"].map(by_lead).astype(object))
    won_opp = closed.set_index("opportunity_id")["is_won"].astype(float)
    conv["won"] = conv["deal_opp"].map(won_opp)
    lead_status = leads.set_index("lead_id")
    converted = lead_status["converted_at"].notna().astype(float)
    lost = lead_status["status"].isin(["disqualified", "dropped"])
    lead_outcome = converted.where(converted.eq(1) | lost)
    use_lead = conv["won"].isna() & conv["opportunity_id"].isna()
    conv.loc[use_lead, "won"] = conv.loc[use_lead, "lead_id"].map(lead_outcome)
    conv["deal_id"] = ("opp:" + conv["deal_opp"].astype("string")).fillna("lead:" + conv["lead_id"].astype("string"))
    return conv.dropna(subset=["won", "deal_id"])[["conversation_id", "deal_id", "won"]]


def behaviour_outcomes(call_metrics: pd.DataFrame, hits: pd.DataFrame, outcomes: pd.DataFrame, *,
                       min_deals: int = 30, trackers: list[str] | None = None,
                       call_types: tuple[str, ...] | None = ("cold_call", "discovery", "demo")) -> pd.DataFrame:
    """Win rate by talk-share bucket, by rep questions per call and by tracker presence (:data:`OUTCOME_COLUMNS`)."""
    calls = call_metrics.merge(outcomes, on="conversation_id")
    if calls.empty:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    scopes = [("all", calls)]
    if call_types and "call_type" in calls:
        scopes += [(ct, calls[calls["call_type"] == ct]) for ct in call_types if (calls["call_type"] == ct).any()]
    tables = [_scope_table(name, part, hits, min_deals, trackers) for name, part in scopes]
    return pd.concat(tables, ignore_index=True)[OUTCOME_COLUMNS]


def _scope_table(scope: str, calls: pd.DataFrame, hits: pd.DataFrame, min_deals: int,
                 trackers: list[str] | None) -> pd.DataFrame:
    deals = calls.groupby("deal_id").agg(won=("won", "max"), talk=("rep_talk_share", "mean"),
                                         questions=("rep_questions", "mean"))
    parts = [
        _buckets("rep talk share", pd.cut(deals["talk"], TALK_BINS, labels=TALK_LABELS, right=False), deals["won"]),
        _buckets("rep questions per call", pd.cut(deals["questions"], QUESTION_BINS, labels=QUESTION_LABELS),
                 deals["won"]),
    ]
    h = hits.merge(calls[["conversation_id", "deal_id"]], on="conversation_id")
    present = h.groupby(["deal_id", "tracker"]).size().unstack(fill_value=0).reindex(deals.index, fill_value=0) > 0
    for tracker in trackers or sorted(present.columns):
        has = present[tracker] if tracker in present else pd.Series(False, index=deals.index)
        parts.append(_buckets(f"tracker: {tracker}", has.map({True: "present", False: "absent"}), deals["won"]))
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "scope", scope)
    out["too_small"] = out["deals"] < min_deals
    out["baseline"] = float(deals["won"].mean())
    return out


def _buckets(factor: str, bucket: pd.Series, won: pd.Series) -> pd.DataFrame:
    g = won.groupby(bucket, observed=True).agg(["size", "sum"])
    low, high = wilson_interval(g["sum"].to_numpy(), g["size"].to_numpy())
    return pd.DataFrame({"factor": factor, "bucket": g.index.astype(str), "deals": g["size"].astype(int).to_numpy(),
                         "wins": g["sum"].astype(int).to_numpy(), "win_rate": (g["sum"] / g["size"]).to_numpy(),
                         "ci_low": low, "ci_high": high})


def top_findings(table: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """Buckets whose whole interval lies above or below the baseline, large enough to trust, biggest gap first."""
    ok = table[~table["too_small"].astype(bool)].copy()
    ok["gap"] = ok["win_rate"] - ok["baseline"]
    sure = ok[(ok["ci_low"] > ok["baseline"]) | (ok["ci_high"] < ok["baseline"])]
    return sure.reindex(sure["gap"].abs().sort_values(ascending=False).index).head(k)
