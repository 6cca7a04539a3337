"""Benchmark: health scores for 100k accounts with a year of daily usage (~36M rows) on DuckDB.

    /work/main/.venv/bin/python bench/bench_score.py [--small] [--accounts N] [--weeks 52] [--fresh]

Prints: data generation time, a baseline (one full aggregate scan of the usage table), scoring one date
(target <= 60 s), a weekly backfill of one year (target <= 10 min), each with its ratio to the target, and the
peak memory (max RSS of this process, DuckDB included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import time
from pathlib import Path

from retain.health import backfill, load_scorecard, score, store
from retain.warehouse import Warehouse

END = dt.date(2025, 12, 31)
FEATURES = ("dashboards", "reports", "alerts", "exports", "api", "integrations", "automation", "admin")


def generate(wh: Warehouse, n: int, days: int = 365) -> None:
    """Synthetic canonical tables straight in DuckDB SQL (seeded hashes, no Python loops)."""
    start = END - dt.timedelta(days=days - 1)
    feats = "[" + ", ".join(f"'{f}'" for f in FEATURES) + "]"
    con = wh.con
    sql = f"""
    CREATE OR REPLACE TEMP TABLE ids AS
      SELECT i, 'A' || lpad(i::VARCHAR, 6, '0') AS account_id,
             hash(i, 'seed') % 1000 / 1000.0 AS r1, hash(i, 'r2') % 1000 / 1000.0 AS r2 FROM range({n}) t(i);
    INSERT INTO accounts (account_id, name, created_at, segment, owner_id)
      SELECT account_id, 'Account ' || i, TIMESTAMPTZ '2022-01-01 00:00:00+00' + (i % 700) * INTERVAL 1 DAY,
             CASE WHEN r1 < 0.6 THEN 'smb' WHEN r1 < 0.9 THEN 'mid_market' ELSE 'enterprise' END,
             'csm' || (i % 200)
      FROM ids;
    INSERT INTO subscriptions (subscription_id, account_id, product_id, started_on, mrr, quantity, term_end_on,
                               ended_on)
      SELECT 'S' || i, account_id, 'core', DATE '2023-01-01' + (i % 500)::INT, 100 + (i % 50) * 20,
             5 + (i % 60), DATE '{END}' + (i % 365)::INT,
             CASE WHEN r2 < 0.15 THEN DATE '{start}' + (hash(i, 'end') % {days})::INT END
      FROM ids
      UNION ALL
      SELECT 'T' || i, account_id, 'addon', DATE '2024-06-01' + (i % 300)::INT, 50, 5 + (i % 60), NULL, NULL
      FROM ids WHERE r1 > 0.5;
    INSERT INTO usage (account_id, usage_on, feature, active_users, events)
      SELECT account_id, d::DATE,
             {feats}[1 + (hash(i, d) % 8)::INT],
             greatest(0, ((5 + i % 60) * r1 * (1 - r2 * datediff('day', DATE '{start}', d) / {days})
                          + hash(d, i) % 5)::INT),
             (hash(i, d, 'e') % 50)::DOUBLE
      FROM ids, generate_series(DATE '{start}', DATE '{END}', INTERVAL 1 DAY) g(d);
    INSERT INTO support_tickets (ticket_id, account_id, opened_at, priority, escalated, resolved_at)
      SELECT 'K' || i || '_' || k, account_id,
             TIMESTAMPTZ '{start} 00:00:00+00' + (hash(i, k) % {days}) * INTERVAL 1 DAY,
             ['low', 'normal', 'high', 'urgent'][1 + (hash(i, k, 'p') % 4)::INT], hash(i, k, 'x') % 10 = 0,
             CASE WHEN hash(i, k, 'r') % 5 > 0 THEN TIMESTAMPTZ '{start} 00:00:00+00'
                  + (hash(i, k) % {days} + 3) * INTERVAL 1 DAY END
      FROM ids, range(5) r(k) WHERE hash(i, k, 'keep') % 3 = 0;
    INSERT INTO survey_responses (response_id, account_id, responded_at, survey_type, score)
      SELECT 'N' || i || '_' || k, account_id,
             TIMESTAMPTZ '{start} 00:00:00+00' + (hash(i, k, 's') % {days}) * INTERVAL 1 DAY,
             CASE WHEN k % 2 = 0 THEN 'nps' ELSE 'csat' END,
             CASE WHEN k % 2 = 0 THEN (r1 * 10)::INT ELSE 1 + (r1 * 4)::INT END
      FROM ids, range(3) r(k);
    INSERT INTO invoices (invoice_id, account_id, issued_on, due_on, amount, paid_on)
      SELECT 'I' || i || '_' || m, account_id, DATE '{start}' + (m * 30)::INT, DATE '{start}' + (m * 30 + 30)::INT,
             1200, CASE WHEN hash(i, m) % 20 > 0 THEN DATE '{start}' + (m * 30 + 20 + hash(i, m) % 50)::INT END
      FROM ids, range(12) r(m);
    INSERT INTO activities (activity_id, account_id, occurred_at, activity_type)
      SELECT 'V' || i || '_' || k, account_id,
             TIMESTAMPTZ '{start} 00:00:00+00' + (hash(i, k, 'a') % {days}) * INTERVAL 1 DAY,
             ['call', 'meeting', 'qbr', 'executive_meeting', 'email'][1 + (hash(i, k, 't') % 5)::INT]
      FROM ids, range(10) r(k);
    INSERT INTO contacts (contact_id, account_id, created_at, role, left_at)
      SELECT 'C' || i || '_' || k, account_id, TIMESTAMPTZ '2022-01-01 00:00:00+00',
             CASE WHEN k = 0 THEN 'champion' ELSE 'user' END,
             CASE WHEN hash(i, k, 'l') % 10 = 0 THEN TIMESTAMPTZ '{start} 00:00:00+00'
                  + (hash(i, k) % {days}) * INTERVAL 1 DAY END
      FROM ids, range(3) r(k);
    """
    for statement in sql.split(";"):
        if statement.strip():
            con.raw_sql(statement)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


LOAD_START = os.getloadavg()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true", help="10k accounts and 8 weeks (a quick check)")
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--db", default="/tmp/bench_health.duckdb")
    ap.add_argument("--fresh", action="store_true", help="regenerate the data even if the file exists")
    args = ap.parse_args()
    n, weeks = (10_000, 8) if args.small else (args.accounts, args.weeks)
    db = Path(args.db if not args.small else args.db.replace(".duckdb", "_small.duckdb"))
    if args.fresh and db.exists():
        db.unlink()
    fresh = not db.exists()
    wh = Warehouse.open(db)
    wh.con.raw_sql("SET threads = 2")
    if fresh:
        t0 = time.perf_counter()
        generate(wh, n)
        print(f"generated {n:,} accounts, {wh.count('usage'):,} usage rows in {time.perf_counter() - t0:.1f} s")
    else:
        print(f"reusing {db}: {wh.count('accounts'):,} accounts, {wh.count('usage'):,} usage rows")
    for name in ("result_health_scores", "result_health_components", "result_health_measures"):
        wh.con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')

    t0 = time.perf_counter()
    wh.con.raw_sql("SELECT account_id, sum(active_users), count(DISTINCT feature) FROM usage GROUP BY 1").fetchall()
    base = time.perf_counter() - t0
    print(f"baseline: one grouped scan of the usage table          {base:7.2f} s")

    spec = load_scorecard(None)
    t0 = time.perf_counter()
    result = score(wh, END, spec)
    t_score = time.perf_counter() - t0
    t0 = time.perf_counter()
    store(wh, result, END)
    t_store = time.perf_counter() - t0
    print(f"score one date ({len(result.scores):,} accounts)              {t_score:7.2f} s  "
          f"(x{t_score / base:.1f} baseline; {t_score / 60:.0%} of the 60 s target)")
    print(f"  store scores, components and measures ({len(result.measures):,} rows) {t_store:7.2f} s")
    print(f"  grades: {result.scores['grade'].value_counts().to_dict()}")
    print(f"peak memory so far: {peak_mb():,.0f} MB")

    start = END - dt.timedelta(weeks=weeks) + dt.timedelta(days=1)
    t0 = time.perf_counter()
    summary = backfill(wh, start, END, "W", spec)
    t_back = time.perf_counter() - t0
    print(f"weekly backfill, {len(summary)} dates                        {t_back:7.2f} s  "
          f"({t_back / len(summary):.2f} s/date; {t_back / 600:.0%} of the 10 min target)")
    print(f"peak memory (max RSS, DuckDB included): {peak_mb():,.0f} MB")
    print(f"machine load average (1, 5, 15 min) at the end: {os.getloadavg()}; at the start: {LOAD_START}")


if __name__ == "__main__":
    main()
