"""``Warehouse.store_result`` checks a frame against its spec and owns layout changes."""

import datetime as dt

import pandas as pd
import pytest

from retain.errors import ResultError
from retain.warehouse import Warehouse

DAY = dt.date(2024, 6, 30)


@pytest.fixture
def wh():
    return Warehouse.open(":memory:")


def _clv(**extra) -> pd.DataFrame:
    return pd.DataFrame({"account_id": ["a", "b"], "clv": [10.0, 20.0]} | extra)


def test_a_result_is_stored_with_exactly_its_declared_columns(wh):
    wh.store_result("clv", _clv(), DAY)
    stored = wh.execute(wh.result("clv", DAY))
    assert list(stored.columns) == ["account_id", "clv", "expected_purchases", "p_alive", "expected_spend", "method",
                                    "as_of"]
    assert stored["method"].isna().all() and stored["clv"].tolist() == [10.0, 20.0]


def test_integers_cast_to_declared_floats(wh):
    wh.store_result("clv", pd.DataFrame({"account_id": ["a"], "clv": [10]}), DAY)
    assert str(wh.raw_result("clv").schema()["clv"]).startswith("float64")


@pytest.mark.parametrize(("frame", "message"), [
    (_clv(value=[1.0, 2.0]), "result 'clv' does not fit its spec: unexpected column 'value'"),
    (pd.DataFrame({"clv": [1.0]}), "missing column 'account_id'"),
    (_clv(method=[1.0, 2.0]), "column 'method' is float64, which does not cast to string"),
    (pd.DataFrame({"account_id": ["a", None], "clv": [1.0, 2.0]}), "nulls in its never-null column(s) account_id"),
])
def test_a_frame_that_does_not_fit_is_refused_naming_result_and_column(wh, frame, message):
    with pytest.raises(ResultError) as err:
        wh.store_result("clv", frame, DAY)
    assert message in str(err.value)
    assert "result_clv" not in wh.con.list_tables()


def test_every_problem_is_reported_at_once(wh):
    with pytest.raises(ResultError) as err:
        wh.store_result("clv", pd.DataFrame({"score": [1.0], "clv": ["x"]}), DAY)
    text = str(err.value)
    assert "unexpected column 'score'" in text and "missing column 'account_id'" in text and "'clv' is string" in text


def test_an_undeclared_result_is_refused(wh):
    with pytest.raises(ResultError, match="result 'scores' is not declared"):
        wh.store_result("scores", _clv(), DAY)


def test_dated_results_need_a_date_and_undated_ones_refuse_it(wh):
    with pytest.raises(ResultError, match="stored per date"):
        wh.store_result("clv", _clv())
    with pytest.raises(ResultError, match="without a date"):
        wh.store_result("demo_spec", pd.DataFrame({"spec": ["{}"]}), DAY)


def test_an_older_layout_is_rebuilt_by_the_warehouse(wh):
    wh.con.raw_sql('CREATE TABLE "result_clv" (account_id VARCHAR, value DOUBLE, as_of DATE)')
    wh.store_result("clv", _clv(), DAY)
    assert "value" not in wh.raw_result("clv").columns
    wh.store_result("clv", _clv(), DAY + dt.timedelta(days=1))  # same layout: the earlier date is kept
    assert len(wh.execute(wh.raw_result("clv"))) == 4


def test_storing_a_date_again_replaces_it(wh):
    wh.store_result("clv", _clv(), DAY)
    wh.store_result("clv", _clv().iloc[:1], DAY)
    assert len(wh.execute(wh.result("clv", DAY))) == 1


def test_an_empty_frame_takes_the_declared_types(wh):
    wh.store_result("clv", pd.DataFrame({"account_id": pd.Series(dtype=float), "clv": pd.Series(dtype=object)}), DAY)
    assert str(wh.raw_result("clv").schema()["account_id"]).startswith("string")
    assert wh.execute(wh.result("clv", DAY)).empty
