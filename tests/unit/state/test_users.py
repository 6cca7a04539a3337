import datetime as dt

import pytest
from sqlalchemy import select

from retain.errors import NotFoundError, RetainError
from retain.state import users
from retain.state.db import current_revision
from retain.state.models import ApiKey, AuditEvent, User


def test_migrations_reach_head(engine):
    from pathlib import Path

    import retain.state.migrations.versions as versions

    shipped = sorted(p.name[:4] for p in Path(versions.__file__).parent.glob("0*.py"))
    assert shipped[:4] == ["0001", "0002", "0003", "0004"] and current_revision(engine) == shipped[-1]


def test_password_is_argon2_and_checked(db):
    user = users.create_user(db, "ann", "correct horse", "admin")
    assert user.password_hash.startswith("$argon2")
    assert "correct horse" not in user.password_hash
    assert users.authenticate(db, "ann", "correct horse", ip="1.2.3.4").id == user.id
    with pytest.raises(users.AuthError):
        users.authenticate(db, "ann", "wrong password", ip="1.2.3.4")
    actions = [a for (a,) in db.execute(select(AuditEvent.action).order_by(AuditEvent.id))]
    assert actions == ["user.create", "login.success", "login.failed"]


def test_login_is_rate_limited_per_ip_and_user(db):
    users.create_user(db, "bob", "bob-password", "admin")
    limit = users.RateLimit(attempts=3, window=dt.timedelta(minutes=5))
    for _ in range(3):
        with pytest.raises(users.AuthError):
            users.authenticate(db, "bob", "nope-nope", ip="9.9.9.9", limit=limit)
    with pytest.raises(users.RateLimited):  # even the right password is refused now
        users.authenticate(db, "bob", "bob-password", ip="9.9.9.9", limit=limit)
    # another address is not blocked
    assert users.authenticate(db, "bob", "bob-password", ip="8.8.8.8", limit=limit).username == "bob"


def test_members_need_a_member_id_and_names_are_unique(db):
    with pytest.raises(RetainError, match="member-id"):
        users.create_user(db, "cara", "long-enough", "member")
    users.create_user(db, "cara", "long-enough", "member", member_id="r1")
    with pytest.raises(RetainError, match="already exists"):
        users.create_user(db, "cara", "long-enough", "member", member_id="r1")
    with pytest.raises(RetainError, match="too short"):
        users.create_user(db, "dan", "short", "admin")


def test_api_keys_are_hashed_scoped_and_revocable(db):
    admin = users.create_user(db, "root", "root-password", "admin")
    member = users.create_user(db, "mem", "mem-password", "member", member_id="r1")
    key, row = users.create_key(db, admin, "ci", "write")
    stored = db.scalar(select(ApiKey).where(ApiKey.id == row.id))
    assert key not in (stored.key_hash, stored.prefix) and stored.key_hash == users.sha256(key)
    assert users.check_key(db, key)[1].username == "root"
    assert users.check_key(db, key + "x") is None
    assert users.check_key(db, "rk_nothing") is None
    with pytest.raises(RetainError, match="only admins"):
        users.create_key(db, member, "nope", "write")
    users.revoke_key(db, row.prefix, actor="root")
    assert users.check_key(db, key) is None
    with pytest.raises(NotFoundError):
        users.revoke_key(db, "ffffffff")


def test_sessions_expire_and_deactivation_ends_them(db):
    user = users.create_user(db, "eve", "eve-password", "admin")
    token, _ = users.start_session(db, user, dt.timedelta(hours=1))
    assert users.session_user(db, token)[0].username == "eve"
    assert users.session_user(db, "forged") is None
    old, _ = users.start_session(db, user, dt.timedelta(seconds=-1))
    assert users.session_user(db, old) is None
    users.set_active(db, "eve", False, actor="test")
    assert users.session_user(db, token) is None
    assert db.scalar(select(User.is_active).where(User.username == "eve")) is False


def test_migrations_build_exactly_the_models(engine):
    """What Alembic creates equals what the models declare (tables, columns, indexes), on SQLite and PostgreSQL;
    SQLite's FTS5 name index and its shadow tables are ours on purpose and not in the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from retain.state.models import Base

    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    diffs = [d for d in diffs if not (d[0] == "remove_table" and d[1].name.startswith("account_names"))]
    assert diffs == []
