"""Fixtures of the sales tests: the tiny company of :mod:`sales_tiny`."""

from __future__ import annotations

import pytest
from sales_tiny import build

from retain.warehouse import Warehouse


@pytest.fixture
def sales_wh() -> Warehouse:
    return build()
