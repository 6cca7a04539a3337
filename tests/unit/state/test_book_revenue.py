"""NRR/GRR and MRR movements for the viewer's scope: ``book_revenue`` per (owner, CSM) pair, summed in SQL."""

from __future__ import annotations

import pytest

from retain.metrics.retention import revenue_retention
from retain.state import published, testing
from retain.state.models import Role
from retain.state.publish import publish
from retain.state.queries import Scope
from retain.warehouse import Warehouse

MOVES = published.MOVEMENTS


@pytest.fixture
def with_csm(db):
    """The tiny company with Rita (r1) as CSM of Initech (a3, owned by Raj), published."""
    wh = testing.build(Warehouse.open(":memory:"))
    wh.con.raw_sql("UPDATE accounts SET csm_id = 'r1' WHERE account_id = 'a3'")
    publish(wh, db, testing.AS_OF)
    yield wh, db
    wh.con.disconnect()


def _company(wh: Warehouse) -> dict[str, dict]:
    frame = wh.execute(revenue_retention(wh, testing.AS_OF, "month", 12))
    return {r["period"]: r for r in frame.to_dict("records")}


def _by_period(db, scope: Scope) -> dict[str, dict]:
    return {r["period"]: r for r in published.revenue_by_period(db, scope)}


def test_admin_sees_the_company_figures(with_csm):
    wh, db = with_csm
    company, mine = _company(wh), _by_period(db, Scope.admin())
    assert set(mine) == set(company) and len(mine) == 12
    for period, row in company.items():
        for m in (*MOVES, "grr", "nrr"):
            assert mine[period][m] == pytest.approx(row[m], nan_ok=True), (period, m)
    assert mine["2024-06"]["complete"] is True and "2024-01" in mine


def test_a_member_sees_their_book_only(with_csm):
    _, db = with_csm
    rita = _by_period(db, Scope(Role.MEMBER, "r1"))
    # Rita's book: a1 (1,000 + 250) and a2 (300) that she owns, a3 (500) that she looks after as CSM
    assert rita["2024-06"]["end_mrr"] == pytest.approx(1250 + 300 + 500)
    olga = _by_period(db, Scope(Role.MEMBER, "r3"))
    # Olga's: a6 (400) running, a5 (100) churned on 2024-01-15
    assert olga["2024-06"]["end_mrr"] == pytest.approx(400)
    assert olga["2024-01"]["churned_mrr"] == pytest.approx(100) and olga["2024-01"]["grr"] == pytest.approx(0.8)
    assert rita["2024-01"]["churned_mrr"] == 0 and rita["2024-01"]["grr"] == pytest.approx(1.0)
    assert _by_period(db, Scope(Role.MEMBER, None)) == {}


def test_books_add_up_to_the_company_without_counting_an_account_twice(with_csm):
    _, db = with_csm
    admin = _by_period(db, Scope.admin())
    raj, olga = _by_period(db, Scope(Role.MEMBER, "r2")), _by_period(db, Scope(Role.MEMBER, "r3"))
    mia = _by_period(db, Scope(Role.MANAGER, "m1"))  # r1 and r2: a3 is in both books, counted once
    for period, row in admin.items():
        assert mia[period]["end_mrr"] + olga[period]["end_mrr"] == pytest.approx(row["end_mrr"])
        assert raj[period]["end_mrr"] == pytest.approx(500 + 2000)
    assert mia["2024-06"]["end_mrr"] == pytest.approx(1250 + 300 + 500 + 2000)


def test_the_portfolio_page_charts_the_viewers_books(with_csm):
    from retain.web import charts

    _, db = with_csm
    fig = charts.nrr_grr(published.revenue_by_period(db, Scope(Role.MEMBER, "r3")))
    nrr = dict(zip(fig["data"][0]["x"], fig["data"][0]["y"], strict=True))
    assert nrr["2024-01"] == pytest.approx(0.8) and fig["data"][0]["name"] == "NRR"
