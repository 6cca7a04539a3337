"""Survey tests: the state layer's databases (SQLite and the real PostgreSQL) and the tiny survey company."""

from __future__ import annotations

import pytest
from tests.unit.state.conftest import db, engine  # noqa: F401
from tests.unit.surveys.survey_company import build

from retain.warehouse import Warehouse


@pytest.fixture
def survey_wh() -> Warehouse:
    return build(Warehouse.open(":memory:"))
