"""Fixtures shared by every test: in-memory warehouses and the PostgreSQL rule."""

from __future__ import annotations

import os

import pytest

from retain.warehouse import Warehouse

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def wh() -> Warehouse:
    """An empty in-memory DuckDB warehouse with every canonical table."""
    return Warehouse.open(":memory:")
