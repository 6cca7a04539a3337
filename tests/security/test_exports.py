"""CSV injection (issue 10, finding 6): every CSV export neutralises text a spreadsheet would run as a formula.

A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'`` (OWASP); numbers stay
numbers. Checked on the web export ``/accounts.csv`` and on a CLI command's ``--out x.csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path

import pandas as pd
import pytest
from hostile_book import HEALTH_BEFORE, HEALTH_NOW, HOSTILE, hostile_app, signed_in
from typer.testing import CliRunner

from retain.cli.main import app as cli
from retain.exports import csv_text, neutralise, safe_frame
from retain.warehouse import Warehouse

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "metrics"))
from metrics_book import accounts_frame, subs_frame  # noqa: E402

PAYLOADS = ['=HYPERLINK("http://evil.example","x")', "+1", "-cmd", "@SUM(A1)", "\tx", "\rx"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """(app, read keys) of a dashboard whose published book holds the hostile accounts."""
    return hostile_app(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'app.sqlite'}")


@pytest.mark.parametrize("text", PAYLOADS)
def test_formula_like_text_gets_a_leading_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Acme", "", "a=b", " =1", "'=1", "北京", -1.5, 0, -3, None, True,
                                   dt.date(2024, 6, 30)])
def test_everything_else_is_unchanged(value):
    assert neutralise(value) == value and type(neutralise(value)) is type(value)


def test_frames_keep_numeric_columns_and_neutralise_text_and_headers():
    frame = pd.DataFrame({"name": PAYLOADS, "change": [-30.0, -1, 0, 1, 2, 3], "=cmd": ["-x"] * 6})
    safe = safe_frame(frame)
    assert list(safe["name"]) == ["'" + p for p in PAYLOADS]
    assert safe["change"].equals(frame["change"]) and list(safe.columns) == ["name", "change", "'=cmd"]
    assert list(frame["name"]) == PAYLOADS  # the caller's frame is not modified


def test_rows_as_csv_text():
    text = csv_text([{"name": "=1+1", "change": -30.0, "other": "ignored"}, {"name": "ok", "change": None}],
                    ["name", "change"])
    assert list(csv.reader(io.StringIO(text))) == [["name", "change"], ["'=1+1", "-30.0"], ["ok", ""]]


def test_web_csv_export_neutralises_names_and_keeps_numbers(hostile):
    app, _ = hostile
    r = signed_in(app, "admin").get("/accounts.csv?region=west&sort=name&order=asc")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {row["account_id"]: row for row in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")))}
    assert set(HOSTILE) <= set(rows)
    for account_id, name in HOSTILE.items():
        assert rows[account_id]["name"] == "'" + name, account_id
        assert float(rows[account_id]["health_change"]) == HEALTH_NOW - HEALTH_BEFORE  # a number, not "'-30.0"
        assert float(rows[account_id]["health_total"]) == HEALTH_NOW
    assert rows["a6"]["name"] == "Hooli"


@pytest.fixture
def book_with_hostile_names(tmp_path) -> str:
    """The metrics book with hostile names; account e has a support ticket, so it loses money (negative profit)."""
    path = tmp_path / "book.duckdb"
    wh = Warehouse.open(path)
    accounts = accounts_frame()
    accounts["name"] = PAYLOADS
    wh.con.insert("accounts", accounts)
    wh.con.insert("subscriptions", subs_frame())
    wh.con.insert("support_tickets", pd.DataFrame({
        "ticket_id": ["t1"], "account_id": ["e"], "opened_at": [pd.Timestamp("2024-02-01", tz="UTC")],
        "priority": ["normal"], "category": ["bug"], "subject": ["=1+1"]}))
    wh.con.disconnect()
    return str(path)


def test_cli_out_csv_neutralises_text_and_keeps_numbers(book_with_hostile_names, tmp_path):
    out = tmp_path / "profitability.csv"
    result = CliRunner().invoke(cli, ["--db", book_with_hostile_names, "profitability", "--as-of", "2024-06-30",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, keep_default_na=False).set_index("account_id")
    names = dict(zip(accounts_frame()["account_id"], PAYLOADS, strict=True))
    assert {a: frame.loc[a, "name"] for a in names} == {a: "'" + n for a, n in names.items()}
    assert pd.api.types.is_float_dtype(frame["profit"]) and frame.loc["e", "profit"] < 0  # a negative number
    assert frame.loc["e", "tickets"] == 1 and len(frame) == 6


def test_cli_parquet_export_is_data_not_a_spreadsheet(book_with_hostile_names, tmp_path):
    out = tmp_path / "profitability.parquet"
    result = CliRunner().invoke(cli, ["--db", book_with_hostile_names, "profitability", "--as-of", "2024-06-30",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert set(pd.read_parquet(out)["name"]) == set(PAYLOADS)  # typed data keeps the values exactly
