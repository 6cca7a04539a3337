"""The driver-level account read (the API's hot path) answers exactly as the ORM query does, scope included."""

import json

import pytest

from retain.api.schemas import AccountDetailPublic, account_detail_body
from retain.errors import NotFoundError
from retain.models.labels import CHURN_DAYS
from retain.state import queries
from retain.state.insight import disagreement, insight_of, snapshot_values
from retain.state.models import Role
from retain.state.queries import Scope
from retain.state.records import AccountRecords

SCOPES = [Scope.admin(), Scope(Role.MANAGER, "m1"), Scope(Role.MEMBER, "r1"), Scope(Role.MEMBER, "r3"),
          Scope(Role.MEMBER, None), Scope(Role.MANAGER, None)]
IDS = ["a1", "a2", "a3", "a4", "a5", "a6", "missing", "a1' OR '1'='1", "a\x001"]


def test_reads_what_get_account_allows_and_nothing_else(published, engine):
    records = AccountRecords(engine)
    for scope in SCOPES:
        for account_id in IDS:
            try:
                queries.get_account(published, scope, account_id)
                allowed = True
            except NotFoundError:
                allowed = False
            assert (records.read(scope, account_id) is not None) == allowed, (scope, account_id)


@pytest.mark.parametrize("account_id", ["a1", "a4", "a5"])
def test_body_equals_the_validated_schema(published, engine, account_id):
    """The unvalidated body of the hot path is the same JSON the pydantic model gives (a4 has a Chinese name)."""
    a = queries.get_account(published, Scope.admin(), account_id)
    detail = a.detail or {}
    insight = insight_of(detail)
    disagree = disagreement(snapshot_values(a), CHURN_DAYS)
    expected = AccountDetailPublic.model_validate(AccountDetailPublic.model_validate(a).model_dump() | {
        "subscriptions": detail.get("subscriptions", []), "open_ticket_list": detail.get("open_tickets", []),
        "surveys": detail.get("surveys", []), "timeline": detail.get("timeline", []),
        "why_changed": {"since": insight.since, "changes": insight.changes}, "what_to_improve": insight.improve,
        "signals_disagree": disagree and vars(disagree)}).model_dump(mode="json")
    body = account_detail_body(AccountRecords(engine).read(Scope.admin(), account_id))
    assert list(body) == list(expected)
    assert json.loads(json.dumps(body, default=str)) == expected  # what the route sends: the schema's JSON
    assert AccountDetailPublic.model_validate(body).model_dump(mode="json") == expected
    assert body["name"] == a.name and body["components"] == a.components
    if account_id == "a4":  # the insight published for it is in the body (what to improve, reasons)
        assert body["what_to_improve"] and body["reasons"]
