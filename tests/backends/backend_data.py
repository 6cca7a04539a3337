"""The two data sets of the backend suite, and the one rule for "identical results" across engines.

* ``small``: hand-checkable. The metric tests' six-account book (tests/unit/metrics/metrics_book.py), the health
  tests' three scored accounts (tests/unit/health/health_data.py) and a few hand-written purchases, as of
  2024-06-30. Ids differ in case (``a``..``f`` vs ``A``..``C``), so per-account values stay hand-checkable.
* ``demo``: a slice of the demo company (60 accounts, 18 months, seed 7), as of a month before its last day.

Identical means: the same rows (sorted by every non-float column) and the same values; floats (money included)
to 1e-9 relative and 1e-6 absolute (a millionth of a currency unit). Dates and timestamps are compared as UTC
instants, whichever Python/pandas type the engine returns them as.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from retain.warehouse import Warehouse

TESTS = Path(__file__).parents[1]
for folder in ("unit/metrics", "unit/health"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))

MONEY_RTOL, MONEY_ATOL = 1e-9, 1e-6
SMALL_AS_OF = dt.date(2024, 6, 30)
DEMO_SPEC = {"accounts": 60, "years": 1.5, "seed": 7}
DEMO_AS_OF = dt.date(2026, 9, 30)  # the demo ends on 2026-10-31 (DemoSpec's default end)


@dataclass(frozen=True)
class DataSet:
    """A named data set and the day its analytics run as of (``label`` is also the labels' observation day)."""

    name: str
    as_of: dt.date
    label_on: dt.date


SMALL = DataSet("small", SMALL_AS_OF, dt.date(2024, 3, 31))
DEMO = DataSet("demo", DEMO_AS_OF, dt.date(2026, 6, 30))
DATASETS = {d.name: d for d in (SMALL, DEMO)}

PURCHASES = [  # id, account, day, amount: 'a' buys on 3 days (2 repeats), 'd' once
    ("x1", "a", "2024-01-10", 100.0), ("x2", "a", "2024-02-10", 50.0), ("x3", "a", "2024-05-10", 30.0),
    ("x4", "a", "2024-05-10", 20.0), ("x5", "d", "2024-03-01", 75.0),
]


def fill_small(wh: Warehouse) -> Warehouse:
    from health_data import fill_tiny, load
    from metrics_book import accounts_frame, subs_frame

    load(wh, "accounts", accounts_frame().to_dict("records"))
    load(wh, "subscriptions", subs_frame().to_dict("records"))
    fill_tiny(wh)
    load(wh, "transactions", [
        {"transaction_id": t, "account_id": a, "occurred_at": dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC),
         "amount": amount, "currency": "EUR"} for t, a, day, amount in PURCHASES])
    return wh


def fill_demo(wh: Warehouse, folder: Path) -> Warehouse:
    from retain.demo import DemoSpec, build_demo

    build_demo(wh, DemoSpec(**DEMO_SPEC), out_dir=folder)
    return wh


# -- comparing frames across engines ----------------------------------------------------------------------------


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """One representation per kind of value: floats for numbers, naive UTC datetimes, objects with None."""
    out = pd.DataFrame(index=range(len(frame)))
    for name in frame.columns:
        col = frame[name].reset_index(drop=True)
        first = col.dropna().iloc[0] if col.notna().any() else None
        if first is None:  # all null: None, whatever type the engine gave the empty column
            col = pd.Series([None] * len(col), dtype=object)
        elif isinstance(col.dtype, pd.DatetimeTZDtype):
            col = col.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("ns")  # one unit: Spark's are us
        elif pd.api.types.is_datetime64_any_dtype(col.dtype) or isinstance(first, dt.date | pd.Timestamp):
            col = pd.to_datetime(col, utc=True).dt.tz_localize(None).dt.as_unit("ns")
        elif pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
            col = col.astype("float64")
        else:
            col = col.astype(object).where(col.notna(), None)
        out[name] = col
    return out


def keys_of(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c].dtype)]


def assert_same(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    """``got`` (any engine) equals ``want`` (DuckDB) by the rule in this module's docstring."""
    got, want = normalise(got), normalise(want)
    assert list(got.columns) == list(want.columns), f"{what}: columns differ"
    assert len(got) == len(want), f"{what}: {len(got)} rows, DuckDB has {len(want)}"
    keys = keys_of(want) + [c for c in want.columns if c not in keys_of(want)]
    got = got.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)
    want = want.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=False, rtol=MONEY_RTOL,
                                  atol=MONEY_ATOL, obj=what)
