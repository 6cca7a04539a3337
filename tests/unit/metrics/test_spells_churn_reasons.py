import pandas as pd
import pytest
from metrics_book import AS_OF

from retain.metrics.churn_reasons import churn_reasons, reason_totals
from retain.metrics.spells import churn_events, spells


def test_spells_join_back_to_back_periods_and_split_gaps(saas):
    s = saas.execute(spells(saas, AS_OF))
    assert s.groupby("account_id").spell_no.max().to_dict() == {"a": 1, "b": 1, "c": 2, "d": 1, "e": 1, "f": 1}
    c2 = s[(s.account_id == "c") & (s.spell_no == 2)].iloc[0]
    assert str(c2.spell_start).startswith("2024-03-10") and pd.isna(c2.spell_end)


def test_churn_events_carry_reason_and_mrr(saas):
    e = saas.execute(churn_events(saas, AS_OF)).set_index("account_id")
    assert e.cancel_reason.to_dict() == {"b": "price", "c": "budget", "e": "no_value", "f": "competitor"}
    assert e.loc["b", "mrr_lost"] == 200
    # an upgrade (a1 -> a2) is not a churn
    assert "a" not in e.index and "d" not in e.index


def test_churn_reasons_per_quarter(saas):
    r = saas.execute(churn_reasons(saas, AS_OF, "quarter", 4))
    rows = {(x.period, x.cancel_reason): x for x in r.itertuples()}
    # f's first day without service is 2024-04-01: a Q2 churn, as in the retention decomposition
    assert rows[("2024-Q2", "competitor")].churned == 1
    assert rows[("2024-Q1", "price")].share_of_mrr_lost == pytest.approx(200 / 210)
    assert rows[("2024-Q1", "price")].arr_lost == 2400
    totals = saas.execute(reason_totals(saas, AS_OF, "quarter", 4)).set_index("cancel_reason")
    assert totals.churned.sum() == 4 and totals.share_of_churned.sum() == pytest.approx(1.0)
    by = saas.execute(churn_reasons(saas, AS_OF, "year", 1, by="segment"))
    assert set(zip(by.dimension_value, by.cancel_reason, strict=True)) == {
        ("smb", "price"), ("smb", "no_value"), ("enterprise", "competitor")}


def test_running_period_of_churn_reasons_is_partial(saas):
    r = saas.execute(churn_reasons(saas, "2024-05-15", "quarter", 2))
    assert dict(zip(r.period, r.complete, strict=True)) == {"2024-Q1": True, "2024-Q2": False}
    assert saas.execute(churn_reasons(saas, AS_OF, "quarter", 2)).complete.all()
