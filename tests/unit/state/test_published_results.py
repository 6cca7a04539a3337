"""Published results: declared once, read through one scoped query, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from retain.state import published as results
from retain.state import testing
from retain.state.models import PublishRun, Role
from retain.state.publish import publish
from retain.state.queries import Scope
from retain.warehouse import Warehouse
from retain.warehouse.store import RESULT_PREFIX

SCOPES = {"admin": Scope.admin(), "mia": Scope(Role.MANAGER, "m1"), "rita": Scope(Role.MEMBER, "r1"),
          "olga": Scope(Role.MEMBER, "r3"), "unlinked": Scope(Role.MEMBER, None)}
# what each role may see in the tiny company, written out by hand (not derived from the code under test)
MEMBERS = {"mia": {"m1", "r1", "r2"}, "rita": {"r1"}, "olga": {"r3"}, "unlinked": set()}
ACCOUNTS = {"mia": {"a1", "a2", "a3", "a4"}, "rita": {"a1", "a2"}, "olga": {"a5", "a6"}, "unlinked": set()}


def expected_calls(who: str) -> set[str]:
    if who == "admin":
        return {c for c, _, _ in testing.CALLS}
    return {c for c, m, a in testing.CALLS if m in MEMBERS[who] or a in ACCOUNTS[who]}


def expected_leads(who: str) -> set[str]:
    if who == "admin":
        return {lead for lead, _ in testing.LEADS}
    return {lead for lead, owner in testing.LEADS if owner in MEMBERS[who]}


def expected_deals(who: str) -> set[str]:
    if who == "admin":
        return {o for o, _, _ in testing.OPPORTUNITIES}
    return {o for o, m, a in testing.OPPORTUNITIES if m in MEMBERS[who] or a in ACCOUNTS[who]}


def test_every_declared_result_is_published_by_the_tiny_company(published):
    """So the scope tests below cover every result: declaring a new one without fixture rows fails here."""
    assert results.names(published) == sorted(results.RESULTS)


def test_each_result_is_read_within_each_role(published):
    for name, result in results.RESULTS.items():
        everything = results.read(published, Scope.admin(), name).records
        for who, scope in SCOPES.items():
            rows = results.read(published, scope, name)
            assert rows is not None and rows.as_of == testing.AS_OF, (name, who)
            if result.visibility is results.Visibility.COMPANY:
                assert rows.records == everything and everything, (name, who)
            elif name == "call_metrics":
                assert {r["conversation_id"] for r in rows.records} == expected_calls(who), who
            elif name == "lead_recovery":
                assert {r["lead_id"] for r in rows.records} == expected_leads(who), who
            elif name == "book_revenue":  # the tiny company has no CSMs: a book is its owner's
                owners = {"r1", "r2", "r3"} if who == "admin" else MEMBERS[who] & {"r1", "r2", "r3"}
                assert {r["owner_id"] for r in rows.records} == owners, who
            elif name in ("opportunity_scores", "sales_deals"):  # the deal's owner or its account
                assert {r["opportunity_id"] for r in rows.records} == expected_deals(who), (name, who)
            elif name in ("sales_goals", "sales_bookings"):  # the goal's person, the bookings' rep
                people = {m for _, m in testing.GOALS}
                assert {r.get("member_id") or r.get("owner_id") for r in rows.records} == (
                    people if who == "admin" else MEMBERS[who] & people), (name, who)
            else:
                pytest.fail(f"no expectation for the owned result {name}: add its rows to retain.state.testing")


def test_expectations_are_not_trivial():
    assert expected_calls("rita") == {"c1", "c4"}  # c4: another rep's call on Rita's account
    assert expected_calls("mia") == {"c1", "c2", "c4", "c6"}
    assert expected_leads("olga") == {"l3"}
    assert expected_deals("rita") == {"o1", "o4"} and expected_deals("mia") == {"o1", "o2", "o4", "o6"}


def test_unknown_or_unpublished_names_read_as_none(published):
    assert results.read(published, Scope.admin(), "account_snapshots") is None
    assert results.read(published, Scope.admin(), "users") is None
    assert results.read(published, Scope.admin(), "bad\x00name") is None
    assert results.records(published, Scope.admin(), "nope") == []


def test_a_company_result_that_names_accounts_is_refused(db):
    wh = testing.build(Warehouse.open(":memory:"))
    # stored behind the warehouse's back (store_result refuses a frame that does not fit the pareto spec)
    wh.con.raw_sql(f"""CREATE OR REPLACE TABLE "{RESULT_PREFIX}pareto" AS SELECT * FROM (VALUES
        ('a1', 0.6, DATE '{testing.AS_OF}'), ('a2', 1.0, DATE '{testing.AS_OF}')) t(account_id, share, as_of)""")
    run = publish(wh, db, testing.AS_OF)
    assert not results.is_published(db, "pareto") and run.sources["pareto"] is False
    assert "pareto not published" in run.note and "account_id" in run.note
    assert db.get(PublishRun, run.id).note == run.note
    assert results.is_published(db, "survival")


def test_republish_replaces_rows(published, tiny_wh):
    before = len(results.records(published, Scope.admin(), "call_metrics"))
    publish(tiny_wh, published, testing.AS_OF)
    assert len(results.records(published, Scope.admin(), "call_metrics")) == before == len(testing.CALLS)
