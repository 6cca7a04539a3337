"""The web dashboard: server-rendered pages over the application database (``build_web(runtime)``).

The application that serves it with the API is ``retain.server.app.create_app``; its settings are
``retain.server.settings.Settings`` (re-exported here as ``retain.web.Settings``)."""

from __future__ import annotations

from retain.server.settings import Settings

__all__ = ["Settings"]
