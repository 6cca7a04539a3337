"""The tiny health company (tests/unit/health/health_data.py: three scored accounts and a churned one, as of
2024-06-30) in an in-memory warehouse, for the application layer's tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from retain.warehouse import Warehouse

HEALTH_DATA = Path(__file__).parents[1] / "health" / "health_data.py"
_spec = importlib.util.spec_from_file_location("health_data_jobs", HEALTH_DATA)
health_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(health_data)


@pytest.fixture
def tiny_wh() -> Warehouse:
    return health_data.fill_tiny(Warehouse.open(":memory:"))
