import datetime as dt

import pandas as pd

from retain.warehouse import Warehouse


def _subs(wh: Warehouse) -> None:
    wh.con.insert("subscriptions", pd.DataFrame({
        "subscription_id": ["s1", "s2"], "account_id": ["a", "a"], "product_id": ["p", "p"],
        "started_on": [dt.date(2024, 1, 1), dt.date(2024, 7, 1)], "mrr": [10.0, 20.0],
        "ended_on": [dt.date(2024, 5, 1), None], "cancel_reason": ["price", None],
    }))


def test_rows_after_as_of_are_invisible(wh):
    _subs(wh)
    seen = wh.execute(wh.as_of("subscriptions", "2024-03-01"))
    assert list(seen.subscription_id) == ["s1"]


def test_late_revealed_columns_are_hidden_until_their_date(wh):
    _subs(wh)
    before = wh.execute(wh.as_of("subscriptions", "2024-04-30")).set_index("subscription_id")
    assert pd.isna(before.loc["s1", "ended_on"]) and pd.isna(before.loc["s1", "cancel_reason"])
    after = wh.execute(wh.as_of("subscriptions", "2024-05-01")).set_index("subscription_id")
    assert after.loc["s1", "cancel_reason"] == "price"


def test_timestamps_count_until_end_of_day(wh):
    wh.con.insert("accounts", pd.DataFrame({
        "account_id": ["a", "b"], "name": ["A", "B"],
        "created_at": pd.to_datetime(["2024-03-01 23:59:59", "2024-03-02 00:00:00"], utc=True),
    }))
    assert list(wh.execute(wh.as_of("accounts", dt.date(2024, 3, 1))).account_id) == ["a"]


def test_sql_is_inspectable(wh):
    assert "subscriptions" in wh.sql(wh.as_of("subscriptions", "2024-01-01"))
