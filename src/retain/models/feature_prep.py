"""Tidy a generated feature matrix: drop useless columns, log-transform skewed counts, group correlated metrics.

Rules (after *Fighting Churn With Data*, ch. 6-7):

* a column that is all missing or takes a single value is dropped (it cannot separate anyone);
* a non-negative column whose skewness exceeds :data:`SKEW` is replaced by ``log1p`` of itself (same name; the
  transform is recorded), so a few heavy users do not dominate a linear model;
* metrics whose absolute correlation exceeds :data:`CORRELATION` are clustered (average linkage on
  ``1 - |r|``) into groups named after their most central member, so an explanation can say "usage" once
  instead of listing five versions of it.

This works on the compact feature matrix (already aggregated in the engine), not on warehouse rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SKEW = 2.0
CORRELATION = 0.65
SAMPLE_ROWS = 50_000


@dataclass(frozen=True)
class Prepared:
    frame: pd.DataFrame
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    transforms: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()


def informative(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[str, ...]:
    """Columns with at least two distinct non-missing values (numbers: a minimum below the maximum, which is
    much cheaper than counting distinct values on a million rows)."""
    out = []
    for c in columns:
        values = frame[c]
        if pd.api.types.is_numeric_dtype(values):
            low, high = values.min(), values.max()
            keep = bool(low == low and high == high and low < high)
        else:
            keep = values.nunique(dropna=True) > 1
        if keep:
            out.append(c)
    return tuple(out)


def skewed(frame: pd.DataFrame, columns: tuple[str, ...], threshold: float = SKEW) -> tuple[str, ...]:
    """Non-negative columns whose skewness exceeds ``threshold``."""
    out = []
    for c in columns:
        values = frame[c].dropna()
        if len(values) > 2 and values.min() >= 0 and values.skew() > threshold:
            out.append(c)
    return tuple(out)


def correlation_groups(frame: pd.DataFrame, columns: tuple[str, ...], threshold: float = CORRELATION,
                       *, sample: int = SAMPLE_ROWS, seed: int = 0) -> dict[str, str]:
    """Each column -> the name of its group of columns correlated above ``threshold`` (itself when alone)."""
    if len(columns) < 2:
        return {c: c for c in columns}
    if len(frame) > sample:  # sample the rows first: copying every column of a million rows costs more
        frame = frame.take(np.random.default_rng(seed).choice(len(frame), sample, replace=False))
    data = frame[list(columns)]
    data = data.fillna(data.median())
    corr = data.corr().abs().fillna(0.0).to_numpy(copy=True)
    np.fill_diagonal(corr, 1.0)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    dist = squareform(np.clip(1.0 - corr, 0.0, None), checks=False)
    labels = fcluster(linkage(dist, method="average"), t=1.0 - threshold, criterion="distance")
    out: dict[str, str] = {}
    for label in np.unique(labels):
        idx = np.nonzero(labels == label)[0]
        centre = idx[np.argmax(corr[np.ix_(idx, idx)].sum(axis=1))]
        for i in idx:
            out[columns[i]] = columns[centre]
    return out


def prepare(frame: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...]) -> Prepared:
    keep_num = informative(frame, numeric)
    keep_cat = informative(frame, categorical)
    dropped = tuple(c for c in (*numeric, *categorical) if c not in keep_num and c not in keep_cat)
    out = frame.drop(columns=list(dropped))
    logs = skewed(out, keep_num)
    for c in logs:
        out[c] = np.log1p(out[c])
    groups = correlation_groups(out, keep_num) | {c: c for c in keep_cat}
    return Prepared(out, keep_num, keep_cat, {c: "log1p" for c in logs}, groups, dropped)
