"""The Account 360 page shows reasons in plain words coloured by direction, caps marked, and the churn window."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from retain.models.reasons import reason
from retain.server.app import create_app
from retain.server.settings import Settings
from retain.state import testing, users
from retain.state.publish import publish
from retain.warehouse import Warehouse

REASONS = [reason("utilisation", 0.41, 0.06, {"licences": 704.0}, 0.71),
           reason("days_since_activity", 0.2, 35.0, peer=12.0),
           reason("tenure_days", -0.3, 870.0)]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('p') / 'app.sqlite'}", dev=True))
    wh = testing.build(Warehouse.open(":memory:"))
    wh.store_result("health_scores", pd.DataFrame({
        "account_id": ["a4"], "scorecard": "standard", "total": [40.0], "raw_total": [63.0], "cap": [40.0],
        "grade": ["red"], "critical_factor": ["detractor"], "capped_by": ["detractor"],
        "score_note": ["capped at 40: last NPS 4 or below"]}), testing.AS_OF)
    wh.store_result("propensity", pd.DataFrame({"account_id": ["a4"], "churn_probability": [0.0],
                                                "reasons": [json.dumps(REASONS)]}), testing.AS_OF)
    with app.state.runtime.sessions() as db:
        publish(wh, db, testing.AS_OF)
        admin = users.create_user(db, "admin", testing.PASSWORDS["admin"], "admin")
        key, _ = users.create_key(db, admin, "admin-read", "read")
    c = TestClient(app)
    form = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    c.post("/login", data={"username": "admin", "password": testing.PASSWORDS["admin"], "csrf_token": token,
                           "next": "/accounts"}, follow_redirects=False)
    c.key = key
    return c


def test_reasons_are_sentences_with_units_coloured_by_direction(client):
    page = client.get("/accounts/a4").text
    assert ('<li class="reason raises" title="raises risk">licences used: 6 % of 704 seats; '
            'similar accounts: 71 %</li>') in page
    assert '<li class="reason raises" title="raises risk">last contact 35 days ago; similar accounts: 12 days</li>' \
        in page
    assert '<li class="reason lowers" title="lowers risk">customer for 2.4 years</li>' in page
    assert '<li class="reason raises" title="raises risk">capped at 40: last NPS 4 or below</li>' in page
    assert "(0.06)" not in page and "870.0" not in page


def test_churn_window_is_stated_and_zero_is_not_red(client):
    page = client.get("/accounts/a4").text
    assert "Churn within 90 days" in page
    assert '<span class="risk-low" title="probability of churn within 90 days">0%</span>' in page
    listing = client.get("/accounts").text
    assert "(90 d)" in listing


def test_api_describes_the_window_and_returns_directions(client):
    schema = client.get("/api/openapi.json").json()
    assert "churns within 90 days" in json.dumps(schema["components"]["schemas"]["AccountPublic"])
    assert set(schema["components"]["schemas"]["ReasonPublic"]["properties"]) == {"phrase", "direction"}
    body = client.get("/api/v1/accounts/a4", headers={"X-API-Key": client.key}).json()
    assert body["reasons"][0] == {"phrase": "capped at 40: last NPS 4 or below", "direction": "raises"}
    assert {"phrase": "customer for 2.4 years", "direction": "lowers"} in body["reasons"]
