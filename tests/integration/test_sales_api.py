"""The sales API routes and pages, for every role, on the tiny company (``retain.state.testing``).

Deals (``opportunity_scores``) follow the owner and the account: Mia's team (m1, r1, r2) and the accounts it owns
(a1-a4); Rita her own deals and her accounts' (o4 is Olga's deal on Rita's a1); Olga hers and a5/a6's.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from retain.server.testing import seeded_app
from retain.state import testing

DEALS = {"admin": {"o1", "o2", "o3", "o4", "o5", "o6"}, "mia": {"o1", "o2", "o4", "o6"}, "rita": {"o1", "o4"},
         "olga": {"o3", "o4", "o5"}}
GOALS = {"admin": {"g1", "g2", "g3"}, "mia": {"g1", "g2"}, "rita": {"g1"}, "olga": {"g3"}}
BOOKED = {"admin": {"r1", "r2", "r3"}, "mia": {"r1", "r2"}, "rita": {"r1"}, "olga": {"r3"}}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    return seeded_app(f"sqlite:///{tmp_path_factory.mktemp('sales') / 'app.sqlite'}")


def signed_in(app, user: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": user, "password": testing.PASSWORDS[user], "csrf_token": token,
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


@pytest.mark.parametrize("who", list(DEALS))
def test_api_deals_and_goals_are_scoped(seeded, who):
    app, keys = seeded
    client = TestClient(app)
    h = {"X-API-Key": keys[who]}
    deals = client.get("/api/v1/sales/opportunities", headers=h)
    assert deals.status_code == 200, deals.text
    assert {r["opportunity_id"] for r in deals.json()["records"]} == DEALS[who]
    assert deals.json()["total"] == len(DEALS[who])
    goals = client.get("/api/v1/sales/goals", headers=h).json()
    assert {g["goal_id"] for g in goals["personal"]} == GOALS[who]
    assert [g["goal_id"] for g in goals["team"]] == ["g0"]  # team goals: every role
    forecast = client.get("/api/v1/sales/forecast", headers=h).json()
    assert {f["team"] for f in forecast["forecast"]} == {"all", "East"}
    assert [m["method"] for m in forecast["model_check"]] == ["model", "crm_probability", "stage_only"]
    metric = client.get("/api/v1/metrics/sales_bookings", headers=h).json()
    assert {r["owner_id"] for r in metric["records"]} == BOOKED[who]


def test_api_below_benchmark_filter_and_auth(seeded):
    app, keys = seeded
    client = TestClient(app)
    r = client.get("/api/v1/sales/opportunities?below_benchmark=true", headers={"X-API-Key": keys["rita"]})
    assert {d["opportunity_id"] for d in r.json()["records"]} == {"o1", "o4"}
    assert client.get("/api/v1/sales/opportunities").status_code == 401


@pytest.mark.parametrize("who", list(DEALS))
def test_sales_page_shows_only_the_viewers_bookings(seeded, who):
    client = signed_in(seeded[0], who)
    page = client.get("/sales")
    assert page.status_code == 200
    names = {"r1": "Rita Rep", "r2": "Raj Rep", "r3": "Olga Other"}
    shown = {m for m, n in names.items() if re.search(rf"<td>{n}</td>", page.text)}
    assert shown == BOOKED[who]
    assert 'id="team-goals"' in page.text and 'id="forecast"' in page.text
    drill = client.get("/sales?month=2024-06&type=add_on")
    assert {f"Deal {o}" for o in DEALS[who]} == set(re.findall(r"<td>(Deal o\d)</td>", drill.text))


def test_pipeline_review_is_for_managers_and_remembers_the_last_review(seeded):
    assert signed_in(seeded[0], "rita").get("/pipeline-review").status_code == 403
    mia = signed_in(seeded[0], "mia")
    page = mia.get("/pipeline-review")
    assert page.status_code == 200 and "no review recorded yet" in page.text
    assert set(re.findall(r"<td>(Deal o\d)</td>", page.text)) == {f"Deal {o}" for o in DEALS["mia"]}
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = mia.post("/pipeline-review", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    again = mia.get("/pipeline-review")
    assert "last review" in again.text and "by mia" in again.text and 'id="changes"' in again.text
    assert mia.post("/pipeline-review", data={"csrf_token": "forged"}).status_code in (400, 403)
