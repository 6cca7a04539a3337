"""Benchmark of `retain run` (the main job) on the default demo company, beside a baseline revision.

    python bench/bench_main_job.py [--baseline REV] [--accounts N] [--sections]

For this checkout and for ``REV`` (default: 591f53f, the last revision before the issue-11 redesign), in a git
worktree: generate and ingest the demo company into a fresh warehouse, then time ``retain run`` on it in a child
process (wall and CPU seconds, peak RSS) -- the first run on new data, then a second run on the same data. Prints
both beside each other and their ratio (this / baseline). ``--sections`` also prints this checkout's time per
section of the first run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "591f53f"
BUILD = ("import sys; from pathlib import Path; from retain.demo import DemoSpec, build_demo; "
         "from retain.warehouse import Warehouse; root = Path(sys.argv[1]); spec = DemoSpec(**({{'accounts': {n}}} "
         "if {n} else {{}})); wh = Warehouse.open(root / 'demo.duckdb'); build_demo(wh, spec, out_dir=root / 'files');"
         " print(spec.end)")
RUN = "import sys; from retain.cli.main import run; sys.argv = ['retain', *sys.argv[1:]]; run()"
SECTIONS = ("import sys, time; from retain.jobs.main import SECTIONS, run_section; from retain.warehouse import "
            "Warehouse, as_of_day; wh = Warehouse.open(sys.argv[1], create=False); day = as_of_day(wh).day\n"
            "for s in SECTIONS:\n    c = time.process_time(); r = run_section(s, wh, day)\n"
            "    print(f'  {s.name:<11} {r.seconds:7.1f} s wall {time.process_time() - c:7.1f} s CPU'"
            " + ('  (skipped)' if r.skipped else ''))")


def child(src: Path, code: str, *args: str, cwd: Path) -> tuple[str, float, float, float]:
    """Run ``code`` with ``src`` first on the path; (stdout, wall s, CPU s, peak RSS MB) by GNU time."""
    env = {**os.environ, "PYTHONPATH": str(src), "RETAIN_DATABASE_URL": f"sqlite:///{cwd / 'app.sqlite'}"}
    stats = cwd / "time.txt"
    done = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(stats), sys.executable, "-c", code,
                           *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 8):  # 8: a section skipped, a complete answer for the demo's data
        raise SystemExit(f"child failed ({done.returncode}) with PYTHONPATH={src}:\n{done.stdout}\n{done.stderr}")
    wall, user, system, rss_kb = stats.read_text().split()[-4:]
    return done.stdout, float(wall), float(user) + float(system), float(rss_kb) / 1024


def measure(src: Path, accounts: int, work: Path, sections: bool) -> dict[str, tuple[float, float, float]]:
    work.mkdir(parents=True)
    out, *_ = child(src, BUILD.format(n=accounts), str(work), cwd=work)
    day = out.strip().splitlines()[-1]
    db = str(work / "demo.duckdb")
    figures = {}
    if sections:
        fresh = work / "sections.duckdb"
        fresh.write_bytes((work / "demo.duckdb").read_bytes())
        text, *_ = child(src, SECTIONS, str(fresh), cwd=work)
        print(text, end="")
    for label in ("first run", "second run"):
        _, wall, cpu, rss = child(src, RUN, "--db", db, "run", "--as-of", day, cwd=work)
        figures[label] = (wall, cpu, rss)
    return figures


def worktree(rev: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), rev], check=True,
                   capture_output=True)
    return where / "src"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default=BASELINE, help="the revision to compare with")
    parser.add_argument("--accounts", type=int, default=0, help="demo accounts (default: the demo's own)")
    parser.add_argument("--sections", action="store_true", help="print this checkout's time per section")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-main-job-") as tmp:
        base_src = worktree(args.baseline, Path(tmp) / "baseline")
        try:
            if args.sections:
                print("this checkout, per section (first run):")
            this = measure(ROOT / "src", args.accounts, Path(tmp) / "this", args.sections)
            base = measure(base_src, args.accounts, Path(tmp) / "base", False)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(Path(tmp) / "baseline")],
                           capture_output=True)
    size = f"{args.accounts:,} accounts" if args.accounts else "the default demo company"
    print(f"`retain run` on {size}: this checkout vs {args.baseline} (baseline)")
    print(f"  {'':<11} {'this wall':>10} {'base wall':>10} {'ratio':>6} {'this CPU':>10} {'base CPU':>10} "
          f"{'ratio':>6} {'this RSS':>9} {'base RSS':>9}")
    for label, (wall, cpu, rss) in this.items():
        bwall, bcpu, brss = base[label]
        print(f"  {label:<11} {wall:9.1f}s {bwall:9.1f}s {wall / bwall:6.2f} {cpu:9.1f}s {bcpu:9.1f}s "
              f"{cpu / bcpu:6.2f} {rss:7.0f}MB {brss:7.0f}MB")


if __name__ == "__main__":
    main()
