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
    # logo retention = retained / start (a and f of a, b, f); end / start is the net change, gains included
    assert q1.logo_retention == pytest.approx(2 / 3)
    assert q1.net_logo_change == pytest.approx(4 / 3)
    assert q1.annualized_churn_rate == pytest.approx(1 - (2 / 3) ** 4)
    assert (q2.start, q2.churned, q2.new, q2.reactivated, q2.end) == (4, 1, 0, 0, 3)
    assert q2.logo_retention == pytest.approx(0.75) and q2.net_logo_change == pytest.approx(0.75)
    assert q2.annualized_churn_rate == pytest.approx(1 - 0.75**4)
    assert q1.complete and q2.complete
    assert "gross_logo_retention" not in rows[("all", "2024-Q1")]._fields  # one name for retained / start


def test_revenue_movements_grr_nrr_by_hand(saas):
    rows = _rows(saas)
    q1, q2 = rows[("all", "2024-Q1")], rows[("all", "2024-Q2")]
    assert (q1.start_mrr, q1.churned_mrr, q1.new_mrr, q1.reactivated_mrr, q1.end_mrr) == (330, 200, 60, 80, 270)
    assert q1.grr == pytest.approx(130 / 330) and q1.nrr == pytest.approx(130 / 330)
    assert (q2.start_mrr, q2.expansion_mrr, q2.contraction_mrr, q2.churned_mrr, q2.end_mrr) == (270, 50, 20, 30, 270)
    assert q2.grr == pytest.approx(220 / 270)
    assert q2.nrr == pytest.approx(1.0)
    assert q2.end_arr == 270 * 12
    # annualised: a quarter's rate compounded four times
    assert q1.annualized_grr == pytest.approx((130 / 330) ** 4) and q1.annualized_nrr == pytest.approx((130 / 330) ** 4)
    assert q2.annualized_grr == pytest.approx((220 / 270) ** 4) and q2.annualized_nrr == pytest.approx(1.0)
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


def test_monthly_grr_is_annualised_over_twelve_months(saas):
    months = saas.execute(revenue_retention(saas, AS_OF, "month", 6)).set_index("period")
    feb = months.loc["2024-02"]
    # open (Jan 31): a 100, b 200, e 10, f 30; b leaves on the 15th; e's last day is Feb 29, still in at the close
    assert (feb.start_mrr, feb.churned_mrr, feb.contraction_mrr) == (340, 200, 0)
    assert feb.grr == pytest.approx(140 / 340)
    assert feb.annualized_grr == pytest.approx((140 / 340) ** 12)
    assert months.complete.all()


def test_running_period_is_capped_at_as_of_and_marked_partial(saas):
    frame = saas.execute(revenue_retention(saas, "2024-05-15", "quarter", 1))
    row = frame.iloc[0]
    assert not row.complete
    assert row.end_mrr == 150 + 80 + 40  # a upgraded, c, d contracted; f gone
    # 45 of Q2's 91 days measured: annualised by the elapsed days, not as if a whole quarter had passed
    assert row.grr == pytest.approx(220 / 270)
    assert row.annualized_grr == pytest.approx((220 / 270) ** (4 * 91 / 45))
    logos = saas.execute(logo_retention(saas, "2024-05-15", "quarter", 2)).set_index("period")
    assert list(logos.complete) == [True, False]
    assert logos.loc["2024-Q2", "annualized_churn_rate"] == pytest.approx(1 - 0.75 ** (4 * 91 / 45))


def test_unit_statuses(saas):
    u = saas.execute(unit_periods(saas, AS_OF, "quarter", 2))
    q1 = dict(zip(u[u.period == "2024-Q1"].account_id, u[u.period == "2024-Q1"].status, strict=True))
    assert q1 == {"a": "retained", "b": "churned", "c": "reactivated", "d": "new", "e": "came_and_went",
                  "f": "retained"}
