from __future__ import annotations

import pytest

from retain.errors import SchemaError
from retain.ingest.columns import normalise_name, plan_columns
from retain.schema import table


def test_names_match_case_insensitively_with_spaces_and_dashes():
    assert normalise_name(" Account-ID ") == "account_id"
    assert normalise_name("\ufeffCreated  At") == "created_at"


def test_plan_maps_columns_and_keeps_extras_for_attributes():
    plan = plan_columns(table("accounts"), ["Account ID", "NAME", "created-at", "Favourite Colour"], "a.csv")
    assert plan.sources["account_id"] == "Account ID"
    assert plan.sources["name"] == "NAME"
    assert plan.sources["created_at"] == "created-at"
    assert plan.extras == {"favourite_colour": "Favourite Colour"}


def test_missing_required_column_lists_expected_found_and_closest_match():
    with pytest.raises(SchemaError) as info:
        plan_columns(table("accounts"), ["acount_id", "name", "created"], "accounts.csv")
    message = str(info.value)
    assert "missing required columns for table 'accounts': account_id, created_at" in message
    assert "expected: account_id, name, created_at" in message
    assert "found:    acount_id, name, created" in message
    assert "'account_id': closest found column is 'acount_id'" in message
    assert "'created_at': closest found column is 'created'" in message
    assert "--mapping" in info.value.hint


def test_two_columns_with_the_same_normalised_name_are_refused():
    with pytest.raises(SchemaError, match="same name"):
        plan_columns(table("accounts"), ["account_id", "Account ID", "name", "created_at"], "a.csv")


def test_columns_with_a_default_are_not_required():
    plan = plan_columns(table("product_events"), ["account_id", "occurred_at", "event_type"], "e.csv")
    assert "event_id" not in plan.sources
