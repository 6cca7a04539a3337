"""CSV that is safe to open in a spreadsheet, for every face that exports one (the web list, ``--out x.csv``).

A spreadsheet reads a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return as a formula, so an
account named ``=HYPERLINK(...)`` would run when the export is opened (CSV injection). As OWASP recommends, such
*text* cells (and header cells) get a leading ``'``, which spreadsheets show as text; numbers, dates and empty cells
are written as they are, so a negative ``health_change`` stays a number.

Numbers are rounded to what they mean, by column name (:func:`decimals`): money to 2 decimals, probabilities to 4,
scores to 1, any other fraction to 4; they stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Decimals kept in an export, by what a column holds (its name: ``<x>_<suffix>`` or exactly the name).
MONEY_NAMES = ("arr", "mrr", "clv", "amount", "revenue", "arr_at_risk")
PROBABILITY_NAMES = ("probability", "p_alive")
SCORE_NAMES = ("total", "score", "health_change")  # not every "_change": net_logo_change is a ratio
DECIMALS = ((MONEY_NAMES, 2), (PROBABILITY_NAMES, 4), (SCORE_NAMES, 1))
OTHER_DECIMALS = 4


def decimals(column: str) -> int:
    """How many decimals an exported number of ``column`` keeps (money 2, probabilities 4, scores 1, else 4)."""
    name = str(column).lower()
    for names, digits in DECIMALS:
        if any(name == n or name.endswith("_" + n) for n in names):
            return digits
    return OTHER_DECIMALS


def rounded(value: Any, column: str) -> Any:
    """``value`` rounded for ``column`` when it is a float (a negative zero becomes 0); anything else unchanged."""
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        return round(value, decimals(column)) + 0.0
    return value


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """``rows`` (dicts; keys outside ``columns`` ignored) as CSV text with a header, every text cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(c) for c in columns])
    writer.writerows([neutralise(rounded(row.get(c), c)) for c in columns] for row in rows)
    return buffer.getvalue()


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are neutralised and float columns rounded
    (:func:`decimals`); numbers stay numbers."""
    out = frame.rename(columns=neutralise)
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        dtype = series.dtype
        if pd.api.types.is_float_dtype(dtype):
            out.isetitem(i, series.round(decimals(frame.columns[i])) + 0.0)
            continue
        if (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
                or isinstance(dtype, pd.CategoricalDtype)):
            out.isetitem(i, series.map(neutralise))
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as CSV (no index), safe to open in a spreadsheet.

    Lines end in CRLF (RFC 4180) so that a cell holding a bare carriage return is quoted, as in :func:`csv_text`.
    """
    safe_frame(frame).to_csv(path, index=False, lineterminator="\r\n")
