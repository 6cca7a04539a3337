"""Shared plumbing of the generator: named random streams, the day grid and typed Arrow columns.

Days are integers (days since 1970-01-01) and times are integer seconds since the epoch (UTC) until the very
end, where :func:`arrow_table` turns them into the exact types of :mod:`retain.schema`.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from retain.demo.spec import DemoSpec
from retain.schema import DType, table

DAY = 86_400
EPOCH = dt.date(1970, 1, 1)
NO_DAY = np.iinfo(np.int64).min  # "no date" inside integer day arrays

_ARROW = {
    DType.STRING: pa.string(),
    DType.INT: pa.int64(),
    DType.FLOAT: pa.float64(),
    DType.BOOL: pa.bool_(),
    DType.DATE: pa.date32(),
    DType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    DType.JSON: pa.string(),
}


def stream(spec: DemoSpec, name: str) -> np.random.Generator:
    """An independent random stream per part of the company, so changing one part leaves the others intact."""
    return np.random.default_rng([spec.seed, zlib.crc32(name.encode())])


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


@dataclass(frozen=True)
class Clock:
    """The company's calendar: day numbers from ``start`` to ``end`` and weeks counted from ``start``."""

    start: int
    end: int

    @classmethod
    def of(cls, spec: DemoSpec) -> Clock:
        return cls(day_number(spec.start), day_number(spec.end))

    @property
    def n_days(self) -> int:
        return self.end - self.start + 1

    @property
    def n_weeks(self) -> int:
        return (self.n_days + 6) // 7

    def week(self, day: np.ndarray | int) -> np.ndarray:
        return np.clip((np.asarray(day) - self.start) // 7, 0, self.n_weeks - 1)

    def week_start(self, week: np.ndarray | int) -> np.ndarray:
        return self.start + 7 * np.asarray(week)


def ids(prefix: str, n: int, width: int = 6) -> np.ndarray:
    """``prefix`` + zero-padded running number: ``ids('a_', 3) -> ['a_000000', 'a_000001', 'a_000002']``."""
    return np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), width)).astype(object)


def pick(rng: np.random.Generator, options, n: int, p=None) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def lookup(mapping: dict, keys: np.ndarray) -> np.ndarray:
    """``mapping[k]`` for every ``k`` in ``keys`` (vectorised; unknown keys give ``None``)."""
    return pd.Series(keys, dtype=object).map(mapping).to_numpy(dtype=object)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _column(values, dtype: DType, n: int) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(_ARROW[dtype])
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = np.full(n, arr.item(), dtype=arr.dtype if arr.dtype != np.str_ else object)
    if dtype is DType.DATE:
        days = arr.astype(np.int64)
        mask = days == NO_DAY
        return pa.array(np.where(mask, 0, days).astype(np.int32), type=pa.date32(), mask=mask)
    if dtype is DType.TIMESTAMP:
        secs = arr.astype(np.int64)
        mask = secs == NO_DAY
        return pa.array(np.where(mask, 0, secs) * 1_000_000, type=_ARROW[dtype], mask=mask)
    if dtype is DType.FLOAT:
        return pa.array(arr.astype(np.float64), type=pa.float64(), from_pandas=True)
    if dtype is DType.INT:
        return pa.array(arr.astype(np.int64), type=pa.int64())
    if dtype is DType.BOOL:
        return pa.array(arr, type=pa.bool_(), from_pandas=True)
    return pa.array(arr.astype(object), type=pa.string(), from_pandas=True)


def arrow_table(name: str, columns: dict[str, object]) -> pa.Table:
    """An Arrow table with exactly the canonical columns and types of table ``name`` (absent columns omitted).

    Dates come as day numbers and timestamps as epoch seconds, both with :data:`NO_DAY` for "empty";
    strings as object arrays with ``None`` for empty; floats with ``NaN`` for empty.
    """
    spec = table(name)
    unknown = set(columns) - set(spec.names)
    if unknown:
        raise ValueError(f"{name}: columns not in the data model: {sorted(unknown)}")
    n = max(len(v) for v in columns.values() if np.ndim(v) > 0)
    arrays, fields = [], []
    for col in spec.columns:
        if col.name not in columns:
            continue
        arrays.append(_column(columns[col.name], col.dtype, n))
        fields.append(pa.field(col.name, _ARROW[col.dtype], nullable=not col.required))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
