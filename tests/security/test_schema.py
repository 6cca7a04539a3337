"""Issue 10, findings 7 and 8: account ids with '/' open everywhere; the OpenAPI document says exactly what is accepted.

Agreement is checked with a JSON Schema validator (jsonschema_rs, which Schemathesis brings) on the schemas that
``/api/openapi.json`` publishes, against what the server answers for the same values.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from hostile_book import HOSTILE, hostile_app, signed_in

from retain.schema import TABLES
from retain.server.testing import seeded_app
from retain.warehouse import Warehouse

ACCOUNT_ROUTES = ("/api/v1/accounts/{}", "/api/v1/accounts/{}/components", "/api/v1/accounts/{}/history")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """(app, read keys) of a dashboard whose published book holds the hostile accounts."""
    return hostile_app(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'app.sqlite'}")


def path_id(account_id: str) -> str:
    return quote(account_id, safe="")


# -- finding 7: ids containing '/' (and %, ?, #, spaces, Chinese) ------------------------------------------------


@pytest.mark.parametrize("account_id", list(HOSTILE))
def test_every_account_route_opens_an_id_with_reserved_characters(hostile, account_id):
    app, keys = hostile
    client = TestClient(app)
    for user in ("admin", "olga"):
        h = {"X-API-Key": keys[user]}
        detail = client.get(ACCOUNT_ROUTES[0].format(path_id(account_id)), headers=h)
        assert detail.status_code == 200, (user, detail.text)
        assert detail.json()["account_id"] == account_id and detail.json()["name"] == HOSTILE[account_id]
        components = client.get(ACCOUNT_ROUTES[1].format(path_id(account_id)), headers=h)
        assert components.status_code == 200 and [c["component"] for c in components.json()] == ["usage"]
        history = client.get(ACCOUNT_ROUTES[2].format(path_id(account_id)), headers=h)
        assert history.status_code == 200 and [p["health_total"] for p in history.json()] == [70.0, 40.0]
    page = signed_in(app, "admin").get(f"/accounts/{path_id(account_id)}")
    assert page.status_code == 200
    assert f'<small class="id">{account_id.replace("&", "&amp;")}</small>' in page.text


@pytest.mark.parametrize("account_id", list(HOSTILE))
def test_an_id_with_reserved_characters_stays_hidden_from_a_member_who_may_not_see_it(hostile, account_id):
    app, keys = hostile
    client = TestClient(app)
    for route in ACCOUNT_ROUTES:
        r = client.get(route.format(path_id(account_id)), headers={"X-API-Key": keys["rita"]})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", route
    assert signed_in(app, "rita").get(f"/accounts/{path_id(account_id)}").status_code == 404


def test_an_unencoded_slash_in_the_path_works_too(hostile):
    app, keys = hostile
    client = TestClient(app)
    h = {"X-API-Key": keys["admin"]}
    assert client.get("/api/v1/accounts/acme/emea", headers=h).json()["account_id"] == "acme/emea"
    assert client.get("/api/v1/accounts/acme/emea/history", headers=h).status_code == 200
    assert client.get("/api/v1/accounts/acme/nothing", headers=h).status_code == 404


def test_list_links_quote_the_id_and_lead_to_the_account(hostile):
    app, _ = hostile
    client = signed_in(app, "admin")
    html = client.get("/accounts?region=west&per_page=200").text
    links = set(re.findall(r'href="(/accounts/[^"]+)"', html))
    assert {f"/accounts/{path_id(a)}" for a in HOSTILE} <= links
    for account_id in HOSTILE:
        assert client.get(f"/accounts/{path_id(account_id)}").status_code == 200


def test_openapi_documents_the_account_id_path_parameter(hostile):
    doc = TestClient(hostile[0]).get("/api/openapi.json").json()
    for path in ("/v1/accounts/{account_id}", "/v1/accounts/{account_id}/components",
                 "/v1/accounts/{account_id}/history"):
        (param,) = doc["paths"][path]["get"]["parameters"]
        assert param["name"] == "account_id" and param["in"] == "path" and param["required"]
        assert param["description"] and param["schema"]["maxLength"] == 128
    assert not any(":path" in path for path in doc["paths"])


# -- finding 8: schema and behaviour agree -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schema")
    warehouse = str(folder / "wh.duckdb")
    Warehouse.open(warehouse).con.disconnect()
    app, keys = seeded_app(f"sqlite:///{folder / 'app.sqlite'}", warehouse=warehouse)
    client = TestClient(app)
    return client, keys, client.get("/api/openapi.json").json()


def validator(doc: dict, schema: dict):
    """A validator of ``schema`` (a part of ``doc``) whose ``$ref`` resolve in ``doc``; formats are checked."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": doc.get("components", {})},
                                              validate_formats=True)


def query_schema(doc: dict, path: str, name: str) -> dict:
    (param,) = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name]
    return param["schema"]


@pytest.mark.parametrize("value", ["2024-12-31", "0", "20241231", "1e3", "2024-12-31T00:00:00", "2024-02-30",
                                   "٢٠٢٤-١٢-٣١", "-1"])
def test_renewal_before_takes_an_iso_date_exactly_as_the_schema_says(seeded, value):
    client, keys, doc = seeded
    for path in ("/v1/accounts", "/v1/scores"):
        valid = validator(doc, query_schema(doc, path, "renewal_before")).is_valid(value)
        r = client.get(f"/api{path}", params={"renewal_before": value}, headers={"X-API-Key": keys["admin"]})
        assert (r.status_code == 200) == valid and r.status_code in (200, 422), (path, value, r.text)
        assert valid == (value == "2024-12-31"), value


def test_renewal_before_zero_is_refused_on_the_page_too(seeded):
    page = signed_in(seeded[0].app, "admin")
    assert page.get("/accounts?renewal_before=0").status_code == 400
    assert page.get("/accounts?renewal_before=2024-12-31").status_code == 200


TEXT_FILTERS = ("q", "grade", "segment", "region", "owner_id", "adoption_tier", "status")


@pytest.mark.parametrize("value", ["east", "北京", "a b", "a\x00b", "tab\there", "line\n", "\x7f", "\x1b[31m",
                                   "\u0085"])
def test_text_filters_refuse_control_characters_as_the_schema_declares(seeded, value):
    client, keys, doc = seeded
    for name in TEXT_FILTERS:
        schema = query_schema(doc, "/v1/accounts", name)
        assert "pattern" in str(schema), name  # declared, not only enforced
        valid = validator(doc, schema).is_valid(value)
        r = client.get("/api/v1/accounts", params={name: value}, headers={"X-API-Key": keys["admin"]})
        assert (r.status_code == 200) == valid and r.status_code in (200, 422), (name, repr(value), r.text)


def ingest_body_validator(doc: dict):
    body = doc["paths"]["/v1/ingest"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return validator(doc, body)


def test_ingest_schema_names_exactly_the_canonical_tables(seeded):
    doc = seeded[2]
    schema = doc["components"]["schemas"]["IngestRequest"]["properties"]["tables"]
    assert schema["propertyNames"]["enum"] == list(TABLES) and schema["maxProperties"] == len(TABLES)
    check = ingest_body_validator(doc)
    assert not check.is_valid({"tables": {"": []}}) and not check.is_valid({"tables": {"nope": []}})
    assert check.is_valid({"tables": {"accounts": []}})


BODIES = [
    {"tables": {"": []}},  # schema-valid before: refused all the same
    {"tables": {"nope": [{"a": 1}]}},
    {"tables": {"accounts": [{"": None, "\x00": None}]}},  # two names that collide: was a 500
    {"tables": {"accounts": [{"name\x1b": "x"}]}},
    {"tables": {"accounts": [{"x" * 129: 1}]}},
    {"tables": {}},
]


@pytest.mark.parametrize("body", BODIES)
def test_ingest_bodies_the_schema_refuses_are_refused(seeded, body):
    client, keys, doc = seeded
    assert not ingest_body_validator(doc).is_valid(body)
    r = client.post("/api/v1/ingest", json=body, headers={"X-API-Key": keys["admin-write"]})
    assert r.status_code == 422 and r.json()["error"]["status"] == 422, r.text


def test_ingest_numbers_beyond_64_bits_are_a_row_problem_not_a_crash(seeded):
    client, keys, doc = seeded
    body = {"tables": {"accounts": [{"account_id": "big", "name": "Big", "created_at": "2024-06-01T00:00:00Z",
                                     "employees": 2**70}]}}
    assert ingest_body_validator(doc).is_valid(body)
    r = client.post("/api/v1/ingest", json=body, headers={"X-API-Key": keys["admin-write"]})
    refused_as_malformed = r.json().get("error", {}).get("message") == "the request is not valid"
    assert r.status_code in (200, 422) and not refused_as_malformed, r.text
