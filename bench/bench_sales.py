"""Benchmark: the opportunity model, its accuracy against the CRM probability and the stage alone, and scoring
1,000,000 open opportunities.

    /work/main/.venv/bin/python bench/bench_sales.py [--small] [--deals N] [--skip-demo]

Prints:

1. On the demo (accounts 1,000, 3 years, seed 7) and on the two synthetic shapes of ``tests/fixtures/sales``
   (``no_probability``: six stages and no probability field; ``few_stages``: two stages): AUC and Brier of the
   model, the CRM probability and the stage-only baseline on the last four quarters (walk-forward), with 95 %
   bootstrap intervals over opportunities; and the forecast backtest's mean absolute error.
2. Scoring ``--deals`` (1,000,000) open opportunities with stage history and activities (``few_stages`` shape, all
   open): the point-in-time feature query with warnings, then the fitted model with reasons, against the 60 s
   target, beside the baseline of the same features scored by the stage win rate alone (no model, no reasons).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "fixtures" / "sales"))
from sales_shapes import END, Shape, generate  # noqa: E402

from retain.sales.forecast import backtest, mean_abs_error  # noqa: E402
from retain.sales.pipeline import current_features, score_pipeline  # noqa: E402
from retain.sales.scores import score_open  # noqa: E402
from retain.warehouse import Warehouse  # noqa: E402

TARGET_SECONDS = 60.0


def accuracy(name: str, wh: Warehouse, day) -> None:
    start = time.perf_counter()
    scored = score_pipeline(wh, day)
    v = scored.validation
    if v is None:
        print(f"{name}: not validated: {scored.note}")
        return
    print(f"\n{name}: {v.why} ({time.perf_counter() - start:.1f} s, {len(v.scored):,} deal snapshots scored "
          f"out of sample over {v.scored['quarter'].nunique()} quarters)")
    for r in v.table.itertuples():
        print(f"  {r.method:16s} AUC {r.auc:.3f} [{r.auc_low:.3f}, {r.auc_high:.3f}]   "
              f"Brier {r.brier:.3f} [{r.brier_low:.3f}, {r.brier_high:.3f}]")
    err = mean_abs_error(backtest(v))
    print("  forecast backtest, mean absolute error: " + ", ".join(f"{k} {e:.1%}" for k, e in err.items()
                                                                   if e == e))


def scoring(deals: int, folder: Path) -> None:
    train = Warehouse.open(":memory:")
    generate(train, Shape.FEW_STAGES, 3000, seed=11)
    model = score_pipeline(train, END, validate_model=False).model
    wh = Warehouse.open(folder / "open.duckdb")
    start = time.perf_counter()
    generate(wh, Shape.FEW_STAGES, deals, seed=12, open_only=True)
    print(f"\ngenerated {deals:,} open deals with {wh.count('opportunity_stages'):,} stage rows and "
          f"{wh.count('activities'):,} activities in {time.perf_counter() - start:.1f} s")
    start, cpu = time.perf_counter(), time.process_time()
    features = current_features(wh, END)
    t_features, c_features = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    base = model.stages.predict(features["stage"])
    t_base = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    scored = score_open(model, features, 0.10)
    t_model, c_model = time.perf_counter() - start, time.process_time() - cpu
    total = t_features + t_model
    print(f"  load average at the start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the wall times below "
          "are shared with whatever else runs; CPU seconds are what this run itself used)")
    print(f"  features + warnings (engine): {t_features:.1f} s wall, {c_features:.1f} s CPU for "
          f"{len(features):,} open deals")
    print(f"  baseline, stage win rate only: {t_features + t_base:.1f} s wall")
    print(f"  model alone: {t_model:.1f} s wall, {c_model:.1f} s CPU; features + model: "
          f"{c_features + c_model:.1f} s CPU in all")
    print(f"  model P(win) + benchmark + reasons: {t_model:.1f} s -> total {total:.1f} s "
          f"({total / TARGET_SECONDS:.0%} of the {TARGET_SECONDS:.0f} s target; {total / (t_features + t_base):.2f}x "
          f"the baseline); {int(scored['below_benchmark'].sum()):,} below benchmark, mean P(win) "
          f"{scored['p_win'].mean():.3f} (stage rate {base.mean():.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="100,000 deals and the small demo (a quick check)")
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    deals = 100_000 if args.small else args.deals
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.skip_demo:
            from retain.demo import DemoSpec, build_demo

            spec = DemoSpec(accounts=250 if args.small else 1000, years=2.0 if args.small else 3.0, seed=7)
            demo = Warehouse.open(folder / "demo.duckdb")
            build_demo(demo, spec, out_dir=folder / "parquet")
            accuracy(f"demo ({spec.accounts} accounts, {spec.years} years)", demo, spec.end)
        for shape in Shape:
            wh = Warehouse.open(":memory:")
            generate(wh, shape, 3000, seed=1)
            accuracy(f"fixture {shape.value} (3,000 deals over 2 years)", wh, END)
        scoring(deals, folder)
    print(f"\npeak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
