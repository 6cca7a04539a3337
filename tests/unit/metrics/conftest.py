"""Fixtures of the metric tests: the tiny book of ``metrics_book`` loaded into an in-memory warehouse."""

from __future__ import annotations

import pytest
from metrics_book import accounts_frame, subs_frame


@pytest.fixture
def saas(wh):
    wh.con.insert("accounts", accounts_frame())
    wh.con.insert("subscriptions", subs_frame())
    return wh
