"""CSV that is safe to open in a spreadsheet, for every face that exports one (the web list, ``--out x.csv``).

A spreadsheet reads a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return as a formula, so an
account named ``=HYPERLINK(...)`` would run when the export is opened (CSV injection). As OWASP recommends, such
*text* cells (and header cells) get a leading ``'``, which spreadsheets show as text; numbers, dates and empty cells
are written as they are, so a negative ``health_change`` stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
    writer.writerows([neutralise(row.get(c)) for c in columns] for row in rows)
    return buffer.getvalue()


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are neutralised; numeric columns are not touched."""
    out = frame.rename(columns=neutralise)
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        dtype = series.dtype
        if (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
                or isinstance(dtype, pd.CategoricalDtype)):
            out.isetitem(i, series.map(neutralise))
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as CSV (no index), safe to open in a spreadsheet.

    Lines end in CRLF (RFC 4180) so that a cell holding a bare carriage return is quoted, as in :func:`csv_text`.
    """
    safe_frame(frame).to_csv(path, index=False, lineterminator="\r\n")
