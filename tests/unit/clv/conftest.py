"""Fixtures of the CLV tests: the CDNOW summary (computed once) and a seeded subscription book."""

from __future__ import annotations

import pytest
from clv_data import load_book

from retain.clv.datasets import cdnow_summary


@pytest.fixture(scope="session")
def cdnow():
    return cdnow_summary().execute().sort_values("customer_id").reset_index(drop=True)


@pytest.fixture
def book_wh(wh):
    return load_book(wh)
