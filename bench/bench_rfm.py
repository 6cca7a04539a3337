"""RFM summary from a Parquet transaction log: Retain (Ibis on DuckDB) vs hand-written DuckDB SQL vs lifetimes.

    python bench/bench_rfm.py                          # 10M transactions (~3.4M customers), all three
    python bench/bench_rfm.py --small                  # 1M transactions
    python bench/bench_rfm.py --transactions 100000000 # 100M, ours only, peak memory must stay <= 4 GB

Each method runs in its own child process (its peak RSS is its own ru_maxrss); the timed part is reading the
Parquet file and computing the summary into memory (Arrow for the engines, pandas for lifetimes; for 100M, ours
streams the result to Parquet). Results are compared: frequency/recency/T identical, spend within 1e-12 relative.
Data: seeded BG/NBD buyers with Gamma-Gamma spend (retain.clv.simulate.transactions), daily purchases, weeks.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

TX_PER_CUSTOMER = 2.97  # what the simulator's default parameters give
START, DAYS = "2024-01-01", 730
END = (pd.Timestamp(START) + pd.Timedelta(days=DAYS - 1)).date()
CHUNK = 2_000_000  # customers per generated chunk


def generate(path: Path, n_transactions: int, seed: int = 42) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from retain.clv.simulate import transactions

    customers = int(round(n_transactions / TX_PER_CUSTOMER))
    tmp = path.with_suffix(".tmp")
    writer = None
    rows = 0
    for i, first in enumerate(range(0, customers, CHUNK)):
        size = min(CHUNK, customers - first)
        frame = transactions(size, start=START, observation_days=DAYS, seed=[seed, i])
        frame["customer_id"] += first
        frame["occurred_at"] = frame["occurred_at"].dt.tz_localize(None).astype("datetime64[us]")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table, row_group_size=1_000_000)
        rows += len(frame)
    writer.close()
    tmp.rename(path)
    print(f"generated {rows:,} transactions of {customers:,} customers -> {path} "
          f"({path.stat().st_size / 1e6:,.0f} MB)", flush=True)


HAND_SQL = """
WITH periods AS (
    SELECT customer_id, CAST(occurred_at AS DATE) AS day, sum(amount) AS value
    FROM read_parquet('{path}')
    WHERE CAST(occurred_at AS DATE) <= DATE '{end}'
    GROUP BY customer_id, day
), customers AS (
    SELECT customer_id, min(day) AS first_day, max(day) AS last_day, count(*) AS n,
           sum(value) AS total, arg_min(value, day) AS first_value
    FROM periods GROUP BY customer_id
)
SELECT customer_id,
       CAST(n - 1 AS DOUBLE) AS frequency,
       CAST(last_day - first_day AS DOUBLE) / 7.0 AS recency,
       CAST(DATE '{end}' - first_day AS DOUBLE) / 7.0 AS "T",
       CASE WHEN n > 1 THEN (total - first_value) / CAST(n - 1 AS DOUBLE) ELSE 0.0 END AS monetary_value
FROM customers
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(method: str, path: str, out: str, memory_limit: str | None) -> None:
    """Run one method, write its result to ``out`` (untimed) and print wall and CPU time and peak RSS as JSON."""
    stream = out.endswith(".stream.parquet")
    t0 = time.perf_counter()
    if method == "ours":
        import ibis

        from retain.clv import rfm_summary

        con = ibis.duckdb.connect()
        if memory_limit:
            con.raw_sql(f"SET memory_limit = '{memory_limit}'; SET preserve_insertion_order = false")
        t0, c0 = time.perf_counter(), _cpu()
        expr = rfm_summary(con.read_parquet(path), "customer_id", "occurred_at", "amount",
                           observation_end=END, freq="D", freq_multiplier=7)
        if stream:
            con.to_parquet(expr, out)
            result = None
        else:
            result = con.to_pyarrow(expr)
    elif method == "sql":
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        t0, c0 = time.perf_counter(), _cpu()
        result = con.sql(HAND_SQL.format(path=path, end=END)).arrow()
        result = result.read_all() if hasattr(result, "read_all") else result
    elif method == "lifetimes":
        import warnings

        from lifetimes.utils import summary_data_from_transaction_data

        warnings.simplefilter("ignore")
        t0, c0 = time.perf_counter(), _cpu()
        frame = pd.read_parquet(path)
        result = summary_data_from_transaction_data(frame, "customer_id", "occurred_at", "amount",
                                                    observation_period_end=pd.Timestamp(END), freq="D",
                                                    freq_multiplier=7).reset_index()
        del frame
    else:
        raise SystemExit(f"unknown method {method}")
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    rows = None
    if result is not None:
        rows = len(result)
        if isinstance(result, pd.DataFrame):
            result.to_parquet(out, index=False)
        else:
            import pyarrow.parquet as pq

            pq.write_table(result, out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"method": method, "seconds": seconds, "cpu": cpu, "peak_mb": peak, "rows": rows}))


def run_child(method: str, path: Path, out: Path, memory_limit: str | None) -> dict:
    cmd = [sys.executable, __file__, "--child", method, "--file", str(path), "--out", str(out)]
    if memory_limit:
        cmd += ["--memory-limit", memory_limit]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{method} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(reference: Path, other: Path) -> str:
    a = pd.read_parquet(reference).sort_values("customer_id").reset_index(drop=True)
    b = pd.read_parquet(other).sort_values("customer_id").reset_index(drop=True)
    if len(a) != len(b) or not np.array_equal(a["customer_id"].to_numpy(), b["customer_id"].to_numpy()):
        return f"DIFFERENT customers ({len(a):,} vs {len(b):,})"
    exact = all(np.array_equal(a[c].to_numpy(float), b[c].to_numpy(float)) for c in ("frequency", "recency", "T"))
    ma, mb = a["monetary_value"].to_numpy(float), b["monetary_value"].to_numpy(float)
    rel = float(np.max(np.abs(ma - mb) / np.maximum(np.abs(mb), 1e-300))) if len(a) else 0.0
    return f"frequency/recency/T {'identical' if exact else 'DIFFER'}; spend max relative diff {rel:.2e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--small", action="store_true", help="1M transactions")
    parser.add_argument("--dir", default="/tmp/retain-bench", help="where the Parquet files go (cached by size)")
    parser.add_argument("--methods", default=None, help="comma list of ours,sql,lifetimes (default: all; >20M: ours)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of each engine method, median reported (default 3; 1 above 20M transactions)")
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit for ours (default 2GB when >20M)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.out, args.memory_limit)
        return
    n = 1_000_000 if args.small else args.transactions
    big = n > 20_000_000
    methods = (args.methods or ("ours" if big else "ours,sql,lifetimes")).split(",")
    memory_limit = args.memory_limit or ("2GB" if big else None)
    args.repeat = args.repeat or (1 if big else 3)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"transactions_{n}.parquet"
    if not data.exists():
        t0 = time.perf_counter()
        generate(data, n)
        print(f"  (generation took {time.perf_counter() - t0:,.1f} s)", flush=True)
    print(f"RFM summary of {data} ({os.cpu_count()} cores), observation end {END}, weeks", flush=True)
    results: dict[str, dict] = {}
    engines = [m for m in methods if m in ("ours", "sql")]
    # the engines run alternately, ``--repeat`` times each (the machine may be shared: compare medians)
    schedule = [m for _ in range(args.repeat) for m in engines] + [m for m in methods if m not in engines]
    for method in schedule:
        suffix = ".stream.parquet" if (big and method == "ours") else ".parquet"
        out = folder / f"rfm_{method}_{n}{suffix}"
        run = run_child(method, data, out, memory_limit if method == "ours" else None)
        entry = results.setdefault(method, {"times": [], "cpus": [], "peak_mb": 0.0, "rows": run["rows"], "out": out})
        entry["times"].append(run["seconds"])
        entry["cpus"].append(run["cpu"])
        entry["peak_mb"] = max(entry["peak_mb"], run["peak_mb"])
    for method, r in results.items():
        r["seconds"], r["cpu"] = float(np.median(r["times"])), float(np.median(r["cpus"]))
        rows = "" if r["rows"] is None else f"{r['rows']:,} customers, "
        runs = ", ".join(f"{t:.2f}" for t in r["times"])
        print(f"  {method:<10} wall {r['seconds']:7.2f} s (median of {runs})   CPU {r['cpu']:7.2f} s   "
              f"peak RSS {r['peak_mb']:6,.0f} MB   ({rows}{r['out'].name})", flush=True)
    if "ours" in results:
        for other in ("sql", "lifetimes"):
            if other in results:
                ratio = results[other]["seconds"] / results["ours"]["seconds"]
                cpu_ratio = results[other]["cpu"] / results["ours"]["cpu"]
                print(f"  ours vs {other}: {ratio:.2f}x as fast by wall time (ours/{other} = {1 / ratio:.2f}), "
                      f"{cpu_ratio:.2f}x by CPU time (ours/{other} = {1 / cpu_ratio:.2f}); medians")
                print(f"    {compare(results['ours']['out'], results[other]['out'])}")
        if big:
            print(f"  peak memory {results['ours']['peak_mb'] / 1024:.2f} GB "
                  f"({'within' if results['ours']['peak_mb'] <= 4096 else 'OVER'} the 4 GB target)")


if __name__ == "__main__":
    main()
