"""Notes on accounts (they become activities on the account's timeline)."""

from __future__ import annotations

from retain.state.models import Base  # noqa: F401
