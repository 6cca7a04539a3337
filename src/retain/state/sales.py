"""Sales goals and pipeline-review snapshots."""

from __future__ import annotations

from retain.state.models import Base  # noqa: F401
