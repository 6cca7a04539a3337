"""Scoped CTA queries run on SQLite and on the real PostgreSQL (a fresh schema per test, dropped afterwards)."""

from __future__ import annotations

# The state layer's fixtures: SQLite and the real PostgreSQL (a fresh schema per test), migrated to head.
from tests.unit.state.conftest import db, engine  # noqa: F401
