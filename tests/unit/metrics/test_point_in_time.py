"""Rows dated after ``as_of`` (and end dates reached after it) change nothing computed as of that date."""

import datetime as dt

import pandas as pd
import pytest
from metrics_book import AS_OF, SUBS, accounts_frame, subs_frame

from retain.metrics.churn_reasons import churn_reasons
from retain.metrics.cohorts import cohorts
from retain.metrics.products_held import products_held
from retain.metrics.profitability import profitability
from retain.metrics.retention import logo_retention, revenue_retention
from retain.metrics.rfm import rfm_accounts
from retain.metrics.survival import survival
from retain.warehouse import Warehouse

D = dt.date

FUTURE_SUBS = [
    ("g1", "g", "core", D(2024, 7, 1), None, 500.0, None),  # a customer who signs after as_of
    ("b2", "b", "core", D(2024, 8, 1), None, 90.0, None),  # b comes back after as_of
]


def _book(future: bool) -> Warehouse:
    wh = Warehouse.open(":memory:")
    segments = {"a": "smb", "b": "smb", "c": "enterprise", "d": "enterprise", "e": "smb", "f": "enterprise"}
    rows = list(SUBS)
    if future:
        segments["g"] = "smb"
        rows += FUTURE_SUBS
        # a2 and d2 end after as_of: the end (and its reason) must stay hidden
        rows = [(*r[:4], D(2024, 9, 1), r[5], "price") if r[0] in {"a2", "d2"} else r for r in rows]
    accounts = accounts_frame(segments)
    if future:
        accounts.loc[accounts.account_id == "g", "created_at"] = pd.Timestamp("2024-07-01", tz="UTC")
    wh.con.insert("accounts", accounts)
    wh.con.insert("subscriptions", subs_frame(rows))
    wh.con.insert("transactions", pd.DataFrame({
        "transaction_id": ["t1"] + (["t2"] if future else []), "account_id": ["a"] + (["c"] if future else []),
        "occurred_at": pd.to_datetime(["2024-06-30 23:00"] + (["2024-07-01 00:00"] if future else []), utc=True),
        "amount": [50.0] + ([70.0] if future else []),
    }))
    wh.con.insert("support_tickets", pd.DataFrame({
        "ticket_id": ["k1"] + (["k2"] if future else []), "account_id": ["d"] + (["d"] if future else []),
        "opened_at": pd.to_datetime(["2024-06-01"] + (["2024-07-02"] if future else []), utc=True),
    }))
    return wh


METRICS = {
    "retention": lambda wh: logo_retention(wh, AS_OF, "month", 12, by="segment"),
    "revenue": lambda wh: revenue_retention(wh, AS_OF, "quarter", 4, by="product"),
    "cohorts": lambda wh: cohorts(wh, AS_OF, 24),
    "churn_reasons": lambda wh: churn_reasons(wh, AS_OF, "quarter", 4),
    "products_held": lambda wh: products_held(wh, AS_OF, 6),
    "profitability": lambda wh: profitability(wh, AS_OF),
    "rfm": lambda wh: rfm_accounts(wh, AS_OF),
}


@pytest.fixture(scope="module")
def books():
    return _book(False), _book(True)


@pytest.mark.parametrize("name", list(METRICS))
def test_future_rows_change_nothing(books, name):
    now, later = books
    build = METRICS[name]
    before = now.execute(build(now)).reset_index(drop=True)
    after = later.execute(build(later)).reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)


def test_future_rows_do_not_change_survival(books):
    now, later = books
    pd.testing.assert_frame_equal(survival(now, AS_OF), survival(later, AS_OF))


def test_future_rows_do_count_later(books):
    _, later = books
    july = later.execute(logo_retention(later, "2024-07-31", "month", 1)).iloc[0]
    assert july.new == 1 and july.reactivated == 0  # g is new; b's return is in August
    august = later.execute(logo_retention(later, "2024-08-31", "month", 1)).iloc[0]
    assert august.reactivated == 1
