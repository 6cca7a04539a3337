"""Fixtures of the health tests (the tables themselves are in ``health_data``)."""

from __future__ import annotations

import pytest
from health_data import fill_tiny

from retain.warehouse import Warehouse


@pytest.fixture
def tiny(wh: Warehouse) -> Warehouse:
    return fill_tiny(wh)
