"""The API-key cache is shared by concurrent requests: what it holds must not depend on the session that loaded it.

Under load, one request's ORM update of ``last_used_at`` expired the cached row inside its session, and another
request's read of that row lazy-loaded through the first one mid-commit ("session is in 'prepared' state").
"""

from sqlalchemy import update

from retain.server.runtime import Runtime
from retain.server.settings import Settings
from retain.state import users
from retain.state.db import session_factory
from retain.state.models import ApiKey


def test_cached_key_does_not_depend_on_the_session_that_loaded_it(engine):
    sessions = session_factory(engine)
    with sessions() as db:
        user = users.create_user(db, "ana", "a-long-password-1", "admin")
        key, _ = users.create_key(db, user, "api")
        db.commit()
    runtime = Runtime(Settings(dev=True, database_url=str(engine.url)), engine, sessions)
    with sessions() as first:
        runtime.api_key(first, key)
        first.execute(update(ApiKey).values(last_used_at=users.utcnow()))  # expires matching objects in `first`
        first.commit()
    cached = runtime.cached_api_key(key)  # a later request, in another thread and session
    assert cached is not False
    assert cached[0].last_used_at is None and cached[1].username == "ana"  # readable without `first`
