"""The forecast: expected bookings per quarter and team from the scored pipeline, and its accuracy backtest.

- **expected** = Σ P(win) x amount over the open deals expected to close in the quarter (by close date; a deal
  whose close date has passed counts in the current quarter and as **slipped**). Its 90 % interval comes from
  simulating every deal as won or lost with its P(win) (:data:`DRAWS` draws, seeded); above
  :data:`EXACT_DEALS` deals a normal approximation with the same mean and variance replaces the draws.
- **CRM categories**: the amount per forecast category (commit, best case, pipeline, omitted) as the CRM had
  it on the day (the latest stage-history category by then, else the opportunity's; see
  :mod:`retain.sales.close_dates`), beside the CRM-weighted forecast Σ CRM probability x amount. When no deal
  has a category (the export has no forecast-category column), the four sums are empty, not zero, and
  :func:`category_note` says so.
- **coverage** = open pipeline / (the period's ARR goals - ARR won so far).
- **backtest**: at the start of each validated past quarter, the deals then open, forecast by a model trained on
  what was known then (:func:`retain.sales.scores.validate`), by the CRM's probability and by the stage win
  rate, against the amount of those deals actually won; the error of each in percent.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from retain.sales.scores import Validation, quarter_start

DRAWS = 2000
EXACT_DEALS = 20_000
CATEGORIES = {"commit": "commit", "best_case": "best_case", "pipeline": "pipeline_category", "omitted": "omitted"}
NO_CATEGORIES = "the export has no forecast categories"


def quarter_label(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_labels(days: pd.Series) -> pd.Series:
    """``2026-Q4`` labels of a column of dates (vectorised)."""
    return pd.to_datetime(days).dt.to_period("Q").astype(str).str.replace("Q", "-Q", regex=False)


def simulate(p: np.ndarray, amount: np.ndarray, *, draws: int = DRAWS, seed: int = 0) -> tuple[float, float]:
    """5th and 95th percentiles of Σ won amounts when each deal is won with probability ``p``."""
    if len(p) == 0:
        return 0.0, 0.0
    if len(p) > EXACT_DEALS:
        mean, sd = float(np.sum(p * amount)), float(np.sqrt(np.sum(p * (1 - p) * amount**2)))
        return max(0.0, mean - 1.645 * sd), mean + 1.645 * sd
    rng = np.random.default_rng(seed)
    totals = np.zeros(draws)
    for start in range(0, draws, 200):  # 200 draws at a time bounds the memory to 200 x deals
        block = rng.random((min(200, draws - start), len(p))) < p
        totals[start:start + len(block)] = block @ amount
    low, high = np.percentile(totals, [5, 95])
    return float(low), float(high)


def forecast(scores: pd.DataFrame, day: dt.date, teams: dict[str, str], goals: pd.DataFrame | None = None,
             won: pd.DataFrame | None = None, *, seed: int = 0) -> pd.DataFrame:
    """Per quarter and team (and ``all``): categories, expected bookings with an interval, slipped deals, coverage.

    ``scores``: :func:`retain.sales.pipeline.score_pipeline`'s scores; ``teams``: owner -> team; ``goals``:
    :func:`retain.sales.goals.progress` rows (ARR goals are summed per quarter and team); ``won``: deals won with
    ``closed_on``, ``owner_id`` and ``amount`` (for the won-so-far of the current quarter)."""
    # the simulation draws per deal in row order: in the order of the ids, not the order an engine returned them
    s = scores.sort_values("opportunity_id", kind="stable", ignore_index=True)
    close = pd.to_datetime(s["close_on"]).dt.date
    today_q = quarter_start(day)
    s["slipped"] = close.isna() | (close < day)
    when = pd.to_datetime(close).where(~s["slipped"], pd.Timestamp(today_q))
    s["period"] = quarter_labels(when)
    s["team"] = s["owner_id"].map(teams).fillna("unassigned")
    s["amount"] = s["amount"].fillna(0.0)
    has_categories = "forecast_category" in s and s["forecast_category"].notna().any()
    rows = []
    for (period, team), g in pd.concat([s, s.assign(team="all")]).groupby(["period", "team"]):
        low, high = simulate(g["p_win"].to_numpy(float), g["amount"].to_numpy(float), seed=seed)
        row = {"period": period, "team": team, "open_deals": len(g), "pipeline": g["amount"].sum(),
               "expected": float((g["p_win"] * g["amount"]).sum()), "expected_low": low, "expected_high": high,
               "crm_expected": float((g["crm_probability"].fillna(0) * g["amount"]).sum()),
               "slipped_deals": int(g["slipped"].sum()), "slipped_amount": float(g.loc[g["slipped"], "amount"].sum())}
        for category, column in CATEGORIES.items():
            row[column] = float(g.loc[g["forecast_category"] == category, "amount"].sum()) if has_categories \
                else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    return _coverage(out, goals, won, teams)


def _coverage(out: pd.DataFrame, goals: pd.DataFrame | None, won: pd.DataFrame | None,
              teams: dict[str, str]) -> pd.DataFrame:
    out["goal"] = np.nan
    out["won_to_date"] = 0.0
    if won is not None and len(won):
        w = won.assign(period=quarter_labels(won["closed_on"]),
                       team=won["owner_id"].map(teams).fillna("unassigned"))
        per = pd.concat([w, w.assign(team="all")]).groupby(["period", "team"])["amount"].sum()
        out["won_to_date"] = [float(per.get((p, t), 0.0)) for p, t in zip(out["period"], out["team"], strict=True)]
    if goals is not None and len(goals):
        arr = goals[goals["metric"].isin(["new_business_arr", "add_on_arr", "renewal_arr", "total_arr"])].copy()
        arr["period"] = quarter_labels(arr["period_start_on"])
        arr["team"] = arr["member_id"].map(teams).fillna(arr["team"]).fillna("all")
        per = pd.concat([arr, arr.assign(team="all")]).groupby(["period", "team"])["target"].sum()
        out["goal"] = [per.get((p, t), np.nan) for p, t in zip(out["period"], out["team"], strict=True)]
    gap = (out["goal"] - out["won_to_date"]).where(lambda x: x > 0)
    out["coverage"] = out["pipeline"] / gap
    return out


def category_note(fc: pd.DataFrame) -> str | None:
    """:data:`NO_CATEGORIES` when a forecast has deals but no CRM category sums (None when it has them)."""
    if fc.empty or "commit" not in fc or fc[list(CATEGORIES.values())].notna().any().any():
        return None
    return NO_CATEGORIES


def backtest(validation: Validation) -> pd.DataFrame:
    """Per validated past quarter: the forecast at its start by the model, the CRM and the stage rates, against
    what those deals won, with each one's error."""
    s = validation.scored
    start = s[s["as_of"] == s["quarter"]].copy()
    if start.empty:
        return pd.DataFrame()
    start["actual"] = start["won"] * start["amount"]
    start["m"] = start["model"] * start["amount"]
    start["c"] = start["crm_probability"] * start["amount"]
    start["s"] = start["stage_only"] * start["amount"]
    grouped = start.groupby("quarter")
    g = grouped.agg(open_deals=("opportunity_id", "size"), actual_won=("actual", "sum"), model_forecast=("m", "sum"),
                    stage_forecast=("s", "sum")).reset_index()
    # without a CRM probability (an export without the field) the CRM forecast is absent, not zero
    g["crm_forecast"] = grouped["c"].sum(min_count=1).to_numpy()
    for name, col in (("model", "model_forecast"), ("crm", "crm_forecast"), ("stage", "stage_forecast")):
        g[f"{name}_error_pct"] = (g[col] - g["actual_won"]) / g["actual_won"].where(g["actual_won"] > 0)
    g["period"] = [quarter_label(q) for q in g["quarter"]]
    return g.drop(columns="quarter")


def mean_abs_error(bt: pd.DataFrame) -> dict[str, float]:
    """Mean absolute percentage error of each forecast over the backtested quarters."""
    if not len(bt):
        return {}
    errors = {name: bt[f"{name}_error_pct"].abs().mean() for name in ("model", "crm", "stage")}
    return {name: float(e) for name, e in errors.items() if pd.notna(e)}
