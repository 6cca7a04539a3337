"""What the app needs at run time, built once by ``create_app`` and kept on ``app.state`` (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from retain.state.db import default_url, make_engine, session_factory, upgrade
from retain.web.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.database_url or default_url(settings.warehouse))
        if settings.migrate:
            upgrade(engine)
        return cls(settings, engine, session_factory(engine))
