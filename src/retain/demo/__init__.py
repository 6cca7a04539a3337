"""A realistic synthetic B2B SaaS company, seeded and deterministic, for demos, tests and benchmarks.

    from retain.demo import DemoSpec, generate, build_demo
    data = generate(DemoSpec(accounts=500))          # Arrow tables + hidden truth (never loaded)
    report = build_demo(wh, DemoSpec(accounts=500), out_dir="demo-data")  # write Parquet, ingest

See docs/demo.md for the causal story the data follows.
"""

from retain.demo.company import DemoData, generate
from retain.demo.pipeline import DemoResult, build_demo
from retain.demo.spec import DemoSpec
from retain.demo.writer import load_folder, write_parquet

__all__ = ["DemoData", "DemoResult", "DemoSpec", "build_demo", "generate", "load_folder", "write_parquet"]
