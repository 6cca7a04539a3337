"""The actions API: CTAs, tasks and notes with role scope from the query layer, writers only with a write key, one
error shape, and the webhook messages documented in the OpenAPI document (checked against what is really sent)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from tests.unit.web_action.today_seed import action_app


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    return action_app(f"sqlite:///{tmp_path_factory.mktemp('actions_api') / 'app.sqlite'}")


@pytest.fixture(scope="module")
def api(seeded):
    app, keys, _ = seeded
    client = TestClient(app)

    def call(method: str, url: str, key: str, **kw):
        return client.request(method, "/api/v1" + url, headers={"X-API-Key": keys[key]}, **kw)
    return call


@pytest.fixture(scope="module")
def ids(seeded):
    return seeded[2]


def listed(api, key: str, **params) -> list[int]:
    r = api("GET", "/ctas", key, params=params)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def test_each_key_lists_and_reads_only_its_scope(api, ids):
    assert listed(api, "rita") == [ids["rita_high"], ids["rita_overdue"]]
    assert listed(api, "mia") == [ids["raj_escalated"], ids["rita_high"], ids["rita_overdue"]]
    assert set(listed(api, "olga")) == {ids["olga_low"], ids["unowned"]}
    assert len(listed(api, "admin")) == 5
    assert api("GET", f"/ctas/{ids['rita_high']}", "olga").status_code == 404
    body = api("GET", f"/ctas/{ids['rita_high']}", "rita").json()
    assert body["account_name"] == "Acme Corp" and body["evidence"]["grade"] == "red"
    assert [t["title"] for t in body["tasks"]] == ["Call the sponsor", "Check the invoice"]
    assert api("GET", f"/ctas/{ids['rita_high']}/tasks", "olga").json()["error"]["code"] == "not_found"
    assert [t["seq"] for t in api("GET", f"/ctas/{ids['rita_high']}/tasks", "mia").json()] == [1, 2]


def test_filters_and_pages_are_validated(api, ids):
    assert listed(api, "admin", status="done") == [ids["rita_done"]]
    assert listed(api, "admin", priority="critical") == [ids["raj_escalated"]]
    assert listed(api, "admin", due_before="2024-06-30") == [ids["raj_escalated"], ids["rita_overdue"]]
    assert listed(api, "admin", owner="m1") == [ids["raj_escalated"]]
    page = api("GET", "/ctas", "admin", params={"per_page": 2, "page": 3}).json()
    assert (page["total"], page["pages"], len(page["items"])) == (5, 3, 1)
    for bad in ({"status": "lost"}, {"priority": "urgent"}, {"due_before": "soon"}, {"per_page": 1000},
                {"unknown": 1}):
        r = api("GET", "/ctas", "admin", params=bad)
        assert r.status_code in (400, 422) and "error" in r.json(), bad


def test_writes_need_a_write_key_and_follow_the_lifecycle(api, ids):
    cta = ids["unowned"]
    assert api("PATCH", f"/ctas/{cta}", "admin", json={"status": "done"}).status_code == 403  # a read key
    r = api("PATCH", f"/ctas/{cta}", "admin-write", json={"status": "snoozed"})
    assert r.status_code == 422 and "until" in r.text
    r = api("PATCH", f"/ctas/{cta}", "admin-write", json={"status": "snoozed", "until": "2024-06-01",
                                                             "reason": "later"})
    assert r.status_code == 409 and "not after 2024-06-30" in r.json()["error"]["message"]
    r = api("PATCH", f"/ctas/{cta}", "admin-write", json={"status": "snoozed", "until": "2024-07-31",
                                                             "reason": "customer on holiday", "owner_id": "r3"})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["snoozed_until"], r.json()["owner_id"]) == ("snoozed", "2024-07-31", "r3")
    assert api("PATCH", f"/ctas/{cta}", "admin-write", json={"status": "dismissed"}).status_code == 422
    assert api("PATCH", f"/ctas/{cta}", "admin-write", json={"owner_id": "nobody"}).status_code == 404
    r = api("PATCH", f"/ctas/{cta}", "admin-write", json={"status": "dismissed", "reason": "duplicate"})
    assert r.json()["status"] == "dismissed" and r.json()["closed_on"] == "2024-06-30"
    assert api("PATCH", f"/ctas/{cta}", "admin-write", json={"status": "done"}).status_code == 409  # closed
    assert api("PATCH", "/ctas/999999", "admin-write", json={"status": "done"}).status_code == 404
    assert api("PATCH", f"/ctas/{cta}", "admin-write", json={"colour": "red"}).status_code == 422


def test_tasks_are_checked_off_once(api, ids):
    task = api("GET", f"/ctas/{ids['raj_escalated']}/tasks", "admin").json()[0]["id"]
    assert api("POST", f"/tasks/{task}/done", "rita").status_code == 403
    r = api("POST", f"/tasks/{task}/done", "admin-write")
    assert r.status_code == 200 and (r.json()["status"], r.json()["done_by"]) == ("done", "admin")
    again = api("POST", f"/tasks/{task}/done", "admin-write")
    assert again.status_code == 409 and "already done" in again.json()["error"]["message"]
    assert api("POST", "/tasks/999999/done", "admin-write").status_code == 404


def test_notes_read_with_scope_and_written_with_a_write_key(api):
    r = api("POST", "/accounts/a2/notes", "admin-write", json={"body": "Renewal call booked"})
    assert r.status_code == 201 and r.json()["author"] == "admin"
    assert [n["body"] for n in api("GET", "/accounts/a2/notes", "rita").json()] == ["Renewal call booked"]
    assert api("GET", "/accounts/a2/notes", "olga").status_code == 404  # not her account: as if missing
    assert api("POST", "/accounts/a2/notes", "rita", json={"body": "x"}).status_code == 403
    for bad in ("", "  \n ", "nul\x00"):
        assert api("POST", "/accounts/a2/notes", "admin-write", json={"body": bad}).status_code == 422, bad
    assert api("POST", "/accounts/nope/notes", "admin-write", json={"body": "x"}).status_code == 404
    assert api("GET", "/accounts/a2", "rita").json()["account_id"] == "a2"  # the account route still answers


def test_the_openapi_document_describes_the_webhooks_as_they_are_sent(seeded):
    from retain.delivery.webhook import body
    from retain.state.outbox import OutboxMessage

    doc = TestClient(seeded[0]).get("/api/openapi.json").json()
    assert "X-Retain-Signature" in doc["info"]["description"] and set(doc["webhooks"]) == {"cta_alert", "digest"}
    schema = doc["components"]["schemas"]["WebhookMessage"]
    message = OutboxMessage(idempotency_key="cta_alert:1:webhook", kind="cta_alert", subject="s", text="t",
                            account_id="a1", payload={"cta_id": 1}, created_at=dt.datetime(2024, 6, 30, 12))
    assert set(body(message)) == set(schema["properties"])  # the documented fields are exactly the sent ones
    paths = doc["paths"]
    for path in ("/v1/ctas", "/v1/ctas/{cta_id}", "/v1/ctas/{cta_id}/tasks", "/v1/tasks/{task_id}/done",
                 "/v1/accounts/{account_id}/notes"):
        assert path in paths, path
