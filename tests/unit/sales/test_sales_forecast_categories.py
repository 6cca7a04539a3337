"""CRM forecast categories in the forecast: as the CRM had them on the day (the latest stage-history category by
then, else the opportunity's), summed per period and team beside the model's expected bookings; an export without
categories says so instead of showing zeros, in the forecast, on `retain forecast`, the Sales page and the API."""

from __future__ import annotations

import datetime as dt
import re

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from retain.cli.main import app
from retain.sales.features import deal_features
from retain.sales.forecast import NO_CATEGORIES, category_note, forecast
from retain.server.testing import seeded_app
from retain.state import testing
from retain.warehouse import Warehouse

DAY = dt.date(2026, 5, 15)


def ts(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=9, tzinfo=dt.UTC)


def put(wh: Warehouse, name: str, rows: list[dict]) -> None:
    schema = wh.raw(name).schema().to_pyarrow()
    wh.con.insert(name, ibis.memtable(pa.Table.from_pylist(rows, schema=schema)))


def categories_wh(path: str = ":memory:") -> Warehouse:
    """o1: pipeline (04-01), commit (05-10), omitted (05-20, after the day); the export says omitted today.
    o2: no category in its history, best_case on the opportunity. o3: lost on 05-30, exported as omitted (closed
    after the day: its exported category is not known on the day). o4: no category anywhere."""
    wh = Warehouse.open(path)
    put(wh, "team_members", [{"member_id": "r1", "name": "Rita", "role": "rep", "team": "East"}])
    put(
        wh,
        "opportunities",
        [
            {
                "opportunity_id": "o1",
                "created_at": ts("2026-04-01"),
                "opportunity_type": "new_business",
                "stage": "proposal",
                "owner_id": "r1",
                "amount": 1000.0,
                "close_on": dt.date(2026, 6, 30),
                "forecast_category": "omitted",
            },
            {
                "opportunity_id": "o2",
                "created_at": ts("2026-04-01"),
                "opportunity_type": "add_on",
                "stage": "proposal",
                "owner_id": "r1",
                "amount": 400.0,
                "close_on": dt.date(2026, 6, 15),
                "forecast_category": "best_case",
            },
            {
                "opportunity_id": "o3",
                "created_at": ts("2026-04-01"),
                "opportunity_type": "add_on",
                "stage": "closed_lost",
                "owner_id": "r1",
                "amount": 300.0,
                "close_on": dt.date(2026, 5, 30),
                "closed_at": ts("2026-05-30"),
                "is_won": False,
                "forecast_category": "omitted",
            },
            {
                "opportunity_id": "o4",
                "created_at": ts("2026-04-01"),
                "opportunity_type": "add_on",
                "stage": "proposal",
                "owner_id": "r1",
                "amount": 200.0,
                "close_on": dt.date(2026, 6, 20),
            },
        ],
    )
    put(
        wh,
        "opportunity_stages",
        [
            {
                "opportunity_id": "o1",
                "entered_at": ts("2026-04-01"),
                "stage": "discovery",
                "forecast_category": "pipeline",
            },
            {
                "opportunity_id": "o1",
                "entered_at": ts("2026-05-10"),
                "stage": "proposal",
                "forecast_category": "commit",
            },
            {
                "opportunity_id": "o1",
                "entered_at": ts("2026-05-20"),
                "stage": "proposal",
                "forecast_category": "omitted",
            },
            {"opportunity_id": "o2", "entered_at": ts("2026-04-01"), "stage": "proposal"},
            {"opportunity_id": "o3", "entered_at": ts("2026-04-01"), "stage": "proposal"},
            {
                "opportunity_id": "o3",
                "entered_at": ts("2026-05-30"),
                "stage": "closed_lost",
                "forecast_category": "omitted",
            },
        ],
    )
    return wh


def test_the_category_as_the_crm_had_it_on_the_day():
    wh = categories_wh()
    got = wh.execute(deal_features(wh, [DAY])).set_index("opportunity_id")["forecast_category"]
    assert got["o1"] == "commit"  # the history by 05-15, not the 05-20 change nor today's export
    assert got["o2"] == "best_case"  # no category in its history: the opportunity's, open today
    assert pd.isna(got["o3"]) and pd.isna(got["o4"])  # o3's export is after its close; o4 has none
    later = wh.execute(deal_features(wh, [dt.date(2026, 5, 25)])).set_index("opportunity_id")["forecast_category"]
    assert later["o1"] == "omitted"


def scores(categories: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c"],
            "owner_id": ["r1", "r1", "r2"],
            "amount": [1000.0, 2000.0, 500.0],
            "p_win": [0.5, 0.25, 0.9],
            "crm_probability": [0.6, 0.5, 0.2],
            "forecast_category": categories,
            "close_on": [dt.date(2026, 6, 1), dt.date(2026, 6, 30), dt.date(2026, 6, 2)],
        }
    )


def test_sums_per_category_beside_expected_bookings():
    f = forecast(scores(["commit", "best_case", "omitted"]), DAY, {"r1": "East", "r2": "West"})
    f = f.set_index(["period", "team"])
    q2 = f.loc[("2026-Q2", "all")]
    assert (q2["commit"], q2["best_case"], q2["pipeline_category"], q2["omitted"]) == (1000.0, 2000.0, 0.0, 500.0)
    assert q2["expected"] == pytest.approx(0.5 * 1000 + 0.25 * 2000 + 0.9 * 500)
    assert f.loc[("2026-Q2", "East"), "omitted"] == 0.0 and f.loc[("2026-Q2", "West"), "omitted"] == 500.0
    assert category_note(f.reset_index()) is None


def test_no_categories_are_empty_not_zero_and_said_so():
    f = forecast(scores([None, None, None]), DAY, {"r1": "East", "r2": "West"})
    assert f[["commit", "best_case", "pipeline_category", "omitted"]].isna().all().all()
    assert np.isclose(f.loc[f["team"] == "all", "expected"].sum(), 0.5 * 1000 + 0.25 * 2000 + 0.9 * 500)
    assert category_note(f) == NO_CATEGORIES == "the export has no forecast categories"


def test_retain_forecast_shows_categories_or_says_there_are_none(tmp_path):
    runner = CliRunner()
    db, out = str(tmp_path / "w.duckdb"), tmp_path / "forecast.csv"
    categories_wh(db).con.disconnect()
    day = ["--as-of", DAY.isoformat(), "--out", str(out)]
    r = runner.invoke(app, ["--db", db, "forecast", *day])
    assert r.exit_code == 0, r.output
    assert NO_CATEGORIES not in " ".join(r.output.split())
    q2 = pd.read_csv(out).set_index(["period", "team"]).loc[("2026-Q2", "all")]
    assert (q2["commit"], q2["best_case"], q2["pipeline_category"], q2["omitted"]) == (1000.0, 400.0, 0.0, 0.0)
    wh = Warehouse.open(db)
    wh.con.raw_sql("UPDATE opportunity_stages SET forecast_category = NULL")
    wh.con.raw_sql("UPDATE opportunities SET forecast_category = NULL")
    wh.con.disconnect()
    r = runner.invoke(app, ["--db", db, "forecast", *day])
    assert r.exit_code == 0, r.output
    assert NO_CATEGORIES in " ".join(r.output.split())  # Rich wraps long lines
    assert pd.read_csv(out)["commit"].isna().all()


def signed_in(application, user: str, password: str) -> TestClient:
    client = TestClient(application)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client


def test_the_sales_page_and_the_api_say_when_the_export_has_no_categories(tmp_path):
    """The tiny published company's forecast has no category columns: the page and the API say why."""
    application, keys = seeded_app(f"sqlite:///{tmp_path / 'app.sqlite'}")
    body = TestClient(application).get("/api/v1/sales/forecast", headers={"X-API-Key": keys["admin"]}).json()
    assert body["forecast"] and body["categories_note"] == NO_CATEGORIES
    page = signed_in(application, "admin", testing.PASSWORDS["admin"]).get("/sales")
    assert page.status_code == 200 and 'id="no-categories"' in page.text and NO_CATEGORIES in page.text
