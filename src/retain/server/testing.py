"""A seeded server for tests: the tiny company of :mod:`retain.state.testing` published, four users and their keys."""

from __future__ import annotations

from retain.server.app import create_app
from retain.server.settings import Settings
from retain.state import users
from retain.state.publish import publish
from retain.state.testing import AS_OF, PASSWORDS, ROLES, build
from retain.warehouse import Warehouse


def seeded_app(database_url: str, **settings):
    """A dashboard on ``database_url`` with the tiny company published and four users; returns (app, read keys).

    Users: ``admin``; ``mia`` (manager of r1 and r2); ``rita`` (member r1: a1, a2); ``olga`` (member r3: a5, a6).
    """
    app = create_app(Settings(database_url=database_url, dev=True, **settings))
    wh = build(Warehouse.open(":memory:"))
    keys = {}
    with app.state.runtime.sessions() as db:
        publish(wh, db, AS_OF)
        for name, (role, member_id) in ROLES.items():
            user = users.create_user(db, name, PASSWORDS[name], role, member_id=member_id)
            keys[name], _ = users.create_key(db, user, f"{name}-read", "read")
        keys["admin-write"], _ = users.create_key(db, users.list_users(db)[0], "admin-write", "write")
    return app, keys
