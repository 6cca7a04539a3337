"""Benchmark of `retain run` (the main job) on the default demo company, beside a baseline revision.

    python bench/bench_main_job.py [--baseline REV] [--accounts N] [--sections]

For this checkout and for ``REV`` (default: 591f53f, the last revision before the issue-11 redesign), in a git
worktree: generate and ingest the demo company into a fresh warehouse, then time ``retain run`` on it in a child
process (wall and CPU seconds, peak RSS) -- the first run on new data, then a second run on the same data. Prints
both beside each other and their ratio (this / baseline). ``--sections`` also times each section of a first run
on both, side by side, with the sums over the sections both have (the baseline ran six; issues 14-16 added four).
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
# One line per section: "name wall cpu". The baseline's job was one ``main_job`` per CLI module (no section API):
# each is timed with its output discarded, under the name of the section that does its work today.
SECTIONS = """import contextlib, io, sys, time
from retain.warehouse import Warehouse
wh = Warehouse.open(sys.argv[1], create=False)
try:
    from retain.jobs.main import SECTIONS, run_section
    from retain.warehouse import as_of_day
except ImportError:
    import importlib
    from retain.cli.job import SECTIONS as MODULES, latest_data_date
    OLD = {"ingest": "status", "metrics": "retention", "health": "health", "models": "prediction", "clv": "value",
           "calls": "calls"}
    day = latest_data_date(wh)
    for name in MODULES:
        job = getattr(importlib.import_module(name), "main_job", None)
        if job is not None:
            t, c = time.perf_counter(), time.process_time()
            with contextlib.redirect_stdout(io.StringIO()):
                job(wh, day)
            short = name.rsplit(".", 1)[1].removesuffix("_cmds")
            print(OLD.get(short, short), time.perf_counter() - t, time.process_time() - c)
else:
    day = as_of_day(wh).day
    for s in SECTIONS:
        c = time.process_time()
        r = run_section(s, wh, day)
        print(s.name, r.seconds, time.process_time() - c)
"""


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


def measure(src: Path, accounts: int, work: Path, sections: bool
            ) -> tuple[dict[str, tuple[float, float, float]], dict[str, tuple[float, float]]]:
    """(`retain run` first and second run: wall, CPU, RSS; per section of a first run on a copy: wall, CPU)."""
    work.mkdir(parents=True)
    out, *_ = child(src, BUILD.format(n=accounts), str(work), cwd=work)
    day = out.strip().splitlines()[-1]
    db = str(work / "demo.duckdb")
    per_section = {}
    if sections:
        fresh = work / "sections.duckdb"
        fresh.write_bytes((work / "demo.duckdb").read_bytes())
        text, *_ = child(src, SECTIONS, str(fresh), cwd=work)
        for line in text.strip().splitlines():
            name, wall, cpu = line.split()[-3:]
            per_section[name] = (float(wall), float(cpu))
    figures = {}
    for label in ("first run", "second run"):
        _, wall, cpu, rss = child(src, RUN, "--db", db, "run", "--as-of", day, cwd=work)
        figures[label] = (wall, cpu, rss)
    return figures, per_section


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
            this, this_sections = measure(ROOT / "src", args.accounts, Path(tmp) / "this", args.sections)
            base, base_sections = measure(base_src, args.accounts, Path(tmp) / "base", args.sections)
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
    if args.sections:
        show_sections(this_sections, base_sections, args.baseline)


def show_sections(this: dict[str, tuple[float, float]], base: dict[str, tuple[float, float]], rev: str) -> None:
    """Each section's first run beside the baseline's, and the sums over the sections both have."""
    print(f"per section, first run on a copy (wall s / CPU s): this checkout vs {rev}")
    for name, (wall, cpu) in this.items():
        bw, bc = base.get(name, (float("nan"), float("nan")))
        print(f"  {name:<11} {wall:7.1f} / {cpu:6.1f}   {bw:7.1f} / {bc:6.1f}" + ("" if name in base else
                                                                                   "   (new since the baseline)"))
    both = [n for n in this if n in base]
    tw, bw = sum(this[n][0] for n in both), sum(base[n][0] for n in both)
    print(f"  the {len(both)} sections both run: {tw:.1f} s vs {bw:.1f} s, ratio {tw / bw:.2f}; the others: "
          f"{sum(v[0] for n, v in this.items() if n not in base):.1f} s")


if __name__ == "__main__":
    main()
