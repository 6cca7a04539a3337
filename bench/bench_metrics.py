"""Benchmark: monthly logo + revenue decomposition (12 months) on a synthetic book, Ibis/DuckDB vs pandas.

The baseline is a vectorised pandas computation of the same numbers (snapshot masks per period), run in the same
process on the same data; the script checks both agree, then prints times and the ratio.

    /work/main/.venv/bin/python bench/bench_metrics.py [--small]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import pandas as pd

from retain.metrics.periods import period_frame
from retain.metrics.results import compute_results
from retain.metrics.retention import decomposition
from retain.warehouse import Warehouse

AS_OF = dt.date(2026, 6, 30)


def synthetic_subscriptions(accounts: int, seed: int = 7) -> pd.DataFrame:
    """Accounts join over 4 years, hold 1-3 consecutive periods each, ~25 % churn a year."""
    rng = np.random.default_rng(seed)
    start0 = np.datetime64("2022-07-01")
    starts = start0 + rng.integers(0, 4 * 365, accounts).astype("timedelta64[D]")
    rows = []
    current = starts
    alive = np.ones(accounts, bool)
    mrr = rng.lognormal(5, 1, accounts).round(2)
    for k in range(3):
        length = rng.integers(90, 500, accounts).astype("timedelta64[D]")
        ends = current + length
        last = (rng.random(accounts) < 0.35) | (k == 2)
        ended = np.where(last & (rng.random(accounts) < 0.6), ends, np.datetime64("NaT"))
        ended = np.where(last, ended, ends)
        frame = pd.DataFrame({
            "subscription_id": [f"s{k}_{i}" for i in range(accounts)], "account_id": [f"a{i}" for i in range(accounts)],
            "product_id": rng.choice(["core", "addon", "api"], accounts), "started_on": current,
            "ended_on": ended, "mrr": mrr * (1 + 0.1 * k),
        })[alive]
        rows.append(frame)
        alive = alive & ~last
        current = ends
    subs = pd.concat(rows, ignore_index=True)
    subs = subs[subs.started_on <= np.datetime64(AS_OF)]
    subs["started_on"] = subs.started_on.dt.date
    subs["ended_on"] = subs.ended_on.dt.date.astype("object").where(subs.ended_on.notna(), None)
    return subs


def pandas_decomposition(subs: pd.DataFrame, as_of: dt.date, periods: int) -> pd.DataFrame:
    """Baseline: the same decomposition with pandas boolean masks, one period at a time."""
    s = subs.copy()
    s["started_on"] = pd.to_datetime(s.started_on)
    s["ended_on"] = pd.to_datetime(s.ended_on)
    s.loc[s.ended_on > pd.Timestamp(as_of), "ended_on"] = pd.NaT
    first = s.groupby("account_id").started_on.min()
    out = []
    for p in period_frame(as_of, "month", periods).itertuples():
        def active(day):
            day = pd.Timestamp(day)
            m = (s.started_on <= day) & (s.ended_on.isna() | (s.ended_on > day))
            return s[m].groupby("account_id").mrr.sum()
        a, b = active(p.open_day), active(p.close_day)
        both = a.index.intersection(b.index)
        gained = b.index.difference(a.index)
        new = (first.reindex(gained) >= pd.Timestamp(p.period_start)).sum()
        out.append({"period": p.period, "start": len(a), "churned": len(a.index.difference(b.index)),
                    "new": int(new), "reactivated": len(gained) - int(new), "end": len(b),
                    "start_mrr": a.sum(), "end_mrr": b.sum(),
                    "expansion_mrr": (b[both] - a[both]).clip(lower=0).sum()})
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="20k accounts instead of 300k")
    args = parser.parse_args()
    accounts = 20_000 if args.small else 300_000
    subs = synthetic_subscriptions(accounts)
    wh = Warehouse.open(":memory:")
    wh.con.insert("subscriptions", subs)
    print(f"{accounts:,} accounts, {len(subs):,} subscription periods, as of {AS_OF}")

    t = time.perf_counter()
    ours = wh.execute(decomposition(wh, AS_OF, "month", 12))
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    base = pandas_decomposition(subs, AS_OF, 12)
    base_s = time.perf_counter() - t
    for col in ("start", "churned", "new", "reactivated", "end"):
        assert list(ours[col]) == list(base[col]), col
    for col in ("start_mrr", "end_mrr", "expansion_mrr"):
        assert np.allclose(ours[col], base[col], rtol=1e-9), col
    print(f"monthly decomposition, 12 periods: retain {ours_s:.2f}s, pandas baseline {base_s:.2f}s, "
          f"ratio {base_s / ours_s:.1f}x (identical counts and MRR)")
    t = time.perf_counter()
    compute_results(wh, AS_OF)
    print(f"every stored metric result (compute_results): {time.perf_counter() - t:.2f}s")


if __name__ == "__main__":
    main()
