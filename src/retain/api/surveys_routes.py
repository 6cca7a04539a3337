"""``/api/v1`` routes for surveys (filled in by its issue)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
