"""Realistic synthetic companies, seeded and deterministic, for demos, tests and benchmarks.

    from retain.demo import DemoSpec, generate, build_demo
    data = generate(DemoSpec(accounts=500))          # Arrow tables + hidden truth (never loaded)
    data = generate(DemoSpec(profile="bank"))        # a retail bank; "app": a consumer subscription app
    report = build_demo(wh, DemoSpec(accounts=500), out_dir="demo-data")  # write Parquet, ingest

See docs/demo.md for the causal story each profile follows. Names are imported on first use, so that reading
:class:`DemoSpec` or :class:`DemoProfile` (the CLI does, to parse its options) does not load the generator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_WHERE = {
    "DemoData": "retain.demo.company", "generate": "retain.demo.company", "DemoResult": "retain.demo.pipeline",
    "build_demo": "retain.demo.pipeline", "DemoProfile": "retain.demo.spec", "DemoSpec": "retain.demo.spec",
    "load_folder": "retain.demo.writer", "write_parquet": "retain.demo.writer",
}

if TYPE_CHECKING:
    from retain.demo.company import DemoData, generate
    from retain.demo.pipeline import DemoResult, build_demo
    from retain.demo.spec import DemoProfile, DemoSpec
    from retain.demo.writer import load_folder, write_parquet


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'retain.demo' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)


__all__ = ["DemoData", "DemoProfile", "DemoResult", "DemoSpec", "build_demo", "generate", "load_folder",
           "write_parquet"]
