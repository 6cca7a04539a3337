"""The web dashboard: server-rendered pages over the application database (``create_app(settings)``)."""

from retain.web.app import create_app
from retain.web.settings import Settings

__all__ = ["Settings", "create_app"]
