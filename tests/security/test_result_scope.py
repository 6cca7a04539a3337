"""Finding 1 (high): published results read by the API and the pages stay within the reader's role scope.

Before the fix ``GET /api/v1/metrics/call_metrics`` returned every call of the company to a member's key, and
``lead_recovery`` every owner's leads. Every declared result is checked here for every role, on the API and on the
page that shows it, against sets written out by hand from the tiny company (``retain.state.testing``).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from retain.server.testing import seeded_app
from retain.state import testing

CALLS = {"admin": {"c1", "c2", "c3", "c4", "c5", "c6"}, "mia": {"c1", "c2", "c4", "c6"}, "rita": {"c1", "c4"},
         "olga": {"c3", "c4", "c5", "c6"}}  # rep in scope, or account in scope (c4: Olga's call on Rita's a1)
LEADS = {"admin": {"l1", "l2", "l3", "l4", "l5"}, "mia": {"l1", "l2", "l5"}, "rita": {"l1"}, "olga": {"l3"}}
BOOKS = {"admin": {"r1", "r2", "r3"}, "mia": {"r1", "r2"}, "rita": {"r1"}, "olga": {"r3"}}  # book_revenue owners
COMPANY = ("retention", "revenue_retention", "cohorts_logo", "cohorts_revenue", "survival", "products_held", "pareto",
           "doctor", "survey_trends", "survey_outcomes", "survey_themes", "sales_team_goals", "sales_forecast",
           "sales_backtest", "sales_model_check", "win_loss", "sales_capacity")
SALES_OWNED = ("opportunity_scores", "sales_goals", "sales_bookings", "sales_deals")  # scoped: test_sales_api.py


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scope")
    return seeded_app(f"sqlite:///{folder / 'app.sqlite'}")


@pytest.fixture(scope="module")
def client(seeded):
    return TestClient(seeded[0])


def _get(client: TestClient, key: str, name: str) -> list[dict]:
    response = client.get(f"/api/v1/metrics/{name}", headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return response.json()["records"]


@pytest.mark.parametrize("who", list(CALLS))
def test_api_call_metrics_and_leads_are_scoped(client, seeded, who):
    key = seeded[1][who]
    assert {r["conversation_id"] for r in _get(client, key, "call_metrics")} == CALLS[who]
    assert {r["lead_id"] for r in _get(client, key, "lead_recovery")} == LEADS[who]
    assert {r["owner_id"] for r in _get(client, key, "book_revenue")} == BOOKS[who]


def test_every_published_result_is_covered_here(client, seeded):
    names = client.get("/api/v1/metrics", headers={"X-API-Key": seeded[1]["rita"]}).json()["names"]
    assert set(names) == {*COMPANY, "call_metrics", "lead_recovery", "book_revenue", *SALES_OWNED}


@pytest.mark.parametrize("who", list(CALLS))
def test_api_company_results_are_whole_for_every_role(client, seeded, who):
    for name in COMPANY:
        assert _get(client, seeded[1][who], name) == _get(client, seeded[1]["admin"], name), name


def sign_in(client: TestClient, user: str) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = client.post("/login", data={"username": user, "password": testing.PASSWORDS[user],
                                           "csrf_token": token, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303, response.text


@pytest.mark.parametrize("who", list(CALLS))
def test_calls_page_is_scoped(seeded, who):
    client = TestClient(seeded[0])
    sign_in(client, who)
    html = client.get("/calls").text
    shown = set(re.findall(r"<td>Lead (l\d)</td>", html))
    assert shown == LEADS[who]
    reps = {m for c, m, _ in testing.CALLS if c in CALLS[who]}
    names = {"r1": "Rita Rep", "r2": "Raj Rep", "r3": "Olga Other", "m1": "Mia Manager"}
    rows = dict(re.findall(r'<tr><td>([^<]+)</td><td class="n">(\d+)</td>', html))
    assert rows == {names[m]: str(sum(1 for c, r, _ in testing.CALLS if r == m and c in CALLS[who])) for m in reps}
    for page in ("/", "/analytics"):
        assert client.get(page).status_code == 200
