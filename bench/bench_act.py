"""Benchmark: ``retain act`` (every shipped rule, then the CTAs written to SQLite) for 100k accounts on DuckDB.

    /work/main/.venv/bin/python bench/bench_act.py [--small] [--accounts N] [--fresh]

Prints: data generation time; the baseline of the same run (one grouped scan of every input the rules read:
usage, activities, surveys, subscriptions, accounts, conversations, leads, opportunities, two dates of stored
health, the stored propensity, call events and opportunity scores); the rules evaluated in the engine (every
shipped rule runs: none is skipped for a missing input), with its ratio to the baseline and to the 30 s target; a
first ``act`` into a fresh SQLite application database (creates every CTA with its playbook tasks and audit events)
and a second one on the same day (idempotent: changes nothing), each with the same ratios; and the peak memory (max
RSS of this process, DuckDB included). A data file made by an older version of this script lacks the call, lead and
deal inputs: pass ``--fresh``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import tempfile
import time
from pathlib import Path

from retain.action import act, evaluate, load_rules
from retain.state.db import make_engine, session_factory, upgrade
from retain.warehouse import Warehouse

DAY = dt.date(2025, 12, 31)
TARGET_SECONDS = 30.0
INPUTS = {"usage": "account_id", "activities": "account_id", "survey_responses": "account_id",  # table: grouped by
          "subscriptions": "account_id", "accounts": "account_id", "conversations": "account_id",
          "leads": "lead_id", "opportunities": "account_id", "result_health_scores": "account_id",
          "result_propensity": "account_id", "result_call_events": "conversation_id",
          "result_opportunity_scores": "account_id"}


def generate(wh: Warehouse, n: int) -> None:
    """Synthetic tables and stored results straight in DuckDB SQL (seeded hashes, no Python loops)."""
    start = DAY - dt.timedelta(days=59)
    members = max(n // 500, 4)
    sql = f"""
    CREATE OR REPLACE TEMP TABLE ids AS
      SELECT i, 'A' || lpad(i::VARCHAR, 6, '0') AS account_id,
             hash(i, 'seed') % 1000 / 1000.0 AS r1, hash(i, 'r2') % 1000 / 1000.0 AS r2 FROM range({n}) t(i);
    INSERT INTO team_members (member_id, name, role, manager_id)
      SELECT 'tm' || k, 'Member ' || k, CASE WHEN k % 10 = 0 THEN 'manager' WHEN k % 2 = 0 THEN 'csm' ELSE 'rep' END,
             CASE WHEN k % 10 = 0 THEN NULL ELSE 'tm' || (k - k % 10) END
      FROM range({members}) t(k);
    INSERT INTO accounts (account_id, name, created_at, segment, owner_id, csm_id)
      SELECT account_id, 'Account ' || i, TIMESTAMPTZ '2022-01-01 00:00:00+00' + (i % 700) * INTERVAL 1 DAY,
             CASE WHEN r1 < 0.6 THEN 'smb' WHEN r1 < 0.9 THEN 'mid_market' ELSE 'enterprise' END,
             CASE WHEN i % 50 = 0 THEN NULL ELSE 'tm' || (1 + i % ({members} - 1)) END,
             CASE WHEN i % 3 = 0 THEN NULL ELSE 'tm' || (2 * (i % ({members} // 2))) END
      FROM ids;
    INSERT INTO subscriptions (subscription_id, account_id, product_id, started_on, mrr, quantity, term_end_on)
      SELECT 'S' || i, account_id, 'core', DATE '2023-01-01' + (i % 500)::INT, 100 + (i % 50) * 20, 5,
             DATE '{DAY}' + (i % 730)::INT FROM ids;
    INSERT INTO usage (account_id, usage_on, feature, active_users, events)
      SELECT account_id, d::DATE, 'all', 3,
             (hash(i, d) % 20 * CASE WHEN r2 < 0.03 AND d > DATE '{DAY}' - 30 THEN 0.3 ELSE 1 END)::DOUBLE
      FROM ids, generate_series(DATE '{start}', DATE '{DAY}', INTERVAL 1 DAY) g(d);
    INSERT INTO activities (activity_id, account_id, occurred_at, activity_type)
      SELECT 'V' || i || '_' || k, account_id,
             TIMESTAMPTZ '{DAY} 00:00:00+00'
               - (hash(i, k, 'a') % CASE WHEN r2 > 0.97 THEN 200 ELSE 40 END) * INTERVAL 1 DAY,
             ['call', 'meeting', 'qbr', 'email'][1 + (hash(i, k, 't') % 4)::INT]
      FROM ids, range(3) r(k);
    INSERT INTO survey_responses (response_id, account_id, responded_at, survey_type, score)
      SELECT 'N' || i, account_id, TIMESTAMPTZ '{DAY} 00:00:00+00' - (hash(i, 's') % 90) * INTERVAL 1 DAY,
             'nps', (hash(i, 'n') % 11)::INT FROM ids WHERE hash(i, 'answered') % 100 < 6;
    INSERT INTO conversations (conversation_id, started_at, account_id, call_type)
      SELECT 'K' || i, TIMESTAMPTZ '{DAY} 10:00:00+00' - (hash(i, 'k') % 60) * INTERVAL 1 DAY, account_id, 'check_in'
      FROM ids WHERE hash(i, 'called') % 10 = 0;
    INSERT INTO leads (lead_id, created_at, source, status, company, owner_id)
      SELECT 'L' || i, TIMESTAMPTZ '2025-06-01 00:00:00+00', 'inbound', 'working', 'Lead ' || i,
             'tm' || (1 + i % ({members} - 1)) FROM range({n // 5}) t(i);
    INSERT INTO conversations (conversation_id, started_at, lead_id, call_type)
      SELECT 'KL' || i, TIMESTAMPTZ '{DAY} 10:00:00+00' - (hash(i, 'kl') % 120) * INTERVAL 1 DAY, 'L' || i,
             'discovery' FROM range({n // 5}) t(i);
    INSERT INTO activities (activity_id, lead_id, occurred_at, activity_type)
      SELECT 'VL' || i, 'L' || i, TIMESTAMPTZ '{DAY} 00:00:00+00' - (hash(i, 'vl') % 60) * INTERVAL 1 DAY, 'email'
      FROM range({n // 5}) t(i) WHERE i % 3 = 0;
    INSERT INTO opportunities (opportunity_id, created_at, opportunity_type, stage, account_id, owner_id, amount)
      SELECT 'O' || i, TIMESTAMPTZ '2025-09-01 00:00:00+00', 'add_on', 'proposal', account_id,
             'tm' || (1 + i % ({members} - 1)), 5000 + (i % 100) * 100 FROM ids WHERE hash(i, 'deal') % 5 = 0;
    """
    for statement in sql.split(";"):
        if statement.strip():
            wh.con.raw_sql(statement)
    grade = "CASE WHEN t < 40 THEN 'red' WHEN t < 70 THEN 'yellow' ELSE 'green' END"
    for day, shift in ((DAY - dt.timedelta(days=30), 8), (DAY, 0)):
        scores = wh.con.sql(f"""
            SELECT account_id, 'standard' AS scorecard, t AS total, {grade} AS grade,
                   CASE WHEN hash(i, 'c') % 50 = 0 THEN 'champion_left' END AS critical_factor
            FROM (SELECT i, account_id, least(100, 30 + 70 * sqrt(r1) + {shift} * r2)::DOUBLE AS t FROM ids)""")
        wh.store_result("health_scores", scores, day)
    wh.store_result("propensity", wh.con.sql("""
        SELECT account_id, (pow(r2, 12) * 0.8)::DOUBLE AS churn_probability,
               (pow(r1, 8) * 0.7)::DOUBLE AS upsell_probability,
               CASE WHEN r1 < 0.03 THEN 'low' WHEN r1 < 0.6 THEN 'medium' ELSE 'high' END AS adoption_tier,
               'plus' AS next_product FROM ids"""), DAY)
    wh.store_result("call_events", wh.con.sql("""
        SELECT conversation_id,
               CASE WHEN hash(conversation_id) % 3 = 0 THEN 'callback_requested' ELSE 'pricing_discussed' END AS event,
               '' AS detail, 3 AS seq, 'customer' AS role, 60.0 AS hit_seconds, 'call me back' AS quote,
               started_at + INTERVAL 1 MINUTE AS occurred_at, NULL::TIMESTAMPTZ AS due_at,
               NULL::VARCHAR AS due_expression FROM conversations"""), DAY)
    wh.store_result("opportunity_scores", wh.con.sql("""
        SELECT opportunity_id, account_id, owner_id, amount, p_win, 0.4 AS stage_benchmark,
               p_win < 0.3 AS below_benchmark, 'stalled in proposal' AS reasons
        FROM (SELECT *, (hash(opportunity_id) % 100 / 100.0)::DOUBLE AS p_win FROM opportunities)"""), DAY)


def baseline(wh: Warehouse) -> float:
    """One grouped scan of every input the rules read."""
    t = time.perf_counter()
    for name, key in INPUTS.items():
        wh.con.raw_sql(f'SELECT {key}, count(*) FROM "{name}" GROUP BY 1').fetchall()
    return time.perf_counter() - t


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true", help="10k accounts (a quick check)")
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--db", default="/tmp/bench_act.duckdb")
    ap.add_argument("--fresh", action="store_true", help="regenerate the data even if the file exists")
    args = ap.parse_args()
    n = 10_000 if args.small else args.accounts
    db = Path(args.db.replace(".duckdb", f"_{n}.duckdb"))
    if args.fresh and db.exists():
        db.unlink()
    fresh = not db.exists()
    wh = Warehouse.open(db)
    if fresh:
        t = time.perf_counter()
        generate(wh, n)
        print(f"generated {n:,} accounts in {time.perf_counter() - t:.1f} s ({db})")
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    config = load_rules()
    base = baseline(wh)
    print(f"baseline: one grouped scan of each input ({len(INPUTS)} tables)   {base:7.2f} s")
    t = time.perf_counter()
    ev = evaluate(wh, DAY, config)
    t_eval = time.perf_counter() - t
    label = f"rules evaluated in the engine ({len(ev.fired):,} fired)"
    print(f"{label:<44} {t_eval:7.2f} s (x{t_eval / base:.1f} baseline; {t_eval / TARGET_SECONDS:.0%} of the "
          f"{TARGET_SECONDS:.0f} s target): {len(config.rules.enabled) - len(ev.skipped)} of "
          f"{len(config.rules.enabled)} rules ran")
    for rule, why in sorted(ev.skipped.items()):
        print(f"  skipped {rule}: {why}")
    for rule, count in ev.fired["rule"].value_counts().sort_index().items():
        print(f"  {rule:<28} {count:>8,} fired")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/state.sqlite")
        upgrade(engine)
        with session_factory(engine)() as session:
            for label in ("first act (creates every CTA)", "second act, same day (idempotent)"):
                t = time.perf_counter()
                report = act(wh, session, DAY, config)
                took = time.perf_counter() - t
                print(f"{label:<44} {took:7.2f} s (x{took / base:.1f} baseline; {took / TARGET_SECONDS:.0%} of the "
                      f"{TARGET_SECONDS:.0f} s target): created {report.total('created'):,}, changed "
                      f"{report.changed:,}, owners {len(report.per_owner):,}")
        engine.dispose()
    print(f"peak memory {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
