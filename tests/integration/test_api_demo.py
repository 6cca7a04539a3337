"""Every page and API read works on the demo company (the `demo_warehouse` fixture), for each demo role."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from retain.server.app import create_app
from retain.server.settings import Settings
from retain.state import users
from retain.state.demo import demo_people as _demo_people
from retain.state.models import AccountSnapshot
from retain.state.publish import publish

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_app(demo_warehouse, tmp_path_factory):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('demo-web') / 'app.sqlite'}",
                              dev=True))
    with app.state.runtime.sessions() as db:
        run = publish(demo_warehouse, db)
        people = _demo_people(db)
        users.create_user(db, "admin", "admin-demo", "admin")
        users.create_user(db, "manager", "manager-demo", "manager", member_id=people["manager"])
        users.create_user(db, "csm", "csm-demo", "member", member_id=people["member"])
        active = db.scalar(select(func.count()).select_from(AccountSnapshot).where(AccountSnapshot.status == "active"))
    assert run.accounts == demo_warehouse.count("accounts") and active > 0
    return app, people


def sign_in(client: TestClient, user: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": user, "password": f"{user}-demo", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303


@pytest.mark.parametrize("user", ["admin", "manager", "csm"])
def test_every_page_renders_on_the_demo(demo_app, user):
    app, people = demo_app
    client = TestClient(app)
    sign_in(client, user)
    pages = ["/", "/accounts", "/accounts?sort=churn_probability&order=desc", "/accounts?at_risk=true",
             "/analytics", "/accounts.csv", "/calls"]
    pages += {"admin": ["/admin", "/team"], "manager": ["/team", "/book"], "csm": ["/book"]}[user]
    for path in pages:
        assert client.get(path).status_code == 200, path
    listed = client.get("/accounts?per_page=5").text
    ids = re.findall(r'href="/accounts/([^"?]+)"', listed)
    assert ids, "no account listed"
    for account_id in ids[:3]:
        assert client.get(f"/accounts/{account_id}").status_code == 200


def test_member_sees_only_their_book_on_the_demo(demo_app):
    app, people = demo_app
    with app.state.runtime.sessions() as db:
        other = db.scalar(select(AccountSnapshot.account_id).where(AccountSnapshot.owner_id != people["member"],
                                                                   AccountSnapshot.csm_id.is_(None)).limit(1))
    client = TestClient(app)
    sign_in(client, "csm")
    assert client.get(f"/accounts/{other}").status_code == 404
