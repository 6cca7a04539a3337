"""Caching of responses (security review, issue 10): what holds customer data is never stored by a browser or a
shared cache; static assets stay cacheable."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from retain.server.testing import seeded_app
from retain.state import testing


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    return seeded_app(f"sqlite:///{tmp_path_factory.mktemp('headers') / 'app.sqlite'}")


def signed_in(app, user: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": user, "password": testing.PASSWORDS[user], "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    return client


def test_pages_exports_and_api_answers_are_never_stored(seeded):
    app, keys = seeded
    client = signed_in(app, "admin")
    for path in ("/", "/accounts", "/accounts/a1", "/team", "/analytics", "/admin", "/accounts.csv"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers.get("cache-control") == "no-store", path
    assert client.get("/accounts/nope").headers.get("cache-control") == "no-store"  # error pages too
    assert TestClient(app).get("/login").headers.get("cache-control") == "no-store"
    api = TestClient(app, headers={"X-API-Key": keys["admin"]})
    for path in ("/api/v1/me", "/api/v1/accounts", "/api/v1/accounts/a1", "/api/v1/metrics/revenue_retention"):
        r = api.get(path)
        assert r.status_code == 200 and r.headers.get("cache-control") == "no-store", path
    assert TestClient(app).get("/api/v1/accounts").headers.get("cache-control") == "no-store"  # 401


def test_static_assets_stay_cacheable(seeded):
    client = TestClient(seeded[0])
    for path in ("/static/app.css", "/static/app.js"):
        r = client.get(path)
        assert r.status_code == 200 and "cache-control" not in r.headers and r.headers["etag"], path
        assert client.get(path, headers={"If-None-Match": r.headers["etag"]}).status_code == 304, path
        assert r.headers["x-content-type-options"] == "nosniff"  # the other security headers still apply
    for path in ("/vendor/plotly.min.js", "/favicon.ico"):
        assert client.get(path).headers["cache-control"] == "public, max-age=86400", path
