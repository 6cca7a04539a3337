"""What happened next to each grade: the churn rate within ``horizon`` days of accounts graded at past dates.

Used to check (and tune) a scorecard: red accounts should churn far more than green ones. An account churned
when it held a running subscription at the scoring date and none ``horizon`` days later (point in time at both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from retain.health.history import resolve, score
from retain.health.measures import Context
from retain.warehouse import AsOf, Warehouse, as_of_date


def customers_at(wh: Warehouse, as_of: AsOf) -> pd.DataFrame:
    """Account ids holding a running subscription at ``as_of``."""
    return wh.execute(Context(wh, as_of).population().select("account_id"))


def graded_outcomes(wh: Warehouse, dates: Iterable[AsOf], horizon: int = 90, scorecards=None) -> pd.DataFrame:
    """One row per account and scoring date: total, grade, critical_factor and ``churned`` within ``horizon``."""
    spec = resolve(scorecards)
    frames = []
    for day in map(as_of_date, dates):
        scores = score(wh, day, spec).scores
        later = set(customers_at(wh, day + dt.timedelta(days=horizon))["account_id"])
        frames.append(scores.assign(churned=~scores["account_id"].isin(later)))
    return pd.concat(frames, ignore_index=True)


def churn_by_grade(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Accounts, churned and churn rate (%) per grade, plus the red/green ratio in ``attrs``."""
    out = outcomes.groupby("grade", as_index=False).agg(accounts=("account_id", "size"),
                                                        churned=("churned", "sum"))
    out["churn_pct"] = 100 * out["churned"] / out["accounts"]
    out = out.sort_values("grade", key=lambda g: g.map({"red": 0, "yellow": 1, "green": 2}), ignore_index=True)
    rates = out.set_index("grade")["churn_pct"]
    if {"red", "green"} <= set(rates.index) and rates["green"] > 0:
        out.attrs["red_green_ratio"] = float(rates["red"] / rates["green"])
    return out


@dataclass(frozen=True)
class Observations:
    """Churn outcomes of customers at past dates: ``frame`` = ``account_id``, ``as_of``, ``churned`` (0/1), only
    rows whose outcome is known; ``source`` = the outcome sources found, best first."""

    frame: pd.DataFrame
    horizon_days: int
    dates: tuple[dt.date, ...]
    source: tuple[str, ...]
    reason: str

    @property
    def churned_accounts(self) -> int:
        return int(self.frame.loc[self.frame["churned"] == 1, "account_id"].nunique())


def churn_observations(wh: Warehouse, as_of: AsOf, horizon_days: int | None = None,
                       max_dates: int = 12) -> Observations:
    """Churn labels per (account, date) from whatever the data has (``retain.models.outcomes``: a labels file,
    churn events, ``accounts.churned_at`` or subscription ends): monthly dates back from ``as_of - horizon`` (the
    last ``max_dates``), or the labels file's own dates. ``horizon_days`` defaults to what suits the data's span."""
    from retain.models import outcomes as mo
    from retain.models.frame import ObservationFrequency

    day = as_of_date(as_of)
    horizon, _, reason = mo.choose_defaults(wh, day)
    if horizon_days is not None:
        horizon, reason = horizon_days, f"horizon {horizon_days} days (as asked)"
    grid = mo.observation_grid(wh, day, horizon_days=horizon, frequency=ObservationFrequency.MONTH,
                               include_as_of=False)
    if grid.step_days is not None and len(grid.dates) > max_dates:
        grid = type(grid)(grid.dates[-max_dates:], grid.anchor, grid.step_days)
    if not grid.dates:
        return Observations(pd.DataFrame(columns=["account_id", "as_of", "churned"]), horizon, (), (), reason)
    table = mo.outcome_table(wh, grid, horizon_days=horizon)
    frame = wh.execute(table.filter(table.churned.notnull()).select("account_id", "as_of", "churned"))
    frame["as_of"] = [as_of_date(d) for d in frame["as_of"]]
    frame["churned"] = frame["churned"].astype(int)
    found = tuple(s.value for s in mo.sources(wh, day))
    dates = tuple(sorted(set(frame["as_of"])))
    return Observations(frame.sort_values(["as_of", "account_id"], ignore_index=True), horizon, dates, found, reason)


def main(argv: list[str] | None = None) -> None:
    """``python -m retain.health.outcomes DB START END [--freq 2MS] [--scorecard FILE]``: churn by grade."""
    import argparse

    from sklearn.metrics import roc_auc_score

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("db")
    ap.add_argument("start")
    ap.add_argument("end")
    ap.add_argument("--freq", default="2MS")
    ap.add_argument("--horizon", type=int, default=90)
    ap.add_argument("--scorecard", default=None)
    args = ap.parse_args(argv)
    wh = Warehouse.open(args.db, create=False)
    dates = pd.date_range(args.start, args.end, freq=args.freq).date
    out = graded_outcomes(wh, dates, args.horizon, args.scorecard).dropna(subset=["total"])
    table = churn_by_grade(out)
    auc = roc_auc_score(out["churned"], -out["total"]) if out["churned"].nunique() == 2 else float("nan")
    print(f"{len(dates)} dates, {len(out):,} account-dates, churn within {args.horizon} d: "
          f"{out['churned'].mean():.1%}, ROC-AUC of -total {auc:.3f}, "
          f"red/green {table.attrs.get('red_green_ratio', float('nan')):.1f}")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
