"""REST API ``/api/v1``: accounts, scores, components, history, metrics and batch ingestion; API-key auth."""

from retain.api.app import build_api

__all__ = ["build_api"]
