"""Benchmark of the dashboard and the API on 100k accounts (``--small``: 10k).

Synthesises the snapshot tables of the application database directly (SQLite file), starts ``retain serve`` in a
subprocess on 127.0.0.1, and generates load from a second process on loopback with ``wrk`` (Debian package; one
thread, so the server keeps the other core). Prints throughput and p50/p95/p99 per scenario, the framework floor
(``/healthz``) as the baseline of the same run, and each p95 as a ratio of its target.

    /work/main/.venv/bin/python bench/bench_web.py [--small] [--accounts N] [--duration SECONDS]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from _serve import serve
from sqlalchemy import insert

from retain.state import users
from retain.state.db import make_engine, session_factory, upgrade
from retain.state.models import AccountDetail, AccountSnapshot, ScoreHistory, TeamMember
from retain.state.names import rebuild_name_index

AS_OF = dt.date(2026, 10, 31)
SEGMENTS = ("smb", "mid_market", "enterprise")
REGIONS = ("na", "emea", "apac", "latam")
GRADES = ("green", "yellow", "red")
TIERS = ("high", "medium", "low")
LUA = r"""
local think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
if think > 0 then  -- a user reading the page: exponential think time before each request
  math.randomseed(os.time())
  delay = function() return math.floor(-think * math.log(1 - math.random())) end
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "p50": %d, "p95": %d, "p99": %d, "non2xx": %d, '
    .. '"errors": %d}\n', summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status, summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def synthesise(url: str, n: int, seed: int = 7) -> None:
    """``n`` account snapshots with realistic detail JSON, 2 history points each, 20 managers x 10 reps."""
    rng = random.Random(seed)
    engine = make_engine(url)
    upgrade(engine)
    team = [{"member_id": f"m{m:03d}", "name": f"Manager {m}", "role": "manager", "manager_id": None}
            for m in range(20)]
    team += [{"member_id": f"r{r:03d}", "name": f"Rep {r} 代表", "role": "csm", "manager_id": f"m{r // 10:03d}"}
             for r in range(200)]
    with engine.begin() as con:
        con.execute(insert(TeamMember), team)
        for start in range(0, n, 10_000):
            rows, hist, extras = [], [], []
            for i in range(start, min(n, start + 10_000)):
                health = rng.uniform(10, 95)
                rep = i % 200
                detail = {
                    "subscriptions": [{"product": f"Product {k}", "mrr": rng.uniform(50, 5000), "quantity": 10,
                                       "started_on": "2024-01-01", "ended_on": None, "term_end_on": "2027-01-01",
                                       "running": True} for k in range(rng.randint(1, 3))],
                    "open_tickets": [{"ticket_id": f"t{i}-{k}", "opened_at": "2026-10-01T10:00:00+00:00",
                                      "priority": "high", "category": "bug", "subject": "Export fails"}
                                     for k in range(rng.randint(0, 2))],
                    "surveys": [{"responded_at": "2026-09-01T10:00:00+00:00", "survey_type": "nps", "score": 8,
                                 "touchpoint": "qbr", "comment": "很好"}],
                    "timeline": [{"at": f"2026-10-{d:02d}T09:00:00+00:00", "kind": "call", "title": "Check-in",
                                  "detail": "connected"} for d in range(1, 21)],
                }
                rows.append({
                    "account_id": f"acc_{i:07d}", "name": f"Account {i} 公司", "owner_id": f"r{rep:03d}",
                    "owner_name": f"Rep {rep} 代表", "csm_id": None, "segment": SEGMENTS[i % 3],
                    "region": REGIONS[i % 4], "industry": "software", "acquisition_channel": "inbound",
                    "status": "active", "arr": round(rng.lognormvariate(9, 1), 2), "currency": "USD",
                    "health_total": health, "health_grade": GRADES[0 if health >= 70 else 1 if health >= 40 else 2],
                    "health_change": rng.uniform(-10, 10), "churn_probability": (churn := rng.random()),
                    "at_risk": churn >= 0.5,
                    "clv": rng.uniform(1_000, 500_000), "renewal_on": AS_OF + dt.timedelta(days=rng.randint(1, 365)),
                    "adoption_tier": TIERS[i % 3], "products_held": len(detail["subscriptions"]),
                    "open_tickets": len(detail["open_tickets"]),
                    "as_of": AS_OF,
                })
                extras.append({"account_id": f"acc_{i:07d}", "detail": detail,
                               "reasons": ["low_usage"] if health < 40 else None,
                               "components": [{"component": c, "score": rng.uniform(0, 100), "weight": w}
                                              for c, w in (("usage", 35), ("support", 20), ("relationship", 25),
                                                           ("financial", 20))]})
                hist += [{"account_id": f"acc_{i:07d}", "as_of": AS_OF - dt.timedelta(days=30),
                          "health_total": health - 3, "health_grade": None, "churn_probability": None},
                         {"account_id": f"acc_{i:07d}", "as_of": AS_OF, "health_total": health,
                          "health_grade": None, "churn_probability": None}]
            con.execute(insert(AccountSnapshot), rows)
            con.execute(insert(AccountDetail), extras)
            con.execute(insert(ScoreHistory), hist)
        rebuild_name_index(con)  # as `retain publish` does after writing the snapshots
    engine.dispose()


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server and its worker processes."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def sign_in(base: str, user: str, password: str) -> str:
    with httpx.Client(base_url=base) as client:
        form = client.get("/login").text
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"username": user, "password": password, "csrf_token": token, "next": "/"})
        return client.cookies["retain_session"]


def run_wrk(base: str, paths: list[str], header: str | None, connections: int, seconds: int, folder: Path,
            think_ms: int = 0) -> dict:
    path_file = folder / f"paths-{len(paths)}-{random.random():.6f}.txt"
    path_file.write_text("\n".join(paths) + "\n")
    script = folder / "bench.lua"
    script.write_text(LUA)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script)]
    if header:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, base], capture_output=True, text=True, check=True,
                         env={**os.environ, "BENCH_PATHS": str(path_file), "BENCH_THINK_MS": str(think_ms)})
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("{"))
    result = json.loads(line)
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10k accounts, short runs")
    parser.add_argument("--accounts", type=int, default=None)
    parser.add_argument("--duration", type=int, default=None, help="seconds per scenario")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server processes (retain serve --workers; default: one per core)")
    args = parser.parse_args()
    n = args.accounts or (10_000 if args.small else 100_000)
    seconds = args.duration or (4 if args.small else 10)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    folder = Path(tempfile.mkdtemp(prefix="retain-bench-web-"))
    url = f"sqlite:///{folder / 'app.sqlite'}"
    started = time.perf_counter()
    synthesise(url, n)
    engine = make_engine(url)
    with session_factory(engine)() as db:
        admin = users.create_user(db, "admin", "admin-bench-1", "admin")
        member = users.create_user(db, "rep", "rep-bench-1", "member", member_id="r000")
        users.create_user(db, "mgr", "mgr-bench-1", "manager", member_id="m000")
        admin_key, _ = users.create_key(db, admin, "bench", "read")
        member_key, _ = users.create_key(db, member, "bench", "read")
    engine.dispose()
    print(f"synthesised {n:,} accounts in {time.perf_counter() - started:.1f}s ({folder})")

    try:
        with serve(url, folder, workers=args.workers) as server:
            base = server.base
            admin_cookie = "Cookie: retain_session=" + sign_in(base, "admin", "admin-bench-1")
            mgr_cookie = "Cookie: retain_session=" + sign_in(base, "mgr", "mgr-bench-1")
            rng = random.Random(1)
            ids = [f"acc_{rng.randrange(n):07d}" for _ in range(2000)]
            own = [f"acc_{i:07d}" for i in range(0, min(n, 200 * 500), 200)]
            sorts = ("arr", "health_total", "churn_probability", "clv", "renewal_on", "name")
            lists = [f"/accounts?sort={rng.choice(sorts)}&order={rng.choice(('asc', 'desc'))}&page={rng.randint(1, 20)}"
                     + rng.choice(("", "&segment=smb", "&grade=red", "&at_risk=true", "&q=Account+12"))
                     for _ in range(500)]
            lists_360 = [f"/accounts/{i}" for i in ids]
            think = 1000  # ms: 50 people each opening a page every second on average (people are slower than that)
            scenarios = [  # name, paths, header, connections, think time (ms), target p95 (ms)
                ("baseline GET /healthz", [f"/healthz?{i}" for i in range(10)], None, 50, 0, None),
                ("accounts list (admin, 100% of accounts)", lists, admin_cookie, 1, 0, 50.0),
                ("accounts list (admin, 100% of accounts)", lists, admin_cookie, 50, think, 50.0),
                ("accounts list (admin, 100% of accounts)", lists, admin_cookie, 10, 0, 50.0),
                ("accounts list (manager, 10 reps)", lists, mgr_cookie, 1, 0, 50.0),
                ("accounts list (manager, 10 reps)", lists, mgr_cookie, 50, think, 50.0),
                ("accounts list (manager, 10 reps)", lists, mgr_cookie, 10, 0, 50.0),
                ("account 360 page (admin)", lists_360, admin_cookie, 1, 0, 50.0),
                ("account 360 page (admin)", lists_360, admin_cookie, 50, think, 50.0),
                ("account 360 page (admin)", lists_360, admin_cookie, 10, 0, 50.0),
                ("API account read (admin key)", [f"/api/v1/accounts/{i}" for i in ids],
                 f"X-API-Key: {admin_key}", 50, 0, 20.0),
                ("API account read (member key, own book)", [f"/api/v1/accounts/{i}" for i in own],
                 f"X-API-Key: {member_key}", 50, 0, 20.0),
            ]
            header = f"{'scenario':44} {'clients':>7} {'think':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} " \
                     f"{'p99 ms':>7} {'target':>6} {'p95/target':>10} {'non-2xx':>7} {'cpu ms/req':>10}"
            print(header)
            print("-" * len(header))
            for name, paths, hdr, conc, think_ms, target in scenarios:
                run_wrk(base, paths[:50], hdr, conc, 1, folder)  # warm-up
                cpu_before = server_cpu(server.pid)
                r = run_wrk(base, paths, hdr, conc, seconds * (3 if think_ms else 1), folder, think_ms)
                cpu_ms = 1000 * (server_cpu(server.pid) - cpu_before) / max(r["requests"], 1)
                p50, p95, p99 = (r[k] / 1000 for k in ("p50", "p95", "p99"))
                ratio = f"{p95 / target:.2f}" if target else "baseline"
                print(f"{name:44} {conc:>7} {(f'{think_ms / 1000:g}s' if think_ms else '-'):>6} {r['rps']:>7.0f} "
                      f"{p50:>7.1f} {p95:>7.1f} {p99:>7.1f} {(f'{target:.0f}' if target else '-'):>6} {ratio:>10} "
                      f"{r['non2xx'] + r['errors']:>7} {cpu_ms:>10.2f}")
            print("\nthink: each client waits a random (exponential) time of that mean between requests, as a person "
                  "reading the page does;\n'-': clients send the next request as soon as the last is answered "
                  "(closed loop: latency is then set by throughput).")
            print(f"\nload average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work "
                  "on the machine inflates latency; server CPU per request does not depend on it)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\ncommand: {sys.executable} bench/bench_web.py" + (" --small" if args.small else "")
          + (f" --workers {args.workers}" if args.workers != (os.cpu_count() or 1) else "")
          + f"   (accounts={n:,}, {seconds}s per scenario, wrk -t1, {args.workers} uvicorn worker(s), SQLite, "
            f"{os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
