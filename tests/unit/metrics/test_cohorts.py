import pytest
from metrics_book import AS_OF

from retain.errors import RetainError
from retain.metrics.cohorts import cohort_matrix, cohorts


def test_cohort_cells_by_hand(saas):
    f = saas.execute(cohorts(saas, AS_OF, 24))
    cell = f.set_index(["cohort", "months_since_start"])
    # c: cohort 2023-03, gone at the close of September (ended 2023-09-01), back in March 2024 on the add-on
    assert cell.loc[("2023-03", 5), "active"] == 1
    assert cell.loc[("2023-03", 6), "active"] == 0
    assert cell.loc[("2023-03", 12), "revenue_retention"] == pytest.approx(80 / 50)
    # d: cohort 2024-02, contracted 60 -> 40 in April (month 2)
    assert cell.loc[("2024-02", 2), "revenue_retention"] == pytest.approx(40 / 60)
    assert cell.loc[("2024-02", 2), "logo_retention"] == 1.0
    # e came in January, left at the start of March
    assert list(cell.loc["2024-01", "logo_retention"]) == [1, 1, 0, 0, 0, 0]
    # a cohort only has cells up to as_of
    assert cell.loc["2024-02"].index.max() == 4
    matrix = cohort_matrix(f)
    assert matrix.shape == (6, 18)


def test_cohort_window_and_dimension(saas):
    f = saas.execute(cohorts(saas, AS_OF, 6, by="segment"))
    assert set(f.cohort) == {"2024-01", "2024-02"}
    assert set(zip(f.cohort, f.dimension_value, strict=True)) == {("2024-01", "smb"), ("2024-02", "enterprise")}
    with pytest.raises(RetainError):
        cohorts(saas, AS_OF, 6, by="product")


def test_running_month_cells_are_partial(saas):
    f = saas.execute(cohorts(saas, "2024-06-15", 6))
    assert set(f[~f.complete].month_start.astype(str)) == {"2024-06-01"}
    assert f[f.month_start.astype(str) < "2024-06-01"].complete.all()
    assert saas.execute(cohorts(saas, AS_OF, 6)).complete.all()
