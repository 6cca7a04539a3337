"""The tiny company plus accounts whose ids and names are hostile: ids with '/', '%', '?', '#', spaces and Chinese,
names that a spreadsheet would run as formulas. They belong to Olga (member r3): admin and Olga see them, Rita
(member r1) does not."""

from __future__ import annotations

import datetime as dt
import re

import ibis
import pandas as pd
import pyarrow as pa
from fastapi.testclient import TestClient

from retain.state import testing
from retain.warehouse import Warehouse

# id -> name; every name starts with a character a spreadsheet reads as the start of a formula
HOSTILE = {
    "acme/emea": '=HYPERLINK("http://evil.example","click")',
    "50%off": "+1+cmd|' /C calc'!A0",
    "what?": "-2+3",
    "a#b": "@SUM(A1:A9)",
    "with space": "\t=1+1",
    "北京/上海 1": "\r=1+1",
}
HEALTH_BEFORE, HEALTH_NOW = 70.0, 40.0  # so health_change is -30, a negative number


def _append(wh: Warehouse, table: str, rows: list[dict]) -> None:
    wh.con.insert(table, ibis.memtable(pa.Table.from_pylist(rows, schema=wh.raw(table).schema().to_pyarrow())))


def _append_result(wh: Warehouse, name: str, day: dt.date, rows: pd.DataFrame) -> None:
    stored = wh.execute(wh.result(name, day)).drop(columns="as_of")
    wh.store_result(name, pd.concat([stored, rows], ignore_index=True), day)


def build_hostile(wh: Warehouse) -> Warehouse:
    testing.build(wh)
    _append(wh, "accounts", [
        {"account_id": i, "name": n, "owner_id": "r3", "segment": "smb", "region": "west",
         "acquisition_channel": "paid", "created_at": dt.datetime(2023, 1, 15, tzinfo=dt.UTC)}
        for i, n in HOSTILE.items()
    ])
    for day, score in ((testing.PREVIOUS, HEALTH_BEFORE), (testing.AS_OF, HEALTH_NOW)):
        _append_result(wh, "health_scores", day, pd.DataFrame(
            {"account_id": list(HOSTILE), "total": score, "grade": "yellow", "critical_factor": "low_usage"}))
    _append_result(wh, "health_components", testing.AS_OF, pd.DataFrame(
        {"account_id": list(HOSTILE), "component": "usage", "score": 35.0, "weight_pct": 100.0}))
    return wh



def hostile_app(database_url: str):
    """A dashboard on ``database_url`` with the hostile book published and the four users; returns (app, read keys)."""
    from retain.server.app import create_app
    from retain.server.settings import Settings
    from retain.state import users
    from retain.state.publish import publish

    app = create_app(Settings(database_url=database_url, dev=True))
    wh = build_hostile(Warehouse.open(":memory:"))
    keys = {}
    with app.state.runtime.sessions() as db:
        publish(wh, db, testing.AS_OF)
        for name, (role, member_id) in testing.ROLES.items():
            user = users.create_user(db, name, testing.PASSWORDS[name], role, member_id=member_id)
            keys[name], _ = users.create_key(db, user, f"{name}-read", "read")
    return app, keys


def signed_in(app, user: str) -> TestClient:
    """A client with ``user``'s session cookie."""
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": user, "password": testing.PASSWORDS[user], "csrf_token": token,
                                    "next": "/accounts"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client
