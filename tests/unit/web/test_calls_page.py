"""The Calls page covers every call the viewer may see (aggregated in SQL), beyond any old read limit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from retain.server.testing import seeded_app
from retain.state import published
from retain.state.testing import PASSWORDS

CALLS = 60_000  # more than the 50,000 rows one read returns, and the 5,000 the page once read
REPS = ("r1", "r2", "r3")
LEADS = 130


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app, _ = seeded_app(f"sqlite:///{tmp_path_factory.mktemp('calls') / 'app.sqlite'}")
    calls = [{"conversation_id": f"c{i}", "member_id": REPS[i % 3], "account_id": None,
              "rep_talk_share": 0.4 if i % 3 == 0 else 0.6, "duration_seconds": 600.0} for i in range(CALLS)]
    leads = [{"rank": i + 1, "lead_id": f"l{i}", "owner_id": "r3" if i % 2 else "r1", "company": f"Lead {i}",
              "score": 1 - i / LEADS} for i in range(LEADS)]
    with app.state.runtime.sessions() as db:
        published.replace(db, published.RESULTS["call_metrics"], dt.date(2024, 6, 30), calls)
        published.replace(db, published.RESULTS["lead_recovery"], dt.date(2024, 6, 30), leads)
        db.commit()
    return app


def _signed_in(app, user: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": user, "password": PASSWORDS[user], "csrf_token": token, "next": "/"})
    return client


def _reps(page: str) -> dict[str, tuple[int, str]]:
    table = page.split('id="rep-calls"')[1].split("</table>")[0]
    return {rep: (int(n.replace(",", "")), share) for rep, n, share in
            re.findall(r'<tr><td>([^<]+)</td><td class="n">([\d,]+)</td><td class="n">([^<]+)</td>', table)}


def test_every_call_is_counted_for_an_admin(app):
    page = _signed_in(app, "admin").get("/calls").text
    assert "60,000 calls you can see" in page
    assert _reps(page) == {"Rita Rep": (20_000, "40%"), "Raj Rep": (20_000, "60%"), "Olga Other": (20_000, "60%")}


def test_a_member_counts_only_their_calls(app):
    page = _signed_in(app, "olga").get("/calls").text
    assert "20,000 calls you can see" in page and _reps(page) == {"Olga Other": (20_000, "60%")}


def test_leads_are_paginated_within_the_viewers_rows(app):
    client = _signed_in(app, "olga")  # 65 leads: two pages of 50
    first, second = client.get("/calls").text, client.get("/calls?page=2").text
    numbers = [re.findall(r'<tr><td class="n" title="company rank (\d+)">(\d+)</td>', p) for p in (first, second)]
    assert [n for _, n in numbers[0]] == [str(i) for i in range(1, 51)]
    assert [n for _, n in numbers[1]] == [str(i) for i in range(51, 66)]
    assert numbers[0][0][0] == "2" and "page 2 of 2" in second and 'rel="prev"' in second
    assert client.get("/calls?page=0").status_code in (400, 422)


def test_the_api_pages_through_every_call(app):
    from retain.state import users

    with app.state.runtime.sessions() as db:
        key, _ = users.create_key(db, users.list_users(db)[0], "pager", "read")
    client = TestClient(app)
    first = client.get("/api/v1/metrics/call_metrics", headers={"X-API-Key": key}).json()
    last = client.get("/api/v1/metrics/call_metrics", params={"offset": 50_000, "limit": 50_000},
                      headers={"X-API-Key": key}).json()
    assert first["total"] == CALLS and len(first["records"]) == 50_000 and len(last["records"]) == 10_000
    assert last["records"][-1]["conversation_id"] == f"c{CALLS - 1}"
