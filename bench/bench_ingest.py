"""Benchmark: ingest + validate N usage rows (default 10M) into a DuckDB warehouse file.

    /work/main/.venv/bin/python bench/bench_ingest.py [--rows N] [--format csv|parquet] [--small]

Generates ``accounts.csv`` (10,000 accounts) and a usage file with N unique (account, day, feature) rows, then
in a child process (so its peak RSS can be read) runs ``retain.ingest.ingest_path`` on the folder: staging,
typing, every check (required, types, minimum, future dates, key uniqueness, references to accounts),
quarantine and upsert. The baseline, in another child, is DuckDB loading the same file with no validation
(``CREATE TABLE AS SELECT * FROM read_csv(...)``). Target: <= 60 s and <= 2 GB peak RSS on 2 cores.

The same rows then load through a mapping with transforms (``--no-mapping`` skips it): the export is wide (one row
per account key and day, a column per feature) and keyed by an external account number, so the mapping's query
joins a key file and unpivots the feature columns into the same N usage rows. Target: within 1.5x of the plain load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACCOUNTS = 10_000


def generate(folder: Path, rows: int, fmt: str) -> Path:
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 'A' || lpad(CAST(i AS VARCHAR), 6, '0') AS account_id, 'Account ' || i AS name, "
        f"TIMESTAMP '2022-01-01' + INTERVAL (i % 365) DAY AS created_at, "
        f"['smb', 'mid_market', 'enterprise'][1 + i % 3] AS segment FROM range({ACCOUNTS}) t(i)) "
        f"TO '{folder / 'accounts.csv'}' (HEADER)"
    )
    days = max(1, rows // (ACCOUNTS * 2))
    usage = folder / f"usage.{fmt}"
    target = f"'{usage}' (HEADER)" if fmt == "csv" else f"'{usage}' (FORMAT parquet)"
    con.execute(
        f"COPY (SELECT 'A' || lpad(CAST(i % {ACCOUNTS} AS VARCHAR), 6, '0') AS account_id, "
        f"DATE '2023-01-01' + CAST((i // {ACCOUNTS}) % {days} AS INTEGER) AS usage_on, "
        f"CASE WHEN i // ({ACCOUNTS} * {days}) = 0 THEN 'core' ELSE 'reports' END AS feature, "
        f"CAST(1 + hash(i) % 40 AS BIGINT) AS active_users, CAST(hash(i * 7) % 500 AS DOUBLE) AS events "
        f"FROM range({rows}) t(i)) TO {target}"
    )
    return usage


MAPPING = """version: 1
name: bench-wide-usage
sources:
  wide: usage_wide.{fmt}
  keys: account_keys.csv
tables:
  usage:
    query: |
      SELECT k.account_id, w.usage_on, w.feature, w.events, w.active_users
      FROM (UNPIVOT wide ON core, reports INTO NAME feature VALUE events) w
      JOIN keys k ON k.account_key = w.account_key
"""


def generate_wide(folder: Path, rows: int, fmt: str) -> Path:
    """The same usage rows as :func:`generate`, exported wide (a column per feature) by an external account key."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"COPY (SELECT i AS account_key, 'A' || lpad(CAST(i AS VARCHAR), 6, '0') AS account_id "
                f"FROM range({ACCOUNTS}) t(i)) TO '{folder / 'account_keys.csv'}' (HEADER)")
    half = rows // 2
    days = max(1, rows // (ACCOUNTS * 2))
    target = folder / f"usage_wide.{fmt}"
    options = "(HEADER)" if fmt == "csv" else "(FORMAT parquet)"
    con.execute(
        f"COPY (SELECT i % {ACCOUNTS} AS account_key, DATE '2023-01-01' + CAST((i // {ACCOUNTS}) % {days} AS INTEGER) "
        f"AS usage_on, CAST(1 + hash(i) % 40 AS BIGINT) AS active_users, CAST(hash(i * 7) % 500 AS DOUBLE) AS core, "
        f"CAST(hash(i * 11) % 500 AS DOUBLE) AS reports FROM range({half}) t(i)) TO '{target}' {options}"
    )
    (folder / "mapping.yaml").write_text(MAPPING.format(fmt=fmt), encoding="utf-8")
    return target


def child_ingest(folder: str, db: str) -> None:
    from retain.ingest import ingest_path
    from retain.warehouse import Warehouse

    wh = Warehouse.open(db)
    start = time.perf_counter()
    mapping = Path(folder) / "mapping.yaml"
    if mapping.exists():
        accounts = ingest_path(wh, Path(folder) / "accounts.csv")  # the same accounts as the plain load, timed too
        report = ingest_path(wh, None, mapping=mapping)
        report.results[:0] = accounts.results
    else:
        report = ingest_path(wh, folder)
    seconds = time.perf_counter() - start
    usage = report.result("usage")
    print(json.dumps({"seconds": seconds, "read": usage.read, "loaded": usage.loaded,
                      "quarantined": usage.quarantined, "inserted": usage.inserted}))


def child_baseline(usage: str, db: str) -> None:
    import duckdb

    con = duckdb.connect(db)
    start = time.perf_counter()
    reader = "read_csv" if usage.endswith(".csv") else "read_parquet"
    con.execute(f"CREATE TABLE usage AS SELECT * FROM {reader}('{usage}')")
    print(json.dumps({"seconds": time.perf_counter() - start}))


def run_child(*args: str) -> tuple[dict, float, float]:
    """Run this script as a child; return its JSON output, its peak RSS in MB and the CPU seconds it used.

    ``ru_maxrss`` of RUSAGE_CHILDREN is the largest child so far: the lighter child (baseline) runs first.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"child failed:\n{proc.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return json.loads(proc.stdout.strip().splitlines()[-1]), after.ru_maxrss / 1024, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--small", action="store_true", help="1M rows (a quick check)")
    parser.add_argument("--no-mapping", action="store_true", help="skip the load through a mapping with transforms")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, a, b = args.child
        (child_ingest if kind == "ingest" else child_baseline)(a, b)
        return
    rows = 1_000_000 if args.small else args.rows
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp) / "data"
        folder.mkdir()
        t0 = time.perf_counter()
        usage = generate(folder, rows, args.format)
        size_mb = usage.stat().st_size / 1e6
        print(f"generated {rows:,} usage rows ({args.format}, {size_mb:,.0f} MB) + {ACCOUNTS:,} accounts "
              f"in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} cores")
        base, base_rss, base_cpu = run_child("--child", "baseline", str(usage), str(Path(tmp) / "baseline.duckdb"))
        out, rss, cpu = run_child("--child", "ingest", str(folder), str(Path(tmp) / "retain.duckdb"))
        mapped = None
        if not args.no_mapping:
            wide = Path(tmp) / "wide"
            wide.mkdir()
            (wide / "accounts.csv").write_bytes((folder / "accounts.csv").read_bytes())
            usage.unlink()  # disk space: the wide export replaces the long one
            generate_wide(wide, rows, args.format)
            mapped = run_child("--child", "ingest", str(wide), str(Path(tmp) / "mapped.duckdb"))
    rate = out["read"] / out["seconds"]
    print(f"load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (other work slows both runs)")
    print(f"baseline (DuckDB CREATE TABLE AS read_{args.format}, no validation): {base['seconds']:.1f} s wall, "
          f"{base_cpu:.1f} s CPU, peak RSS {base_rss:,.0f} MB")
    print(f"retain ingest + validate: {out['seconds']:.1f} s wall for {out['read']:,} rows = {rate:,.0f} rows/s; "
          f"{cpu:.1f} s CPU; loaded {out['loaded']:,}, quarantined {out['quarantined']:,}; peak RSS {rss:,.0f} MB")
    print(f"ratio to baseline: {out['seconds'] / base['seconds']:.1f}x wall time, {cpu / base_cpu:.1f}x CPU")
    ok = out["seconds"] <= 60 and rss <= 2048
    print(f"target (<= 60 s, <= 2048 MB): {'met' if ok else 'NOT met'}")
    if mapped is not None:
        m, m_rss, m_cpu = mapped
        print(f"through a mapping (join + unpivot of a wide export): {m['seconds']:.1f} s wall for {m['read']:,} rows "
              f"= {m['read'] / m['seconds']:,.0f} rows/s; {m_cpu:.1f} s CPU; loaded {m['loaded']:,}; peak RSS "
              f"{m_rss:,.0f} MB (the largest child so far)")
        ratio = m["seconds"] / out["seconds"]
        print(f"mapping vs plain load: {ratio:.2f}x wall time, {m_cpu / cpu:.2f}x CPU; target <= 1.5x: "
              f"{'met' if ratio <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
