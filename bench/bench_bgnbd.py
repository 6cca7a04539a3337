"""BG/NBD fit on ~3.4M customers: Retain's BetaGeoFitter vs lifetimes' BetaGeoFitter.fit, same data.

    python bench/bench_bgnbd.py            # the 10M-transaction data set of bench_rfm.py (~3.4M customers)
    python bench/bench_bgnbd.py --small    # the 1M-transaction one (~340k customers)

The RFM summary (daily purchases, weeks) comes from bench_rfm.py's output when present, else it is generated
(seeded) and computed with retain.clv.rfm_summary. Timed: the fit from the per-customer summary (ours collapses
identical (x, t_x, T) rows into weights as part of fit; lifetimes is given the same per-customer arrays).
Target: ours >= 20x faster, parameters equal to 1e-3 relative.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import bench_rfm  # noqa: E402


def load_summary(n: int, folder: Path) -> pd.DataFrame:
    out = folder / f"rfm_ours_{n}.parquet"
    if not out.exists():
        import ibis

        from retain.clv import rfm_summary

        data = folder / f"transactions_{n}.parquet"
        if not data.exists():
            folder.mkdir(parents=True, exist_ok=True)
            bench_rfm.generate(data, n)
        con = ibis.duckdb.connect()
        expr = rfm_summary(con.read_parquet(str(data)), "customer_id", "occurred_at", "amount",
                           observation_end=bench_rfm.END, freq="D", freq_multiplier=7)
        con.to_parquet(expr, str(out))
    return pd.read_parquet(out).sort_values("customer_id").reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--dir", default="/tmp/retain-bench")
    args = parser.parse_args()
    n = 1_000_000 if args.small else args.transactions
    summary = load_summary(n, Path(args.dir))
    unique = summary.groupby(["frequency", "recency", "T"]).ngroups
    print(f"BG/NBD on {len(summary):,} customers ({unique:,} unique (x, t_x, T) rows), weeks", flush=True)

    from retain.clv import BetaGeoFitter

    t0 = time.perf_counter()
    ours = BetaGeoFitter().fit(summary)
    t_ours = time.perf_counter() - t0
    print(f"  ours       {t_ours:8.2f} s   LL {ours.log_likelihood_:,.3f}   "
          + ", ".join(f"{k}={v:.6f}" for k, v in ours.params_.items()), flush=True)

    from lifetimes import BetaGeoFitter as LifetimesBG

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    theirs = LifetimesBG().fit(summary["frequency"], summary["recency"], summary["T"])
    t_theirs = time.perf_counter() - t0
    their_ll = float(np.dot(ours._weights, ours._log_likelihood(theirs.params_.to_numpy(), ours._data)))
    print(f"  lifetimes  {t_theirs:8.2f} s   LL {their_ll:,.3f}   "
          + ", ".join(f"{k}={v:.6f}" for k, v in theirs.params_.items()), flush=True)
    rel = np.max(np.abs(ours.params_.to_numpy() - theirs.params_.to_numpy()) / np.abs(theirs.params_.to_numpy()))
    print(f"  ours is {t_theirs / t_ours:.1f}x faster; parameters max relative difference {rel:.1e} "
          f"({'within' if rel <= 1e-3 else 'OUTSIDE'} 1e-3)")


if __name__ == "__main__":
    main()
