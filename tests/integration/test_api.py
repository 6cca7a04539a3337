"""The API and the pages through an in-process client: auth, roles, error shape, CSRF, cookies, CSV, ingestion."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from retain.errors import ConfigError
from retain.server.app import create_app
from retain.server.settings import Settings
from retain.server.testing import seeded_app
from retain.state import testing
from retain.state.db import make_engine, session_factory
from retain.state.published import RESULTS


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'app.sqlite'}"
    return seeded_app(url, login_attempts=3)


@pytest.fixture
def client(seeded):
    return TestClient(seeded[0])


@pytest.fixture(scope="module")
def keys(seeded):
    return seeded[1]


def sign_in(client: TestClient, user: str, password: str | None = None, **headers):
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"username": user, "password": password or testing.PASSWORDS[user],
                                       "csrf_token": token, "next": "/accounts"},
                       follow_redirects=False, headers=headers)


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message", "hint", "details"}
    assert body["error"]["status"] == status and body["error"]["message"]
    return body["error"]


def test_api_needs_a_valid_key(client, keys):
    assert_error_shape(client.get("/api/v1/accounts"), 401)
    assert_error_shape(client.get("/api/v1/accounts", headers={"X-API-Key": "rk_abc_def"}), 401)
    assert client.get("/api/v1/me", headers={"X-API-Key": keys["rita"]}).json()["role"] == "member"


def test_one_error_shape_for_404_405_422(client, keys):
    h = {"X-API-Key": keys["admin"]}
    assert assert_error_shape(client.get("/api/v1/nothing-here", headers=h), 404)["code"] == "not_found"
    assert assert_error_shape(client.delete("/api/v1/accounts", headers=h), 405)["code"] == "method_not_allowed"
    err = assert_error_shape(client.get("/api/v1/accounts?per_page=0&sort=bogus", headers=h), 422)
    assert {tuple(d["loc"]) for d in err["details"]} == {("query", "per_page"), ("query", "sort")}
    assert_error_shape(client.get("/api/v1/accounts?q=%00", headers=h), 422)
    assert_error_shape(client.get("/api/v1/accounts/%00", headers=h), 404)
    assert_error_shape(client.get("/api/v1/metrics/nope", headers=h), 404)
    assert_error_shape(client.post("/api/v1/ingest", headers=h, content=b"{not json"), 403)  # read key


def test_member_gets_404_for_another_reps_account_by_api(client, keys):
    rita = {"X-API-Key": keys["rita"]}
    listed = client.get("/api/v1/accounts", headers=rita).json()
    assert {a["account_id"] for a in listed["items"]} == {"a1", "a2"} and listed["total"] == 2
    assert client.get("/api/v1/accounts/a1", headers=rita).status_code == 200
    for path in ("/api/v1/accounts/a5", "/api/v1/accounts/a5/history", "/api/v1/accounts/a5/components"):
        assert_error_shape(client.get(path, headers=rita), 404)
    mia = {"X-API-Key": keys["mia"]}
    assert client.get("/api/v1/scores?per_page=200", headers=mia).json()["total"] == 4
    assert_error_shape(client.get("/api/v1/accounts/a6", headers=mia), 404)


def test_account_detail_components_history_metrics(client, keys):
    h = {"X-API-Key": keys["admin"]}
    a1 = client.get("/api/v1/accounts/a1", headers=h).json()
    assert a1["arr"] == 15000.0 and a1["health_grade"] == "green" and len(a1["subscriptions"]) == 2
    assert a1["timeline"][0]["kind"] == "ticket"
    comps = client.get("/api/v1/accounts/a1/components", headers=h).json()
    assert comps[0] == {"component": "usage", "score": 90.0, "weight": 0.6, "extra": {}}
    hist = client.get("/api/v1/accounts/a1/history", headers=h).json()
    assert [p["health_total"] for p in hist] == [78.0, 82.0]
    assert client.get("/api/v1/metrics", headers=h).json() == {"names": sorted(RESULTS)}
    assert client.get("/api/v1/metrics/revenue_retention", headers=h).json()["records"][0]["grr"] == 0.95
    page = client.get("/api/v1/accounts?sort=health_total&order=asc&per_page=2&page=1", headers=h).json()
    assert [a["account_id"] for a in page["items"]] == ["a4", "a6"] and page["pages"] == 3


def test_openapi_has_stable_operation_ids(client):
    spec = client.get("/api/openapi.json").json()
    ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert ops == {"get_me", "list_accounts", "get_account", "get_account_components", "get_account_history",
                   "list_scores", "list_metrics", "get_metric", "ingest_rows",
                   "get_sales_goals", "list_opportunity_scores", "get_sales_forecast",
                   "list_ctas", "get_cta", "update_cta", "list_cta_tasks", "complete_task", "list_account_notes",
                   "add_account_note", "get_account_plan", "create_account_plan", "update_plan_objective",
                   "list_survey_programmes", "list_survey_response_rates"}
    assert client.get("/api/docs").status_code == 200


def test_pages_require_sign_in_and_cookies_are_safe(client):
    r = client.get("/accounts?grade=yellow", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/accounts%3Fgrade%3Dyellow"
    r = sign_in(client, "rita")
    assert r.status_code == 303 and r.headers["location"] == "/accounts"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie.split("retain_prelogin")[0]
    r = sign_in(TestClient(client.app), "rita", **{"X-Forwarded-Proto": "https"})  # not from a trusted proxy
    assert "secure" not in r.headers["set-cookie"].split("retain_prelogin")[0].lower()  # see tests/security


def test_login_rejects_bad_csrf_and_is_rate_limited(seeded):
    client = TestClient(seeded[0])
    client.get("/login")
    r = client.post("/login", data={"username": "olga", "password": testing.PASSWORDS["olga"], "csrf_token": "x"})
    assert r.status_code == 400 and "retain_session" not in client.cookies
    for _ in range(3):
        assert sign_in(client, "olga", "wrong-password").status_code == 401
    assert sign_in(client, "olga").status_code == 429  # limit: 3 failures per address and user


def test_member_gets_404_for_another_reps_account_by_url(client):
    sign_in(client, "rita")
    assert client.get("/accounts/a1").status_code == 200
    r = client.get("/accounts/a5")
    assert r.status_code == 404 and "Umbrella" not in r.text
    page = client.get("/accounts").text
    assert "Acme Corp" in page and "Hooli" not in page
    assert client.get("/admin").status_code == 403
    assert client.get("/book").status_code == 200


def test_every_page_renders_for_admin_and_manager(client):
    sign_in(client, "admin")
    for path in ("/", "/accounts", "/accounts/a4", "/analytics", "/admin", "/team", "/calls",
                 "/accounts?grade=yellow&sort=clv&order=asc&page=1",
                 "/accounts?at_risk=true&renewal_before=2024-12-31"):
        r = client.get(path)
        assert r.status_code == 200, path
    assert testing.CHINESE_NAME in client.get("/accounts/a4").text
    assert client.get("/accounts?health_min=abc").status_code == 400
    assert client.get("/accounts?page=0").status_code == 400
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/vendor/plotly.min.js").headers["content-type"].startswith("text/javascript")
    sign_in(client, "mia")
    team = client.get("/team").text
    assert "Rita Rep" in team and "Raj Rep" in team and "Olga Other" not in team


def test_csv_export_is_the_current_view(client):
    sign_in(client, "admin")
    r = client.get("/accounts.csv?segment=enterprise&sort=arr&order=desc")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert [row["account_id"] for row in rows] == ["a4", "a1"]
    assert rows[0]["name"] == testing.CHINESE_NAME


def test_forms_need_the_csrf_token(client):
    sign_in(client, "admin")
    r = client.post("/admin/users", data={"username": "x1", "password": "long-password", "role": "admin"})
    assert r.status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin").text).group(1)
    r = client.post("/admin/keys", data={"csrf_token": token, "name": "bot", "username": "rita", "scope": "read"})
    assert r.status_code == 200
    key = re.search(r'<pre id="new-key">([^<]+)</pre>', r.text).group(1)
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).json()["username"] == "rita"
    prefix = key.split("_")[1]
    client.post(f"/admin/keys/{prefix}/revoke", data={"csrf_token": token})
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 401
    assert "key.revoke" in client.get("/admin").text
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and client.get("/", follow_redirects=False).status_code == 303


def test_keys_revoked_or_users_deactivated_elsewhere_stop_working(seeded, monkeypatch):
    """A change made by another process (``retain keys revoke``, another worker) reaches this server's key cache
    at its next check (``KEY_CHECK``, 1 s; 0 here)."""
    from retain.server import runtime as runtime_module
    from retain.state import users

    app, _ = seeded
    client = TestClient(app)
    monkeypatch.setattr(runtime_module, "KEY_CHECK", 3600.0)
    engine = make_engine(str(app.state.runtime.engine.url))
    with session_factory(engine)() as db:
        olga = next(u for u in users.list_users(db) if u.username == "olga")
        key, row = users.create_key(db, olga, "elsewhere", "read")
    for _ in range(2):  # cached now
        assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200
    with session_factory(engine)() as db:
        users.revoke_key(db, row.prefix, actor="cli")
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200  # cached until the next check
    monkeypatch.setattr(runtime_module, "KEY_CHECK", 0.0)
    assert_error_shape(client.get("/api/v1/me", headers={"X-API-Key": key}), 401)
    with session_factory(engine)() as db:
        key2, _ = users.create_key(db, olga, "elsewhere-2", "read")
    assert client.get("/api/v1/me", headers={"X-API-Key": key2}).status_code == 200
    with session_factory(engine)() as db:
        users.set_active(db, "olga", False, actor="cli")
    assert_error_shape(client.get("/api/v1/me", headers={"X-API-Key": key2}), 401)
    with session_factory(engine)() as db:
        users.set_active(db, "olga", True, actor="cli")
    assert client.get("/api/v1/me", headers={"X-API-Key": key2}).status_code == 200
    engine.dispose()


def test_api_reads_on_the_event_loop_never_wait_for_the_shared_pool(tmp_path, monkeypatch):
    """Page requests hold pooled connections until their teardown, which runs on the event loop; a read made on
    the loop must not wait for that pool, or a busy server deadlocks (seen at 50 clients: 30 s pool timeouts)."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from retain.server import runtime as runtime_module

    app, keys = seeded_app(f"sqlite:///{tmp_path / 'app.sqlite'}")
    client = TestClient(app)
    runtime = app.state.runtime
    assert client.get("/api/v1/accounts/a1", headers={"X-API-Key": keys["admin"]}).status_code == 200  # key cached
    monkeypatch.setattr(runtime_module, "KEY_CHECK", 0.0)  # the key-revocation check reads on the loop too
    runtime.engine.pool._timeout = 0.5  # a wait on the exhausted pool fails fast instead of after 30 s
    held = []
    try:
        with pytest.raises(PoolTimeout):
            while True:
                held.append(runtime.engine.connect())  # every pooled connection taken, as by busy page requests
        r = client.get("/api/v1/accounts/a1", headers={"X-API-Key": keys["admin"]})
        assert r.status_code == 200 and r.json()["account_id"] == "a1"
    finally:
        for connection in held:
            connection.close()


def test_default_secret_is_refused_outside_dev(tmp_path):
    with pytest.raises(ConfigError, match="default secret"):
        create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite'}"))
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite'}", secret_key="s" * 32))
    assert TestClient(app).get("/healthz").json() == {"ok": True}
