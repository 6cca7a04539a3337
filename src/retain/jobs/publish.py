"""The application database from a run's point of view: open (and migrate) it, publish the warehouse's state into
it, and set up the demo's sign-ins. The faces resolve the database URL (``retain.server.settings``) and render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from retain.state import users
from retain.state.db import app_database, current_revision, make_engine, upgrade
from retain.state.demo import demo_people
from retain.state.models import Role
from retain.state.publish import publish
from retain.warehouse import Warehouse

DEMO_USERS = (("admin", Role.ADMIN), ("manager", Role.MANAGER), ("csm", Role.MEMBER))  # sign-in name, role




def upgrade_database(url: str) -> tuple[str | None, str]:
    """Create or migrate the application database; returns its revision and its URL (password hidden)."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        return current_revision(engine), repr(engine.url)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Published:
    """What a publish wrote: the day, the accounts, and the stored results it found and used."""

    as_of: dt.date
    accounts: int
    results_used: tuple[str, ...]


def _published(db: Session, wh: Warehouse, as_of: dt.date | None) -> Published:
    run = publish(wh, db, as_of)
    found = tuple(sorted(k for k, v in (run.sources or {}).items() if v))
    return Published(run.as_of, run.accounts, found)


def publish_snapshots(wh: Warehouse, url: str, as_of: dt.date | None = None) -> Published:
    """Copy accounts, scores and metric results as of ``as_of`` (default: the one clock's day) into the app database."""
    with app_database(url) as db:
        return _published(db, wh, as_of)


@dataclass(frozen=True)
class DemoLogin:
    """A demo sign-in: name, password, role and the team member it acts as."""

    username: str
    password: str
    role: Role
    member_id: str | None = None

    @property
    def label(self) -> str:
        return self.role.value + (f" ({self.member_id})" if self.member_id else "")


@dataclass(frozen=True)
class DemoSetup:
    published: Published
    logins: tuple[DemoLogin, ...]


def prepare_demo(warehouse: str, url: str) -> DemoSetup:
    """What ``retain demo`` does before serving: publish, then create the demo users (admin; a manager and a CSM
    when the published team has one), each with the password ``<name>-demo``; existing users are kept."""
    wh = Warehouse.open(warehouse)
    logins: list[DemoLogin] = []
    try:
        with app_database(url) as db:
            published = _published(db, wh, None)
            people = demo_people(db)
            acts_as = {Role.ADMIN: None, Role.MANAGER: people["manager"], Role.MEMBER: people["member"]}
            for username, role in DEMO_USERS:
                member_id = acts_as[role]
                if role is not Role.ADMIN and not member_id:
                    continue
                login = DemoLogin(username, f"{username}-demo", role, member_id)
                users.ensure_user(db, login.username, login.password, role, member_id=member_id, actor="demo")
                logins.append(login)
    finally:
        wh.con.disconnect()
    return DemoSetup(published, tuple(logins))
