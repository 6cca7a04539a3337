"""Outbox messages, delivery attempts, dead letters and held customer-facing messages."""

from __future__ import annotations

from retain.state.models import Base  # noqa: F401
