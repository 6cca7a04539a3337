"""Benchmark of `retain demo`: generate + write Parquet + ingest the default company (target: <= 120 s, 2 cores).

    python bench/bench_demo.py [--small] [--accounts N] [--main-job]

Prints seconds per phase, rows, rows/s and peak RSS, against the 120 s target (ratio = measured / target).
The main job (other domains' analytics) is timed only with --main-job: it is not part of the generator.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from retain.demo import DemoSpec, build_demo
from retain.warehouse import Warehouse

TARGET_SECONDS = 120.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="500 accounts instead of the default 3,000")
    parser.add_argument("--accounts", type=int, default=None)
    parser.add_argument("--main-job", action="store_true", help="also time retain.jobs.main.run_main_job")
    args = parser.parse_args()
    accounts = args.accounts or (500 if args.small else DemoSpec().accounts)
    spec = DemoSpec(accounts=accounts)
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        wh = Warehouse.open(Path(tmp) / "demo.duckdb")
        t0, c0 = time.perf_counter(), time.process_time()
        result = build_demo(wh, spec, out_dir=Path(tmp) / "files")
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
        job = None
        if args.main_job:
            from retain.jobs.main import run_main_job

            t1 = time.perf_counter()
            run_main_job(wh, spec.end)
            job = time.perf_counter() - t1
    rows = sum(result.rows.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"demo company: {accounts:,} accounts, {spec.years:g} years, seed {spec.seed}")
    for phase, secs in result.seconds.items():
        print(f"  {phase:<9} {secs:8.1f} s")
    print(f"  {'total':<9} {total:8.1f} s   ({rows:,} rows, {rows / total:,.0f} rows/s; "
          f"usage {result.rows['usage']:,})")
    print(f"  CPU time  {cpu:8.1f} s   (this process; wall time above includes waiting for a busy machine)")
    print(f"  peak RSS  {peak_mb:8.0f} MB")
    print(f"target (baseline) {TARGET_SECONDS:.0f} s -> ratio measured/target = {total / TARGET_SECONDS:.2f}"
          f" ({'OK' if total <= TARGET_SECONDS else 'OVER'})")
    if job is not None:
        print(f"  main job  {job:8.1f} s   (end to end with main job: {total + job:.1f} s)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
