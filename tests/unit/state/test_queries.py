import datetime as dt

import pytest

from retain.errors import NotFoundError
from retain.state import published as results
from retain.state import queries, testing
from retain.state.insight import account_insight
from retain.state.models import AccountSnapshot, Role, ScoreHistory
from retain.state.queries import AccountQuery, Scope, SortKey, SortOrder

ADMIN = Scope.admin()
MIA = Scope(Role.MANAGER, "m1")
RITA = Scope(Role.MEMBER, "r1")
OLGA = Scope(Role.MEMBER, "r3")
NOBODY = Scope(Role.MEMBER, None)


def ids(page) -> set[str]:
    return {r["account_id"] for r in page.items}


def test_publish_computes_arr_owner_renewal_and_reads_results(published):
    a1 = published.get(AccountSnapshot, "a1")
    assert a1.arr == pytest.approx(12 * 1250.0)
    assert (a1.owner_name, a1.products_held, a1.renewal_on) == ("Rita Rep", 2, dt.date(2024, 12, 31))
    assert (a1.health_total, a1.health_grade, a1.health_change) == (82.0, "green", pytest.approx(4.0))
    assert (a1.churn_probability, a1.clv, a1.adoption_tier, a1.open_tickets) == (0.05, 42000.0, "high", 1)
    assert [c["component"] for c in a1.components] == ["usage", "support"]
    assert [e["kind"] for e in a1.detail["timeline"]] == ["ticket", "qbr", "survey", "ticket"]
    a4 = published.get(AccountSnapshot, "a4")
    assert a4.name == testing.CHINESE_NAME and a4.reasons == ["low_usage", "open_urgent_ticket"]
    a5 = published.get(AccountSnapshot, "a5")
    assert (a5.status, a5.arr, a5.health_total) == ("churned", 0.0, None)
    history = published.query(ScoreHistory).filter_by(account_id="a1").order_by(ScoreHistory.as_of).all()
    assert [(h.as_of, h.health_total) for h in history] == [(testing.PREVIOUS, 78.0), (testing.AS_OF, 82.0)]
    assert results.records(published, ADMIN, "revenue_retention")[0]["nrr"] == 1.04


def test_publish_twice_replaces_snapshots(published, tiny_wh):
    from retain.state.publish import publish

    publish(tiny_wh, published, testing.AS_OF)
    assert published.query(AccountSnapshot).count() == 6


def test_roles_are_enforced_in_the_query(published):
    everything = AccountQuery(per_page=200)
    assert ids(queries.list_accounts(published, ADMIN, everything)) == {"a1", "a2", "a3", "a4", "a5", "a6"}
    assert ids(queries.list_accounts(published, MIA, everything)) == {"a1", "a2", "a3", "a4"}
    assert ids(queries.list_accounts(published, RITA, everything)) == {"a1", "a2"}
    assert ids(queries.list_accounts(published, OLGA, everything)) == {"a5", "a6"}
    assert ids(queries.list_accounts(published, NOBODY, everything)) == set()
    assert queries.get_account(published, RITA, "a1").name == "Acme Corp"
    for scope, other in ((RITA, "a3"), (RITA, "a5"), (MIA, "a6"), (OLGA, "a1")):
        with pytest.raises(NotFoundError):
            queries.get_account(published, scope, other)
        with pytest.raises(NotFoundError):
            queries.account_history(published, scope, other)
    # filters cannot widen the scope
    assert ids(queries.list_accounts(published, RITA, AccountQuery(owner_id="r3"))) == set()
    assert queries.portfolio(published, RITA)["accounts"] == 2


def test_filters_sort_and_pages(published):
    assert ids(queries.list_accounts(published, ADMIN, AccountQuery(grade="yellow"))) == {"a2", "a3", "a6"}
    assert ids(queries.list_accounts(published, ADMIN, AccountQuery(q="acme"))) == {"a1"}
    assert ids(queries.list_accounts(published, ADMIN, AccountQuery(q="北京"))) == {"a4"}
    assert ids(queries.list_accounts(published, ADMIN, AccountQuery(q="100%_"))) == set()
    assert ids(queries.list_accounts(published, ADMIN, AccountQuery(at_risk=True))) == {"a4", "a6"}
    assert ids(queries.list_accounts(published, ADMIN, AccountQuery(renewal_before=dt.date(2024, 8, 31)))) == {
        "a4", "a6"}
    page = queries.list_accounts(published, ADMIN, AccountQuery(sort=SortKey.HEALTH, order=SortOrder.ASC,
                                                                per_page=2, page=2))
    assert [r["account_id"] for r in page.items] == ["a2", "a3"] and page.total == 6 and page.pages == 3
    by_clv = queries.list_accounts(published, ADMIN, AccountQuery(sort=SortKey.CLV, order=SortOrder.DESC))
    assert [r["account_id"] for r in by_clv.items] == ["a1", "a4", "a3", "a6", "a2", "a5"]  # nulls last
    assert len(queries.export_accounts(published, MIA, AccountQuery(per_page=1))) == 4


def test_portfolio_team_and_analytics(published):
    p = queries.portfolio(published, ADMIN)
    assert p["accounts"] == 5 and p["arr"] == pytest.approx(12 * (1250 + 300 + 500 + 2000 + 400))
    assert p["arr_at_risk"] == pytest.approx(12 * (2000 + 400))
    assert {g["grade"]: g["accounts"] for g in p["by_grade"]} == {"green": 1, "yellow": 3, "red": 1}
    team = {r["owner_id"]: r for r in queries.team(published, MIA)}
    assert set(team) == {"r1", "r2"} and team["r2"]["arr"] == pytest.approx(12 * 2500)
    pareto = queries.arr_pareto(published, ADMIN)
    assert pareto[0] == {"customer_share": 0.0, "revenue_share": 0.0} and pareto[-1]["revenue_share"] == 1.0
    assert queries.clv_by_channel(published, ADMIN)[0] == {"acquisition_channel": "outbound", "clv": 42000.0,
                                                           "accounts": 1}


def test_insight_is_the_domains_ranking(published):
    """What to improve is :func:`retain.health.explain.improvements`, published: peers' 75th percentile targets."""
    a4 = published.get(AccountSnapshot, "a4")
    insight = account_insight(a4)
    assert [c["component"] for c in insight.improve] == ["usage", "support"]
    # usage 20 (60 %) -> 75th percentile of 20 and 90 = 72.5: the total 31 gains 0.6 x 52.5
    assert insight.improve[0]["target"] == pytest.approx(72.5)
    assert insight.improve[0]["gain"] == pytest.approx(0.6 * 52.5)
    assert insight.improve[0]["total_if"] == pytest.approx(31.0 + 0.6 * 52.5)


def test_visible_members_are_the_team_tree(published):
    assert queries.visible_members(published, MIA) == {"m1", "r1", "r2"}
    assert queries.visible_members(published, RITA) == {"r1"}
    assert queries.visible_members(published, NOBODY) == set()


def test_list_totals_are_counted_once_per_scope_and_filters(published):
    memo: dict = {}
    computed: list = []

    def cache(key, count):
        if key not in memo:
            computed.append(key)
            memo[key] = count()
        return memo[key]

    first = queries.list_accounts(published, ADMIN, AccountQuery(segment="smb"), count_cache=cache)
    resorted = queries.list_accounts(published, ADMIN, AccountQuery(segment="smb", sort=SortKey.NAME, page=2,
                                                                    per_page=1), count_cache=cache)
    assert resorted.total == first.total == queries.list_accounts(published, ADMIN,
                                                                  AccountQuery(segment="smb")).total
    assert len(computed) == 1  # same filters, other sort and page: no second count
    queries.list_accounts(published, ADMIN, AccountQuery(segment="smb", q="a"), count_cache=cache)
    assert len(computed) == 2  # another filter: counted again
    queries.list_accounts(published, RITA, AccountQuery(segment="smb"), count_cache=cache)
    # another scope: its filtered total; on SQLite also its whole book and everyone's, to plan the page
    counts = 5 if published.get_bind().dialect.name == "sqlite" else 3
    assert len(computed) == counts
    queries.list_accounts(published, RITA, AccountQuery(segment="smb", page=2), count_cache=cache)
    assert len(computed) == counts


@pytest.mark.parametrize("walk", [True, False])
def test_scoped_pages_are_the_same_whether_the_sort_index_is_walked_or_the_book_fetched(published, monkeypatch,
                                                                                        walk):
    """The two plans of a manager's or member's page (``queries._walk_scope``) must give the same rows."""
    expected = {}
    for scope in (MIA, RITA, OLGA):
        for sort in SortKey:
            for order in SortOrder:
                for filters in ({}, {"grade": "yellow"}, {"at_risk": True}, {"segment": "smb"}):
                    q = AccountQuery(sort=sort, order=order, per_page=2, page=2, **filters)
                    expected[(scope, q)] = [r["account_id"] for r in queries.list_accounts(published, scope, q).items]
    monkeypatch.setattr(queries, "_walk_scope", lambda *a, **k: walk)
    for (scope, q), rows in expected.items():
        assert [r["account_id"] for r in queries.list_accounts(published, scope, q).items] == rows, (scope, q)


def test_red_accounts_count_as_at_risk_even_with_a_low_churn_probability():
    import pandas as pd

    from retain.state.publish import is_at_risk

    frame = pd.DataFrame({"health_grade": ["red", "green", None, None, "yellow"],
                          "churn_probability": [0.05, 0.7, None, None, 0.1],
                          "health_total": [30.0, 90.0, 35.0, 80.0, 55.0]})
    assert list(is_at_risk(frame)) == [True, True, True, False, False]


@pytest.mark.parametrize("text", ["acme", "ACME CORP", "me Co", "ini", "北京云", "云端科技", "北京", "a", "Hooli",
                                  '"acme"', "acme OR hooli", "100%_", "x'); DROP TABLE account_snapshots; --", "a1"])
def test_name_search_matches_a_case_insensitive_substring_scan(published, text):
    """On SQLite three characters or more go through the trigram index; it must find what a scan finds."""
    expected = {a.account_id for a in published.query(AccountSnapshot)
                if text.lower() in a.name.lower() or a.account_id == text}
    assert ids(queries.list_accounts(published, ADMIN, AccountQuery(q=text))) == expected
    assert ids(queries.list_accounts(published, RITA, AccountQuery(q=text))) == expected & {"a1", "a2"}


def test_name_index_follows_publish_and_migration(published, tiny_wh, engine):
    """A database upgraded with snapshots already in it, and every publish after, search the current names.
    PostgreSQL has no such index (it scans) and must not get one."""
    from alembic import command
    from sqlalchemy import inspect, text

    from retain.state.db import alembic_config
    from retain.state.publish import publish

    published.commit()
    if engine.dialect.name != "sqlite":
        assert "account_names" not in inspect(engine).get_table_names()
    else:
        cfg = alembic_config()
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0001")
            command.upgrade(cfg, "head")
        assert ids(queries.list_accounts(published, ADMIN, AccountQuery(q="acme"))) == {"a1"}
        published.execute(text("DELETE FROM account_names"))
        assert ids(queries.list_accounts(published, ADMIN, AccountQuery(q="acme"))) == set()
    publish(tiny_wh, published, testing.AS_OF)  # rewrites the snapshots, and the names with them
    assert ids(queries.list_accounts(published, ADMIN, AccountQuery(q="acme"))) == {"a1"}


def test_filter_options_are_the_values_in_scope_with_owner_names(published):
    everyone = queries.filter_options(published, ADMIN)
    assert everyone["owners"] == [("r3", "Olga Other"), ("r2", "Raj Rep"), ("r1", "Rita Rep")]  # sorted by name
    assert everyone["segment"] == sorted({a.segment for a in published.query(AccountSnapshot) if a.segment})
    mia = queries.filter_options(published, MIA)
    assert mia["owners"] == [("r2", "Raj Rep"), ("r1", "Rita Rep")]
    assert queries.filter_options(published, RITA)["owners"] == [("r1", "Rita Rep")]
    assert queries.filter_options(published, NOBODY) == {"health_grade": [], "segment": [], "region": [],
                                                          "adoption_tier": [], "owners": []}
