import pytest
from metrics_book import AS_OF

from retain.metrics import decomposition, logo_retention, revenue_retention
from retain.metrics.retention import unit_periods


def _rows(wh, **kwargs):
    frame = wh.execute(decomposition(wh, AS_OF, "quarter", 2, **kwargs))
    return {(r.dimension_value, r.period): r for r in frame.itertuples()}


def test_quarterly_logo_decomposition_by_hand(saas):
    rows = _rows(saas)
    q1, q2 = rows[("all", "2024-Q1")], rows[("all", "2024-Q2")]
    counts = (q1.start, q1.churned, q1.retained, q1.new, q1.reactivated, q1.end, q1.came_and_went)
    assert counts == (3, 1, 2, 1, 1, 4, 1)
    assert q1.logo_retention == pytest.approx(4 / 3)
    assert q1.gross_logo_retention == pytest.approx(2 / 3)
    assert (q2.start, q2.churned, q2.new, q2.reactivated, q2.end) == (4, 1, 0, 0, 3)
    assert q2.logo_retention == pytest.approx(0.75)
    assert q2.annualized_churn_rate == pytest.approx(1 - 0.75**4)
    assert q1.complete and q2.complete


def test_revenue_movements_grr_nrr_by_hand(saas):
    rows = _rows(saas)
    q1, q2 = rows[("all", "2024-Q1")], rows[("all", "2024-Q2")]
    assert (q1.start_mrr, q1.churned_mrr, q1.new_mrr, q1.reactivated_mrr, q1.end_mrr) == (330, 200, 60, 80, 270)
    assert q1.grr == pytest.approx(130 / 330) and q1.nrr == pytest.approx(130 / 330)
    assert (q2.start_mrr, q2.expansion_mrr, q2.contraction_mrr, q2.churned_mrr, q2.end_mrr) == (270, 50, 20, 30, 270)
    assert q2.grr == pytest.approx(220 / 270)
    assert q2.nrr == pytest.approx(1.0)
    assert q2.end_arr == 270 * 12
    # identity: end = start + new + reactivated + expansion - contraction - churned
    for r in (q1, q2):
        assert r.end_mrr == pytest.approx(
            r.start_mrr + r.new_mrr + r.reactivated_mrr + r.expansion_mrr - r.contraction_mrr - r.churned_mrr)
        assert r.end == r.start - r.churned + r.new + r.reactivated


def test_by_segment(saas):
    rows = _rows(saas, by="segment")
    smb, ent = rows[("smb", "2024-Q1")], rows[("enterprise", "2024-Q1")]
    assert (smb.start, smb.churned, smb.new, smb.end, smb.came_and_went) == (2, 1, 0, 1, 1)
    assert (ent.start, ent.churned, ent.new, ent.reactivated, ent.end) == (1, 0, 1, 1, 3)


def test_by_product_counts_holders_of_each_product(saas):
    rows = _rows(saas, by="product")
    # c's return was on the add-on, which it never held before: a new add-on holder, not a reactivation
    addon = rows[("addon", "2024-Q1")]
    assert (addon.start, addon.new, addon.reactivated, addon.end) == (0, 1, 0, 1)
    core = rows[("core", "2024-Q1")]
    assert (core.start, core.churned, core.new, core.end) == (3, 1, 1, 3)


def test_by_signup_cohort_and_monthly_grain(saas):
    rows = _rows(saas, by="signup_cohort")
    assert rows[("2024-Q1", "2024-Q1")].new == 1  # d
    months = saas.execute(logo_retention(saas, AS_OF, "month", 6))
    assert list(months.period) == [f"2024-{m:02d}" for m in range(1, 7)]
    feb = months.set_index("period").loc["2024-02"]
    assert (feb.start, feb.churned, feb.new, feb.end) == (4, 1, 1, 4)  # a b e f open; b left, d came


def test_running_period_is_capped_at_as_of(saas):
    frame = saas.execute(revenue_retention(saas, "2024-05-15", "quarter", 1))
    row = frame.iloc[0]
    assert not row.complete
    assert row.end_mrr == 150 + 80 + 40  # a upgraded, c, d contracted; f gone


def test_unit_statuses(saas):
    u = saas.execute(unit_periods(saas, AS_OF, "quarter", 2))
    q1 = dict(zip(u[u.period == "2024-Q1"].account_id, u[u.period == "2024-Q1"].status, strict=True))
    assert q1 == {"a": "retained", "b": "churned", "c": "reactivated", "d": "new", "e": "came_and_went",
                  "f": "retained"}
