import datetime as dt

import pytest

from retain.errors import RetainError
from retain.metrics.periods import period_frame, scale_churn_rate, shift_months, window_start


def test_quarter_frame_snapshots_and_running_period():
    f = period_frame("2024-05-15", "quarter", 3)
    assert list(f.period) == ["2023-Q4", "2024-Q1", "2024-Q2"]
    assert f.open_day.iloc[1] == dt.date(2023, 12, 31)
    assert f.close_day.iloc[1] == dt.date(2024, 3, 31)
    assert f.close_day.iloc[2] == dt.date(2024, 5, 15)  # capped at as_of
    assert list(f.complete) == [True, True, False]
    # complete quarters annualise with ^4; the running one (45 of 91 days) by its elapsed share
    assert list(f.periods_per_year) == pytest.approx([4, 4, 4 * 91 / 45])


def test_last_day_of_period_is_complete():
    f = period_frame("2024-12-31", "year", 2)
    assert list(f.period) == ["2023", "2024"] and f.complete.all()


def test_churn_rate_scaling_round_trip():
    annual = scale_churn_rate(0.02, 1, 12)
    assert annual == pytest.approx(1 - 0.98**12)
    assert scale_churn_rate(annual, 12, 1) == pytest.approx(0.02)
    assert scale_churn_rate(0.1, 3, 12) == pytest.approx(1 - 0.9**4)
    with pytest.raises(RetainError):
        scale_churn_rate(1.5)


def test_month_shifts_clip_to_month_end():
    assert shift_months(dt.date(2024, 3, 31), -1) == dt.date(2024, 2, 29)
    assert window_start(dt.date(2024, 6, 30), 12) == dt.date(2023, 7, 1)


def test_bad_grain_is_a_user_error():
    with pytest.raises(RetainError, match="unknown grain"):
        period_frame("2024-01-01", "week")
