"""Helpers for the ingestion tests: tiny files written on the fly, a fixed load time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)

ACCOUNTS_CSV = """account_id,name,created_at,segment
A1,Acme,2024-01-01,smb
A2,Globex,2024-02-01T10:00:00+02:00,enterprise
"""


@pytest.fixture
def write(tmp_path: Path):
    """write("accounts.csv", text) -> path, in a fresh folder per test."""

    def _write(name: str, text: str | bytes, folder: str = "data") -> Path:
        path = tmp_path / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


def rows(wh, sql: str) -> list[tuple]:
    return wh.con.con.execute(sql).fetchall()


def snapshot(wh) -> dict[str, list[tuple]]:
    """Every canonical and ledger table's content, ordered: for 'nothing changed' assertions."""
    out = {}
    for name in sorted(wh.con.list_tables()):
        cols = [r[0] for r in wh.con.con.execute(f'DESCRIBE "{name}"').fetchall()]
        as_text = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in cols)  # TIMESTAMPTZ would need pytz
        out[name] = wh.con.con.execute(f'SELECT {as_text} FROM "{name}" ORDER BY ALL').fetchall()
    return out
