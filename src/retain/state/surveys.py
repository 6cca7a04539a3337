"""Survey invitations, single-use links, answers and opt-outs."""

from __future__ import annotations

from retain.state.models import Base  # noqa: F401
