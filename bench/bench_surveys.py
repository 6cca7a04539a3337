"""Benchmark of the survey programmes: deciding today's invitations for 1,000,000 contacts, and the survey page.

1. **Deciding**: synthesises a DuckDB warehouse in SQL (200,000 accounts, 1,000,000 contacts, the last weeks'
   QBRs, onboarding milestones, resolved tickets and renewals, a year of imported answers) and an application
   database (SQLite) holding 90 days of earlier invitations and opt-outs, then times
   :func:`retain.surveys.plan.plan_today` with the shipped programmes (one Ibis expression executed by DuckDB on
   ``--threads`` threads, plus the reads of the application database). Target: <= 60 s on 2 cores.
2. **Survey page**: starts ``retain serve`` on 127.0.0.1 with 20,000 invitations and drives ``GET /s/<token>``
   (each a different signed link) with ``wrk`` (one thread): 50 clients, each opening a page every second on
   average (exponential think time, as ``bench_web.py`` models people), then 50 clients without pause
   (saturation, for the record). Target: p95 <= 30 ms at 50 clients.

    /work/main/.venv/bin/python bench/bench_surveys.py [--contacts N] [--threads 2] [--duration SECONDS]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).parent))
from _serve import SECRET, serve  # noqa: E402  (the links are signed with the server's key)
from bench_web import run_wrk  # noqa: E402

from retain.state.db import make_engine, session_factory, upgrade  # noqa: E402
from retain.state.surveys import SurveyInvitation, SurveyOptOut  # noqa: E402
from retain.surveys.links import sign  # noqa: E402
from retain.surveys.plan import load_history, plan_expr  # noqa: E402
from retain.surveys.spec import load_programmes  # noqa: E402
from retain.warehouse import Warehouse  # noqa: E402

DAY = dt.date(2026, 10, 31)


def synthesise_warehouse(wh: Warehouse, contacts: int) -> None:
    """Accounts (5 contacts each on average), contacts with roles and languages, and the recent touchpoints."""
    accounts = max(contacts // 5, 1)
    day = f"DATE '{DAY.isoformat()}'"
    sql = f"""
    INSERT INTO accounts (account_id, name, created_at, segment, owner_id, churned_at)
      SELECT 'acc_' || i, 'Account ' || i, TIMESTAMPTZ '2022-01-01' + to_days(CAST(i % 900 AS INTEGER)),
             ['smb', 'mid_market', 'enterprise'][1 + i % 3], 'r' || (i % 400),
             CASE WHEN i % 50 = 0 THEN TIMESTAMPTZ '2026-06-01' END
      FROM range({accounts}) t(i);
    INSERT INTO contacts (contact_id, account_id, created_at, email, role, language)
      SELECT 'con_' || i, 'acc_' || (i % {accounts}), TIMESTAMPTZ '2023-01-01' + to_days(CAST(i % 1000 AS INTEGER)),
             'c' || i || '@example.com',
             ['champion', 'decision_maker', 'user', 'user', 'technical'][1 + (i // {accounts}) % 5],
             CASE WHEN i % 10 < 3 THEN 'zh' ELSE 'en' END
      FROM range({contacts}) t(i);
    INSERT INTO activities (activity_id, occurred_at, activity_type, account_id, outcome, subject)
      SELECT 'qbr_' || i, {day} - to_days(CAST(i % 60 AS INTEGER)) + INTERVAL 14 HOUR, 'qbr', 'acc_' || i,
             'completed', 'quarterly business review'
      FROM range(0, {accounts}, 3) t(i);
    INSERT INTO activities (activity_id, occurred_at, activity_type, account_id, outcome, subject)
      SELECT 'gl_' || i, {day} - to_days(CAST(i % 200 AS INTEGER)) + INTERVAL 11 HOUR, 'onboarding_milestone',
             'acc_' || i, 'completed', 'go_live'
      FROM range(1, {accounts}, 4) t(i);
    INSERT INTO support_tickets (ticket_id, account_id, contact_id, opened_at, resolved_at, priority, escalated)
      SELECT 't_' || i, 'acc_' || (i % {accounts}), 'con_' || ((i * 7) % {contacts}),
             {day} - to_days(CAST(3 + i % 30 AS INTEGER)),
             CASE WHEN i % 10 = 0 THEN NULL ELSE {day} - to_days(CAST(i % 30 AS INTEGER)) END,
             CASE WHEN i % 97 = 0 THEN 'urgent' ELSE 'normal' END, i % 89 = 0
      FROM range({contacts // 5}) t(i);
    INSERT INTO opportunities (opportunity_id, created_at, opportunity_type, stage, account_id, closed_at, is_won)
      SELECT 'ren_' || i, {day} - to_days(100), 'renewal', 'closed_won', 'acc_' || i,
             {day} - to_days(CAST(i % 90 AS INTEGER)), true
      FROM range(2, {accounts}, 6) t(i);
    INSERT INTO survey_responses (response_id, account_id, contact_id, responded_at, survey_type, score, touchpoint)
      SELECT 'imp_' || i, 'acc_' || ((i * 13) % {accounts}), 'con_' || ((i * 13) % {contacts}),
             {day} - to_days(CAST(i % 365 AS INTEGER)), 'nps', CAST(i % 11 AS INTEGER), 'relationship'
      FROM range({contacts // 10}) t(i);
    """
    for statement in (s.strip() for s in sql.split(";")):
        if statement:
            wh.con.raw_sql(statement)


def synthesise_app_db(url: str, contacts: int, past: int) -> None:
    """Invitations of the last 90 days (``past`` of them) and 1 % of contacts opted out."""
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as db:
        con = db.connection()
        rows = []
        for i in range(past):
            c = (i * 31) % contacts
            sent = DAY - dt.timedelta(days=1 + i % 90)
            rows.append({"programme": "relationship_nps", "survey_type": "nps", "touchpoint": "relationship",
                         "touchpoint_ref": f"periodic:{sent:%Y-%m}", "account_id": f"acc_{c % max(contacts // 5, 1)}",
                         "contact_id": f"con_{c}", "email": f"c{c}@example.com", "language": "en",
                         "sent_on": sent, "expires_at": dt.datetime.combine(sent + dt.timedelta(days=15), dt.time()),
                         "status": "sent", "dedupe_key": f"relationship_nps|con_{c}|{i}",
                         "created_at": dt.datetime.combine(sent, dt.time())})
            if len(rows) == 50_000:
                con.execute(insert(SurveyInvitation.__table__), rows)
                rows = []
        if rows:
            con.execute(insert(SurveyInvitation.__table__), rows)
        con.execute(insert(SurveyOptOut.__table__), [
            {"contact_id": f"con_{i}", "source": "link", "opted_out_at": dt.datetime(2026, 1, 1)}
            for i in range(0, contacts, 100)])
        db.commit()
    engine.dispose()


def bench_decide(folder: Path, contacts: int, threads: int) -> dict:
    wh = Warehouse.open(folder / "wh.duckdb")
    wh.con.raw_sql(f"SET threads = {threads}")
    started = time.perf_counter()
    synthesise_warehouse(wh, contacts)
    url = f"sqlite:///{folder / 'decide.sqlite'}"
    synthesise_app_db(url, contacts, past=contacts // 5)
    print(f"synthesised {contacts:,} contacts and {contacts // 5:,} past invitations in "
          f"{time.perf_counter() - started:.1f}s")
    spec = load_programmes()
    engine = make_engine(url)
    with session_factory(engine)() as db:
        times = []
        for _ in range(2):
            start = time.perf_counter()
            history = load_history(db, spec, DAY)
            loaded = time.perf_counter() - start
            frame = wh.execute(plan_expr(wh, spec, DAY, history))
            times.append((time.perf_counter() - start, loaded))
    engine.dispose()
    invite = int((frame["decision"] == "invite").sum())
    held = frame.loc[frame["decision"] == "held", "reason"].value_counts().to_dict()
    return {"seconds": min(t for t, _ in times), "history_seconds": min(h for _, h in times),
            "candidates": len(frame), "invite": invite, "held": held}


def bench_page(folder: Path, seconds: int) -> list[dict]:
    url = f"sqlite:///{folder / 'page.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    expires = dt.datetime.combine(dt.date.today() + dt.timedelta(days=14), dt.time())
    with session_factory(engine)() as db:
        db.connection().execute(insert(SurveyInvitation.__table__), [
            {"programme": "qbr_csat", "survey_type": ["nps", "csat", "ces"][i % 3], "touchpoint": "qbr",
             "account_id": f"acc_{i}", "contact_id": f"con_{i}", "email": f"c{i}@example.com",
             "language": "zh" if i % 3 == 0 else "en", "sent_on": dt.date.today(), "expires_at": expires,
             "status": "sent", "dedupe_key": f"k{i}", "created_at": dt.datetime.now()} for i in range(1, 20_001)])
        db.commit()
    engine.dispose()
    paths = [f"/s/{sign(SECRET, i, expires)}" for i in range(1, 20_001)]
    results = []
    with serve(url, folder, workers=1) as server:
        base = server.base
        assert httpx.get(base + paths[0]).status_code == 200
        scenarios = (("framework floor: /healthz, 50 clients (1 s think)", ["/healthz"], 1000),
                     ("survey page, 50 clients (1 s think time)", paths, 1000),
                     ("survey page, 50 clients, no pause", paths, 0))
        for name, targets, think in scenarios:
            run_wrk(base, targets[:200], None, 50, 1, folder)  # warm-up
            r = run_wrk(base, targets, None, 50, seconds * (3 if think else 1), folder, think)
            results.append({"scenario": name, **r})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (2 cores: 2)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per page scenario (x3 with think time)")
    parser.add_argument("--skip-page", action="store_true")
    parser.add_argument("--skip-decide", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="retain-bench-surveys-"))
    try:
        d = None if args.skip_decide else bench_decide(folder, args.contacts, args.threads)
        if d:
            print(f"\ndeciding today's invitations for {args.contacts:,} contacts: {d['seconds']:.1f}s "
                  f"(app DB history {d['history_seconds']:.1f}s; target 60s, ratio {d['seconds'] / 60:.2f}); "
                  f"{d['candidates']:,} candidates, {d['invite']:,} invited; held: "
                  + ", ".join(f"{k} {v:,}" for k, v in sorted(d["held"].items())))
        if not args.skip_page:
            if shutil.which("wrk") is None:
                sys.exit("wrk is not installed: apt-get install wrk")
            print(f"\n{'scenario':52} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'non-2xx':>7}")
            for r in bench_page(folder, args.duration):
                print(f"{r['scenario']:52} {r['rps']:>7.0f} {r['p50'] / 1000:>7.1f} {r['p95'] / 1000:>7.1f} "
                      f"{r['p99'] / 1000:>7.1f} {r['non2xx']:>7}")
            print("target: p95 <= 30 ms at 50 clients (with think time, as bench_web.py models people)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
