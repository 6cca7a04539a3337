"""Success plans through every face on the tiny company: the API (create, read, change an objective), the page
(create and edit with CSRF-protected forms) and the CLI; role scope everywhere (out of scope looks like missing)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from retain.cli.main import app as cli
from retain.server.testing import seeded_app
from retain.state.testing import AS_OF, PASSWORDS, build
from retain.warehouse import Warehouse

A1_LICENCE = 5 * 25 / 30 / 10  # a1: 5 users on each of the last 25 days, 10 seats


@pytest.fixture
def served(tmp_path):
    """The seeded app with a warehouse on disk (plans measure their start values there)."""
    path = tmp_path / "wh.duckdb"
    wh = build(Warehouse.open(path))
    wh.con.disconnect()
    app, keys = seeded_app(f"sqlite:///{tmp_path / 'app.sqlite'}", warehouse=str(path))
    return app, keys, path


def _api(app, key: str) -> TestClient:
    return TestClient(app, headers={"X-API-Key": key})


def test_api_creates_reads_and_edits_a_plan_within_scope(served):
    app, keys, _ = served
    admin = _api(app, keys["admin-write"])  # only admins hold write keys
    created = admin.post("/api/v1/accounts/a1/plan", json={})
    assert created.status_code == 201, created.text
    plan = created.json()
    assert plan["template"] == "enterprise" and plan["created_on"] == AS_OF.isoformat()
    licence = next(o for o in plan["objectives"] if o["metric"] == "license_utilization")
    assert licence["start_value"] == pytest.approx(A1_LICENCE) and licence["target_value"] == 0.8
    changed = admin.patch(f"/api/v1/plans/{plan['id']}/objectives/{licence['id']}", json={"target_value": 0.9})
    assert changed.status_code == 200 and changed.json()["target_value"] == 0.9
    assert admin.post("/api/v1/accounts/a1/plan", json={}).status_code == 400  # one active plan
    bad = admin.post("/api/v1/accounts/a2/plan", json={"template": "gold"})
    assert bad.status_code == 400 and "use one of" in bad.json()["error"]["hint"]
    assert admin.patch(f"/api/v1/plans/{plan['id']}/objectives/{licence['id']}", json={}).status_code == 422

    rita = _api(app, keys["rita"])  # a1 is in her book
    read = rita.get("/api/v1/accounts/a1/plan")
    assert read.status_code == 200 and read.json()["id"] == plan["id"] and read.json()["objectives"][0]["progress"] == 0
    assert rita.patch(f"/api/v1/plans/{plan['id']}/objectives/{licence['id']}",
                      json={"target_value": 0.5}).status_code == 403  # a read key
    assert rita.get("/api/v1/accounts/a2/plan").status_code == 404  # in scope, no plan yet
    olga = _api(app, keys["olga"])  # a1 is not in her book: it looks missing
    missing = olga.get("/api/v1/accounts/a1/plan")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "no account 'a1'"


def _signed_in(app, user: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": user, "password": PASSWORDS[user], "csrf_token": token, "next": "/"})
    return client


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_page_creates_and_edits_a_plan_with_csrf_and_scope(served):
    app, _, _ = served
    rita = _signed_in(app, "rita")
    empty = rita.get("/accounts/a2/plan")
    assert empty.status_code == 200 and 'id="no-plan"' in empty.text and "<option selected>standard" in empty.text
    assert rita.post("/accounts/a2/plan", data={"template": "standard"}).status_code == 403  # no CSRF token
    made = rita.post("/accounts/a2/plan", data={"template": "standard", "csrf_token": _csrf(empty.text)},
                     follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/accounts/a2/plan"
    page = rita.get("/accounts/a2/plan").text
    assert 'id="plan-objectives"' in page and "Health to green" in page and "<progress" in page
    assert '<td class="num">55.0</td>' in page  # a2's health as of the last publish: the start value
    plan_id, objective_id = re.search(r'action="/plans/(\d+)/objectives/(\d+)"', page).groups()
    edited = rita.post(f"/plans/{plan_id}/objectives/{objective_id}",
                       data={"target": "3", "due_on": "2024-12-31", "csrf_token": _csrf(page)}, follow_redirects=False)
    assert edited.status_code == 303
    assert "2024-12-31" in rita.get("/accounts/a2/plan").text
    bad = rita.post(f"/plans/{plan_id}/objectives/{objective_id}", data={"target": "lots", "csrf_token": _csrf(page)})
    assert bad.status_code == 400 and "is not a number" in bad.text

    olga = _signed_in(app, "olga")
    assert olga.get("/accounts/a2/plan").status_code == 404
    other = olga.get("/accounts/a6/plan").text
    assert olga.post(f"/plans/{plan_id}/objectives/{objective_id}",
                     data={"target": "9", "csrf_token": _csrf(other)}).status_code == 404


def test_the_cli_creates_shows_and_refreshes(served, tmp_path):
    _, _, path = served
    env = {"RETAIN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    runner = CliRunner()
    made = runner.invoke(cli, ["--db", str(path), "plans", "create", "a3", "--as-of", AS_OF.isoformat()], env=env)
    assert made.exit_code == 0, made.output
    assert "plan 1 (mid_market) created for a3 with 4 objectives" in made.output
    shown = runner.invoke(cli, ["--db", str(path), "plans", "show", "a3", "--out", str(tmp_path / "o.csv")], env=env)
    objectives = pd.read_csv(tmp_path / "o.csv")
    assert shown.exit_code == 0 and len(objectives) == 4 and "Licence use to 70 %" in set(objectives["title"])
    assert objectives.set_index("metric").loc["products_held", "target_value"] == 1.5  # one product, +50 %
    refreshed = runner.invoke(cli, ["--db", str(path), "plans", "refresh", "--as-of", AS_OF.isoformat()], env=env)
    assert refreshed.exit_code == 0 and "1 plans, 4 objectives measured" in " ".join(refreshed.output.split())
    missing = runner.invoke(cli, ["--db", str(path), "plans", "show", "a4"], env=env)
    assert missing.exit_code == 1 and "no active success plan" in missing.output


def test_plays_effectiveness_says_when_there_is_nothing_to_judge(served, tmp_path):
    _, _, path = served
    env = {"RETAIN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    res = CliRunner().invoke(cli, ["--db", str(path), "plays", "effectiveness", "--source", "ctas", "--as-of",
                                   AS_OF.isoformat()], env=env)
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "no episode old enough to judge (90 days before 2024-06-30)" in flat and "nothing to compare yet" in flat
    bad = CliRunner().invoke(cli, ["--db", str(path), "plays", "effectiveness", "--source", "guess"], env=env)
    assert bad.exit_code == 2 and "is not one of: auto, ctas, backtest" in " ".join(bad.output.split())
