"""Benchmark: one machine to its limit. N accounts (default 1,000,000) with a year of daily usage (~365M rows).

    nice -n 10 /work/main/.venv/bin/python bench/bench_scale.py [--accounts N] [--dir D] [--memory-gb 16] [--fresh]

Generates the Parquet files a company would hand over (in DuckDB SQL: seeded hashes, no Python loops), then runs,
on a DuckDB warehouse capped at ``--memory-gb``: ingest (validate + load every file), health scoring for one date
and model features for one date; beside them a plain DuckDB scan of the same Parquet files (the floor). Prints per
step: seconds, rows, rows per second per core and the peak resident memory of the step (sampled every 50 ms,
DuckDB included). CPU seconds make the figures hold on a shared machine. docs/scale.md is written from them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

END = dt.date(2025, 12, 31)
FEATURES = ("dashboards", "reports", "alerts", "exports", "api", "integrations", "automation", "admin")


def generate(folder: Path, n: int, days: int = 365) -> dict[str, int]:
    """Team, accounts, subscriptions and daily usage as Parquet, written by DuckDB straight from SQL."""
    folder.mkdir(parents=True, exist_ok=True)
    start = END - dt.timedelta(days=days - 1)
    feats = "[" + ", ".join(f"'{f}'" for f in FEATURES) + "]"
    ids = (f"SELECT i, 'A' || lpad(i::VARCHAR, 7, '0') AS account_id, hash(i, 'r1') % 1000 / 1000.0 AS r1, "
           f"hash(i, 'r2') % 1000 / 1000.0 AS r2 FROM range({n}) t(i)")
    queries = {
        "team_members": "SELECT 'csm' || i AS member_id, 'CSM ' || i AS name, 'csm' AS role FROM range(2000) t(i)",
        "accounts": f"""SELECT account_id, 'Account ' || i AS name,
            TIMESTAMPTZ '2022-01-01 00:00:00+00' + (i % 700) * INTERVAL 1 DAY AS created_at,
            CASE WHEN r1 < 0.6 THEN 'smb' WHEN r1 < 0.9 THEN 'mid_market' ELSE 'enterprise' END AS segment,
            'csm' || (i % 2000) AS owner_id FROM ({ids})""",
        "subscriptions": f"""SELECT 'S' || i AS subscription_id, account_id, 'core' AS product_id,
            DATE '2023-01-01' + (i % 500)::INT AS started_on, (100 + (i % 50) * 20)::DOUBLE AS mrr,
            5 + (i % 60) AS quantity, DATE '{END}' + (i % 365)::INT AS term_end_on,
            CASE WHEN r2 < 0.15 THEN DATE '{start}' + (hash(i, 'end') % {days})::INT END AS ended_on
            FROM ({ids})""",
        "usage": f"""SELECT account_id, d::DATE AS usage_on, {feats}[1 + (hash(i, d) % 8)::INT] AS feature,
            greatest(0, ((5 + i % 60) * r1 * (1 - r2 * datediff('day', DATE '{start}', d) / {days})
                         + hash(d, i) % 5)::BIGINT) AS active_users,
            (hash(i, d, 'e') % 50)::DOUBLE AS events
            FROM ({ids}), generate_series(DATE '{start}', DATE '{END}', INTERVAL 1 DAY) g(d)""",
    }
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    rows = {}
    for name, sql in queries.items():
        path = folder / f"{name}.parquet"
        con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)")
        rows[name] = con.execute(f"SELECT count(*) FROM '{path}'").fetchone()[0]
    con.close()
    return rows


class PeakRSS:
    """Peak resident memory of this process during a block (sampled; DuckDB's memory is in the process)."""

    def __enter__(self) -> PeakRSS:
        self.peak, self._stop = _rss_mb(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def step(label: str, rows: int, cores: int, fn: Callable[[], object]) -> object:
    """Run one step; print wall seconds, CPU seconds (every thread of the process) and rows per CPU-second.

    Rows per CPU-second is rows per second per core on an idle machine, and stays meaningful on a shared one
    (wall time then includes waiting for a core)."""
    with PeakRSS() as mem:
        t0, c0 = time.perf_counter(), _cpu()
        out = fn()
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    rate = f"{rows / cpu:>12,.0f} rows/s/core" if rows else " " * 23
    print(f"{label:<44} {seconds:8.1f} s wall {cpu:8.1f} s CPU  {rows:>12,} rows {rate}  peak {mem.peak:>7,.0f} MB",
          flush=True)
    return out


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--dir", default="/tmp/bench_scale", help="folder for the Parquet files and the warehouse")
    ap.add_argument("--memory-gb", type=float, default=16.0, help="DuckDB memory_limit for the warehouse")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--fresh", action="store_true", help="regenerate the Parquet files even if they exist")
    args = ap.parse_args()

    from retain.health import score
    from retain.ingest.pipeline import ingest_path
    from retain.models.features import feature_frame
    from retain.warehouse import Warehouse

    root = Path(args.dir) / f"{args.accounts}"
    files, db = root / "parquet", root / "warehouse.duckdb"
    cores, n = args.threads, args.accounts
    print(f"{n:,} accounts, {cores} threads, DuckDB memory_limit {args.memory_gb:g} GB, load {os.getloadavg()}")
    if args.fresh or not (files / "usage.parquet").exists():
        shutil.rmtree(files, ignore_errors=True)
        rows = step("generate Parquet (DuckDB SQL)", 0, cores, lambda: generate(files, n)) or {}
    else:
        con = duckdb.connect()
        rows = {p.stem: con.execute(f"SELECT count(*) FROM '{p}'").fetchone()[0] for p in files.glob("*.parquet")}
        con.close()
    total = sum(rows.values())
    usage = rows["usage"]
    size = sum(p.stat().st_size for p in files.glob("*.parquet")) / 2**20
    print(f"files: {', '.join(f'{k} {v:,}' for k, v in rows.items())} rows; {size:,.0f} MB of Parquet")

    def plain_scan() -> None:
        con = duckdb.connect(config={"threads": cores, "memory_limit": f"{args.memory_gb}GB"})
        con.execute(f"SELECT account_id, sum(active_users), count(DISTINCT feature), max(usage_on) "
                    f"FROM '{files / 'usage.parquet'}' GROUP BY 1").fetchall()
        con.close()

    step("plain DuckDB: grouped scan of usage.parquet", usage, cores, plain_scan)

    db.unlink(missing_ok=True)
    wh = Warehouse.open(db)
    wh.con.raw_sql(f"SET threads = {cores}")
    wh.con.raw_sql(f"SET memory_limit = '{args.memory_gb}GB'")
    os.environ["RETAIN_INGEST_MEMORY"] = f"{args.memory_gb}GB"  # a load's own limit (default 1 GB) to the same cap
    wh.con.raw_sql(f"SET temp_directory = '{root / 'spill'}'")
    report = step("retain ingest (validate + load all files)", total, cores, lambda: ingest_path(wh, files))
    quarantined = sum(r.quarantined for r in report.results)
    if quarantined:
        print(f"  quarantined rows: {quarantined:,} (a generator bug)")
    result = step("health scores for one date", usage, cores, lambda: score(wh, END))
    print(f"  scored accounts: {len(result.scores):,}; grades {result.scores['grade'].value_counts().to_dict()}")
    frame = step("model features for one date", usage, cores, lambda: feature_frame(wh, END))
    print(f"  feature rows: {len(frame):,} x {frame.shape[1]} columns")
    print(f"warehouse file: {db.stat().st_size / 2**20:,.0f} MB; load at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
