"""The one clock: which day a run is as of, and why; every command with ``--as-of`` picks the same day."""

from __future__ import annotations

import datetime as dt
import re

import ibis
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from retain.schema import TABLES, DType
from retain.warehouse import Warehouse, as_of_day
from retain.warehouse.clock import CLOCK_COLUMNS, NOT_CLOCK_COLUMNS, latest_data_days

TODAY = dt.date(2025, 3, 31)
BASE = dt.date(2024, 6, 30)  # every table's rows are dated on or before this day unless a test moves one later


def put(wh: Warehouse, name: str, rows: list[dict]) -> None:
    schema = wh.raw(name).schema().to_pyarrow()
    wh.con.insert(name, ibis.memtable(pa.Table.from_pylist(rows, schema=schema)))


def _value(table: str, column: str, day: dt.date):
    dtype = TABLES[table].column(column).dtype
    return dt.datetime.combine(day, dt.time(15), tzinfo=dt.UTC) if dtype is DType.TIMESTAMP else day


def row(table: str, day: dt.date, **values) -> dict:
    """A minimal valid row of ``table``: its key and required columns filled, every clock column at ``day``."""
    spec = TABLES[table]
    out: dict = {}
    for col in spec.columns:
        if col.required or col.name in spec.key:
            if col.dtype in (DType.DATE, DType.TIMESTAMP):
                out[col.name] = _value(table, col.name, day)
            elif col.dtype in (DType.INT, DType.FLOAT):
                out[col.name] = 1
            elif col.dtype is DType.BOOL:
                out[col.name] = True
            else:
                out[col.name] = col.enum[0] if col.enum else f"{table}-1"
    for t, column in CLOCK_COLUMNS:
        if t == table:
            out[column] = _value(table, column, day)
    return {**out, **values}


@pytest.fixture
def filled(wh: Warehouse) -> Warehouse:
    """One row in every table that has a clock column, all at ``BASE``."""
    for table in dict.fromkeys(t for t, _ in CLOCK_COLUMNS):
        put(wh, table, [row(table, BASE)])
    return wh


def test_every_date_column_of_the_schema_is_declared_once():
    dated = {(t.name, c.name) for t in TABLES.values() for c in t.columns if c.dtype in (DType.DATE, DType.TIMESTAMP)}
    declared = set(CLOCK_COLUMNS)
    assert not declared & set(NOT_CLOCK_COLUMNS)
    assert declared | set(NOT_CLOCK_COLUMNS) == dated


def test_all_tables_at_one_day(filled: Warehouse):
    assert set(latest_data_days(filled)) == {f"{t}.{c}" for t, c in CLOCK_COLUMNS}
    choice = as_of_day(filled, today=TODAY)
    assert choice.day == BASE
    assert choice.reason.startswith("latest data day: ") and len(choice.sources) == len(CLOCK_COLUMNS)


@pytest.mark.parametrize(("table", "column"), CLOCK_COLUMNS, ids=lambda v: str(v))
def test_each_clock_column_in_turn_holds_the_latest_day(filled: Warehouse, table: str, column: str):
    later = BASE + dt.timedelta(days=40)
    spec = TABLES[table]
    other_key = {k: f"{table}-2" for k in spec.key if spec.column(k).dtype not in (DType.DATE, DType.TIMESTAMP)}
    moved = row(table, BASE, **{**other_key, column: _value(table, column, later)})
    put(filled, table, [moved])
    choice = as_of_day(filled, today=TODAY)
    assert choice.day == later
    assert choice.sources == (f"{table}.{column}",)
    assert str(choice) == f"as of {later.isoformat()} (latest data day: {table}.{column})"


def test_a_requested_day_wins(filled: Warehouse):
    assert as_of_day(filled, "2023-01-15", today=TODAY).day == dt.date(2023, 1, 15)
    assert as_of_day(filled, dt.date(2030, 1, 1), today=TODAY).reason == "requested"


def test_churn_recorded_after_the_last_start_is_seen(wh: Warehouse):
    put(wh, "accounts", [row("accounts", dt.date(2023, 1, 1), account_id="a1")])
    put(wh, "subscriptions", [row("subscriptions", dt.date(2023, 2, 1), account_id="a1", subscription_id="s1",
                                  ended_on=dt.date(2024, 5, 1))])
    put(wh, "usage", [row("usage", dt.date(2024, 4, 20), account_id="a1")])
    choice = as_of_day(wh, today=TODAY)
    assert choice.day == dt.date(2024, 5, 1) and choice.sources == ("subscriptions.ended_on",)
    churned = wh.execute(wh.as_of("subscriptions", choice.day))
    assert churned["ended_on"].notna().all()  # the end is visible at the default day


def test_never_after_today(filled: Warehouse):
    put(filled, "usage", [row("usage", TODAY + dt.timedelta(days=5), account_id="a9")])
    choice = as_of_day(filled, today=TODAY)
    assert choice.day == TODAY
    assert "usage.usage_on" in choice.reason and "future" in choice.reason


def test_an_empty_warehouse_is_as_of_today(wh: Warehouse):
    choice = as_of_day(wh, today=TODAY)
    assert choice.day == TODAY and choice.sources == ()


def test_plans_and_tags_do_not_move_the_day(filled: Warehouse):
    put(filled, "subscriptions", [row("subscriptions", BASE, subscription_id="s2", term_end_on=TODAY)])
    put(filled, "tags", [row("tags", BASE, tagged_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))])
    assert as_of_day(filled, today=TODAY).day == BASE


# -- every command chooses the same day ----------------------------------------------------------------------

AS_OF_LINE = re.compile(r"as of (\d{4}-\d{2}-\d{2}) \(([^)\n]*)")


@pytest.fixture
def tiny_db(tmp_path) -> str:
    """The tiny company of ``retain.state.testing`` (its data, not its stored results), plus a churn recorded after
    every other dated row."""
    from retain.state import testing

    path = tmp_path / "tiny.duckdb"
    company = testing.build(Warehouse.open(":memory:"))
    wh = Warehouse.open(path)
    for name, spec in TABLES.items():
        data = None if spec.input_only else company.raw(name).to_pyarrow()
        if data is not None and data.num_rows:
            wh.con.insert(name, ibis.memtable(data))
    last = max(latest_data_days(wh).values())
    put(wh, "subscriptions", [row("subscriptions", dt.date(2023, 1, 1), subscription_id="s-late", account_id="a1",
                                  product_id="core", ended_on=last + dt.timedelta(days=3))])
    wh.con.disconnect()
    return str(path)


@pytest.mark.parametrize("command", [["run"], ["retention"], ["score"], ["clv"], ["publish"]], ids=" ".join)
def test_commands_choose_the_same_day(tiny_db: str, command: list[str], monkeypatch, tmp_path):
    from retain.cli.main import app
    from retain.jobs import main as job

    monkeypatch.setattr(job, "SECTIONS", ())  # the main job's header, not its sections (each has its own tests)
    monkeypatch.setenv("RETAIN_DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite'}")
    wh = Warehouse.open(tiny_db)
    expected = as_of_day(wh)
    wh.con.disconnect()
    result = CliRunner().invoke(app, ["--db", tiny_db, *command])
    assert result.exit_code == 0, result.output
    found = AS_OF_LINE.search(result.output)
    assert found, result.output
    assert found.group(1) == expected.day.isoformat() and found.group(2) == expected.reason
    assert expected.sources == ("subscriptions.ended_on",)
