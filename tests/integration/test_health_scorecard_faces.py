"""Every face shows the scorecard the main job's health section used: its calibrated churn chance when fitted, the
shipped default's warning otherwise (CLI, Portfolio and Account pages, the API's account detail and its OpenAPI).

Two companies in DuckDB files: a snapshot export with enough churn for a fit, and a small one without; each gets
the health section of the main job, is published into a SQLite app database and read through every face."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from retain.cli.main import app as cli
from retain.jobs.health import health_section
from retain.server.app import create_app
from retain.server.settings import Settings
from retain.state import users
from retain.state.models import Role
from retain.state.publish import publish
from retain.warehouse import Warehouse

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "health"))
from health_synth import END, build  # noqa: E402
from test_health_fit_categories import DAY, snapshot  # noqa: E402

runner = CliRunner()
PASSWORD = "faces-health-pw-1"


def _company(folder: Path, fill, day):
    path = folder / "w.duckdb"
    wh = fill(Warehouse.open(path))
    section = health_section(wh, day)
    scores = wh.execute(wh.result("health_scores", day)).sort_values("total")
    web = create_app(Settings(database_url=f"sqlite:///{folder / 'app.sqlite'}", dev=True))
    with web.state.runtime.sessions() as db:
        publish(wh, db, day)
        user = users.create_user(db, "boss", PASSWORD, Role.ADMIN)
        key, _ = users.create_key(db, user, "boss-read", "read")
    wh.con.disconnect()
    return {"db": str(path), "web": web, "key": key, "section": section, "scores": scores, "day": day}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    return _company(tmp_path_factory.mktemp("hs_fitted"), snapshot, DAY)


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return _company(tmp_path_factory.mktemp("hs_default"), lambda wh: build(wh, accounts=25, seed=5), END)


def _signed_in(web) -> TestClient:
    client = TestClient(web)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token, "next": "/"},
                follow_redirects=False)
    return client


def _api(company, account_id: str) -> dict:
    r = TestClient(company["web"]).get(f"/api/v1/accounts/{account_id}", headers={"X-API-Key": company["key"]})
    assert r.status_code == 200, r.text
    return r.json()


def test_fitted_scorecard_and_its_churn_chance_agree_on_every_face(fitted):
    account = fitted["scores"].iloc[0]  # the riskiest
    choice = fitted["section"].choice
    api = _api(fitted, account["account_id"])["health_scorecard"]
    assert api["fitted"] and api["warning"] is None and api["scorecard"] == choice.name
    assert api["digest"] == choice.digest and api["horizon_days"] == 90
    assert api["churn_probability"] == pytest.approx(account["churn_probability"])
    percent = f"{100 * account['churn_probability']:.0f} % chance of churn within 90 days"
    client = _signed_in(fitted["web"])
    page = client.get(f"/accounts/{account['account_id']}").text
    assert percent in page and choice.name in page and 'id="health-warning"' not in page
    assert 'id="health-warning"' not in client.get("/").text
    out = runner.invoke(cli, ["--db", fitted["db"], "explain", account["account_id"], "--as-of",
                              fitted["day"].isoformat()], terminal_width=250)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())  # the console wraps long lines
    assert percent in text and choice.name in text and "warning" not in text


def test_the_default_scorecard_warns_on_every_face(default):
    warning = default["section"].warning
    assert warning and "shipped default scorecard" in warning
    account = default["scores"].iloc[0]["account_id"]
    api = _api(default, account)["health_scorecard"]
    assert not api["fitted"] and api["warning"] == warning and api["churn_probability"] is None
    client = _signed_in(default["web"])
    shown = warning.replace("`", "&#96;")
    for page in (client.get("/").text, client.get(f"/accounts/{account}").text):
        block = page.split('id="health-')[1].split("</p>")[0]
        assert "shipped default scorecard" in block and "retain health fit" in block.replace("&#96;", "`"), shown
    out = runner.invoke(cli, ["--db", default["db"], "score", "--as-of", default["day"].isoformat()],
                        terminal_width=250)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "warning:" in text and "shipped default scorecard" in text


def test_openapi_documents_the_field(default):
    spec = TestClient(default["web"]).get("/api/openapi.json").json()
    detail = spec["components"]["schemas"]["AccountDetailPublic"]["properties"]
    assert "health_scorecard" in detail
    fields = spec["components"]["schemas"]["HealthScorecardPublic"]["properties"]
    assert {"scorecard", "fitted", "warning", "churn_probability", "horizon_days"} <= set(fields)
    assert "shipped default" in fields["fitted"]["description"]
