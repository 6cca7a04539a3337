"""Benchmark of the Today page (and Team actions, the CTA API) on 100k accounts and a million CTAs of history.

Synthesises the snapshot tables as ``bench_web.py`` does (100k accounts, 20 managers x 10 CSMs), then ``ctas`` and
``cta_tasks`` directly (SQLite file): per CSM 5,000 CTAs of which ~25 open and ~5 snoozed, the rest closed history,
two tasks per live CTA and one per tenth closed one; a tenth of the overdue ones escalated to the manager. Starts
``retain serve`` on 127.0.0.1 and loads it with ``wrk`` (one thread) from a second process. Prints p50/p95/p99 per
scenario beside the baselines of the same run: the framework floor (``/healthz``) and the existing accounts page.

    /work/main/.venv/bin/python bench/bench_today.py [--small] [--ctas N] [--duration SECONDS]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _serve import serve
from bench_web import AS_OF, run_wrk, server_cpu, sign_in, synthesise
from sqlalchemy import insert, text

from retain.state import users
from retain.state.actions import Cta, CtaTask
from retain.state.db import make_engine, session_factory

REPS, PER_MANAGER = 200, 10
PRIORITIES = ("critical", "high", "medium", "low")
TYPES = ("risk", "opportunity", "lifecycle", "activity")
CLOSED = ("done", "dismissed", "auto_closed")


def synthesise_ctas(url: str, accounts: int, total: int, seed: int = 11) -> dict[str, int]:
    """``total`` CTAs spread over the CSMs' accounts (account ``i`` belongs to ``r{i % 200}``); counts by status."""
    rng = random.Random(seed)
    engine = make_engine(url)
    counts: dict[str, int] = {}
    next_id, task_id = 1, 1
    with engine.begin() as con:
        for start in range(0, total, 50_000):
            ctas, tasks = [], []
            for n in range(start, min(total, start + 50_000)):
                rep = n % REPS
                account = rng.randrange(rep, accounts, REPS)
                roll = rng.random()
                status = "open" if roll < 0.005 else "snoozed" if roll < 0.006 else rng.choice(CLOSED)
                live = status in ("open", "snoozed")
                due = AS_OF + dt.timedelta(days=rng.randint(-20, 14) if live else -rng.randint(15, 700))
                escalated = f"m{rep // PER_MANAGER:03d}" if live and due < AS_OF - dt.timedelta(7) and \
                    rng.random() < 0.3 else None
                reason = f"Reason {n % 12}"
                ctas.append({
                    "id": next_id, "account_id": f"acc_{account:07d}", "type": TYPES[n % 4], "reason": reason,
                    "detail": f"health fell 12 points to 38; ARR {rng.randint(1, 90)},000", "value": 12_000.0,
                    "priority": PRIORITIES[rng.randrange(4)], "owner_id": f"r{rep:03d}", "routed_by": "csm",
                    "due_on": due, "status": status,
                    "open_key": f"acc_{account:07d}|{TYPES[n % 4]}|{reason}|{next_id}" if live else None,
                    "snoozed_until": AS_OF + dt.timedelta(days=7) if status == "snoozed" else None,
                    "status_reason": None, "rule": f"rule_{n % 12}", "rule_version": 1,
                    "evidence": {"grade": "red", "total": 38.0, "arr": 12000.0, "as_of": AS_OF.isoformat()},
                    "playbook": "save", "auto_close": "signal_clears", "opened_on": due - dt.timedelta(days=5),
                    "last_fired_on": due - dt.timedelta(days=5), "closed_on": None if live else due,
                    "escalated_to": escalated, "escalated_on": AS_OF - dt.timedelta(days=1) if escalated else None,
                    "created_at": dt.datetime(2026, 1, 1), "updated_at": dt.datetime(2026, 1, 1)})
                for seq in range(2 if live else 1 if n % 10 == 0 else 0):
                    tasks.append({"id": task_id, "cta_id": next_id, "seq": seq + 1, "title": f"Step {seq + 1}",
                                  "role": "csm", "assignee_id": f"r{(rep + seq) % REPS:03d}", "due_on": due,
                                  "status": "open" if live else "done", "done_at": None, "done_by": None})
                    task_id += 1
                counts[status] = counts.get(status, 0) + 1
                next_id += 1
            con.execute(insert(Cta), ctas)
            if tasks:
                con.execute(insert(CtaTask), tasks)
        con.execute(text("ANALYZE"))
    engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10k accounts and 100k CTAs, short runs")
    parser.add_argument("--accounts", type=int, default=None)
    parser.add_argument("--ctas", type=int, default=None)
    parser.add_argument("--duration", type=int, default=None, help="seconds per scenario")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    n = args.accounts or (10_000 if args.small else 100_000)
    total = args.ctas or (100_000 if args.small else 1_000_000)
    seconds = args.duration or (4 if args.small else 10)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    folder = Path(tempfile.mkdtemp(prefix="retain-bench-today-"))
    url = f"sqlite:///{folder / 'app.sqlite'}"
    started = time.perf_counter()
    synthesise(url, n)
    counts = synthesise_ctas(url, n, total)
    engine = make_engine(url)
    with session_factory(engine)() as db:
        member = users.create_user(db, "rep", "rep-bench-1", "member", member_id="r000")
        users.create_user(db, "mgr", "mgr-bench-1", "manager", member_id="m000")
        member_key, _ = users.create_key(db, member, "bench", "read")
    engine.dispose()
    print(f"synthesised {n:,} accounts and {total:,} CTAs ({counts}) in {time.perf_counter() - started:.1f}s")

    try:
        with serve(url, folder, workers=args.workers) as server:
            base = server.base
            rep = "Cookie: retain_session=" + sign_in(base, "rep", "rep-bench-1")
            mgr = "Cookie: retain_session=" + sign_in(base, "mgr", "mgr-bench-1")
            rng = random.Random(1)
            todays = ["/today", "/today?priority=high", "/today?due=overdue", "/today?status=snoozed",
                      "/today?type=risk&due=week"]
            lists = [f"/accounts?sort={rng.choice(('arr', 'health_total', 'renewal_on'))}&page={rng.randint(1, 5)}"
                     for _ in range(100)]
            scenarios = [  # name, paths, header, connections, target p95 (ms)
                ("baseline GET /healthz", ["/healthz"], None, 1, None),
                ("baseline accounts list (member)", lists, rep, 1, None),
                ("Today (member, 5,000 CTAs of history)", todays, rep, 1, 50.0),
                ("Today (member, 5,000 CTAs of history)", todays, rep, 10, 50.0),
                ("Today (manager: escalations)", todays, mgr, 1, 50.0),
                ("Team actions (manager, 10 CSMs)", ["/team/actions"], mgr, 1, None),
                ("API GET /v1/ctas (member key)", ["/api/v1/ctas", "/api/v1/ctas?priority=high"],
                 f"X-API-Key: {member_key}", 1, None),
            ]
            for name, paths, hdr, _, _ in scenarios:  # every page answers 200 before it is timed
                headers = dict([hdr.split(": ", 1)]) if hdr else {}
                for path in paths[:5]:
                    status = httpx.get(base + path, headers=headers, timeout=30).status_code
                    if status != 200:
                        sys.exit(f"{name}: {path} answered {status}")
            header = f"{'scenario':42} {'clients':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} " \
                     f"{'target':>6} {'p95/target':>10} {'non-2xx':>7} {'cpu ms/req':>10}"
            print(header)
            print("-" * len(header))
            for name, paths, hdr, conc, target in scenarios:
                run_wrk(base, paths, hdr, conc, 1, folder)  # warm-up
                cpu_before = server_cpu(server.pid)
                r = run_wrk(base, paths, hdr, conc, seconds, folder)
                cpu_ms = 1000 * (server_cpu(server.pid) - cpu_before) / max(r["requests"], 1)
                p50, p95, p99 = (r[k] / 1000 for k in ("p50", "p95", "p99"))
                ratio = f"{p95 / target:.2f}" if target else "baseline"
                print(f"{name:42} {conc:>7} {r['rps']:>7.0f} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f} "
                      f"{(f'{target:.0f}' if target else '-'):>6} {ratio:>10} {r['non2xx'] + r['errors']:>7} "
                      f"{cpu_ms:>10.2f}")
            print(f"\nload average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work "
                  "on the machine inflates latency; server CPU per request does not depend on it)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\ncommand: {sys.executable} bench/bench_today.py" + (" --small" if args.small else "")
          + f"   (accounts={n:,}, CTAs={total:,}, {seconds}s per scenario, wrk -t1, {args.workers} uvicorn "
            f"worker(s), SQLite, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
