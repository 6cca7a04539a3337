"""The application database from a run's point of view: publish, the demo's sign-ins, users and keys."""

from __future__ import annotations

import pytest

from retain.errors import RetainError
from retain.jobs.publish import app_database, prepare_demo, publish_snapshots, upgrade_database
from retain.state import testing, users
from retain.state.demo import demo_people
from retain.state.models import Role
from retain.warehouse import Warehouse


@pytest.fixture
def company(tmp_path) -> tuple[str, str]:
    """The state layer's tiny company in a DuckDB file, and an empty application database beside it."""
    path = tmp_path / "w.duckdb"
    wh = testing.build(Warehouse.open(path))
    wh.con.disconnect()
    return str(path), f"sqlite:///{tmp_path / 'app.sqlite'}"


def test_publish_snapshots_reports_what_it_wrote(company):
    path, url = company
    wh = Warehouse.open(path)
    published = publish_snapshots(wh, url, testing.AS_OF)
    assert published.as_of == testing.AS_OF and published.accounts == 6
    assert {"health_scores", "propensity", "clv"} <= set(published.results_used)
    assert list(published.results_used) == sorted(published.results_used)
    with app_database(url) as db:
        assert demo_people(db) == {"member": "r1", "manager": "m1"}  # Rita owns the most accounts; Mia manages her


def test_prepare_demo_publishes_and_creates_the_sign_ins_once(company):
    path, url = company
    setup = prepare_demo(path, url)
    assert setup.published.accounts == 6
    assert [(x.username, x.password, x.role, x.member_id) for x in setup.logins] == [
        ("admin", "admin-demo", Role.ADMIN, None), ("manager", "manager-demo", Role.MANAGER, "m1"),
        ("csm", "csm-demo", Role.MEMBER, "r1")]
    assert [x.label for x in setup.logins] == ["admin", "manager (m1)", "member (r1)"]
    again = prepare_demo(path, url)  # a second demo keeps the users (and their passwords) as they are
    assert [x.username for x in again.logins] == ["admin", "manager", "csm"]
    with app_database(url) as db:
        assert [u.username for u in users.list_users(db)] == ["admin", "csm", "manager"]
        assert users.authenticate(db, "csm", "csm-demo").member_id == "r1"


def test_users_and_keys_through_state_functions(company):
    _, url = company
    revision, shown = upgrade_database(url)
    assert revision and shown.startswith("sqlite:///")
    with app_database(url) as db:
        assert users.ensure_user(db, "ana", "a-long-password", "admin") is True
        assert users.ensure_user(db, "ana", "another-password", "member", member_id="r1") is False
        assert users.require_user(db, "ana").role == "admin"
        with pytest.raises(RetainError, match="no user 'bob'") as caught:
            users.require_user(db, "bob")
        assert caught.value.hint == "see `retain users list`" and caught.value.exit_code == 1
        key, row = users.create_key(db, users.require_user(db, "ana"), "ci", "read")
        assert users.check_key(db, key)[1].username == "ana" and row.scope == "read"
