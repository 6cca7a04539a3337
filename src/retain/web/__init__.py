"""The web dashboard: server-rendered pages over the application database (``create_app(settings)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retain.web.settings import Settings

if TYPE_CHECKING:
    from retain.web.app import create_app

__all__ = ["Settings", "create_app"]


def __getattr__(name: str):
    """``create_app`` on first use: the API (which the app mounts) imports ``retain.web.deps`` without a cycle."""
    if name == "create_app":
        from retain.web.app import create_app

        return create_app
    raise AttributeError(name)
