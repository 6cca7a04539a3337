"""Scores as of any date, stored per account and date; weekly backfill; books over stored history."""

from __future__ import annotations

import datetime as dt

import pytest
from health_data import AS_OF

from retain.health import backfill, books, score, score_accounts, store, stored_scores
from retain.health.history import backfill_dates


def test_backfill_dates_weekly_with_the_end_included():
    days = backfill_dates("2024-06-01", "2024-06-30", "W")
    assert days == [dt.date(2024, 6, d) for d in (2, 9, 16, 23, 30)]
    assert backfill_dates("2024-06-01", "2024-06-12", "W")[-1] == dt.date(2024, 6, 12)


def test_backfill_stores_one_row_per_account_and_date(tiny):
    summary = backfill(tiny, "2024-06-10", AS_OF, "W")
    assert list(summary["as_of"]) == [dt.date(2024, 6, d) for d in (16, 23, 30)]
    assert list(summary["accounts"]) == [3] * 3
    stored = stored_scores(tiny)
    assert len(stored) == 9 and stored.groupby("as_of").size().eq(3).all()
    again = backfill(tiny, "2024-06-20", AS_OF, "W")  # re-running replaces, never duplicates
    assert len(again) == 2 and len(stored_scores(tiny)) == 9
    assert "result_health_components" in tiny.con.list_tables()


def test_stored_scores_match_a_fresh_computation(tiny):
    r = score(tiny, AS_OF)
    store(tiny, r, AS_OF)
    got = stored_scores(tiny, AS_OF).set_index("account_id")["total"].sort_index()
    want = score_accounts(tiny, AS_OF).set_index("account_id")["total"].sort_index()
    assert (got - want).abs().max() < 1e-9
    comps = tiny.execute(tiny.result("health_components", AS_OF))
    assert set(comps.columns) >= {"account_id", "as_of", "component", "score", "weight_pct"}
    meas = tiny.execute(tiny.result("health_measures", AS_OF))
    assert len(meas) == len(r.measures)


def test_books_reuse_stored_history(tiny):
    for back in (0, 30, 90):
        day = AS_OF - dt.timedelta(days=back)
        store(tiny, score(tiny, day), day)
    tiny.con.raw_sql("UPDATE result_health_scores SET total = 0 WHERE account_id = 'A' AND as_of = '2024-04-01'")
    book = books(tiny, AS_OF).set_index("owner_id")
    assert book.loc["csm1", "accounts"] == 3
    assert book.loc["csm1", "arr_at_risk"] == 2400.0 + 12000.0  # B (red, capped) and C (red)
    # the stored (here edited) score of 90 days ago is used, not a recomputation
    now, then = stored_scores(tiny, AS_OF), stored_scores(tiny, "2024-04-01")
    assert book.loc["csm1", "change_90d"] == pytest.approx(now["total"].mean() - then["total"].mean())


def test_churn_by_grade_on_tiny_tables(tiny):
    from retain.health.outcomes import churn_by_grade, graded_outcomes

    # X churned on 2024-03-01: graded on 2024-02-01, gone 90 days later; A, B, C still customers on 2024-06-30
    out = graded_outcomes(tiny, ["2024-02-01"], horizon=90).set_index("account_id")
    assert out.loc["X", "churned"] and not out.loc[["A", "B", "C"], "churned"].any()
    table = churn_by_grade(out.reset_index()).set_index("grade")
    assert table["accounts"].sum() == 4 and table["churned"].sum() == 1


def test_scoring_many_dates_at_once_gives_each_date_s_own_scores(demo_warehouse):
    """``score_many`` compiles once per shape of the data; every date must still score as if on its own, including
    dates before a source table has rows (another shape) and a date before any customer."""
    import pandas as pd

    from retain.health.history import score_many

    days = [dt.date(2023, 1, 1), dt.date(2025, 3, 31), dt.date(2025, 9, 30), dt.date(2026, 1, 31),
            dt.date(2026, 10, 31)]
    together = score_many(demo_warehouse, days)
    assert list(together) == days
    assert together[days[0]].scores.empty
    for day in days[1:]:
        alone = score(demo_warehouse, day)
        assert len(together[day].scores) == len(alone.scores) > 0, day
        for got, want in ((together[day].scores, alone.scores), (together[day].components, alone.components)):
            pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                          check_dtype=False, check_exact=False, rtol=1e-9)


def test_scores_without_detail_are_the_scores_with_it(demo_warehouse):
    """A model reading totals at dozens of dates skips the components and measures; the scores must not change."""
    import pandas as pd

    from retain.health.history import score_batches

    days = [dt.date(2025, 9, 30), dt.date(2026, 1, 31), dt.date(2026, 10, 31)]
    full = dict(score_batches(demo_warehouse, days, batch=2))
    bare = dict(score_batches(demo_warehouse, days, batch=2, detail=False))
    for day in days:
        assert bare[day].components.empty and bare[day].measures.empty and not full[day].measures.empty
        pd.testing.assert_frame_equal(bare[day].scores, full[day].scores)
