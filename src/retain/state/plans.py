"""Success plans per account: objectives, targets, linked CTAs."""

from __future__ import annotations

from retain.state.models import Base  # noqa: F401
