import datetime as dt

import pandas as pd
import pytest
import yaml
from metrics_book import accounts_frame

from retain.errors import ConfigError
from retain.metrics.pareto import pareto_curve, ranked, top_share
from retain.metrics.profitability import ProfitabilitySpec, load_profitability_spec, profitability
from retain.metrics.revenue import account_revenue

AS_OF = dt.date(2024, 12, 31)


@pytest.fixture
def shop(wh):
    """Five customers over 2024: x subscribes all year at 100 with a 10 monthly discount; the others buy once."""
    wh.con.insert("accounts", accounts_frame({k: "smb" for k in "vwxyz"}))
    wh.con.insert("subscriptions", pd.DataFrame({
        "subscription_id": ["x1"], "account_id": ["x"], "product_id": ["core"], "started_on": [dt.date(2024, 1, 1)],
        "mrr": [100.0], "discount_amount": [10.0],
    }))
    wh.con.insert("transactions", pd.DataFrame({
        "transaction_id": ["t1", "t2", "t3", "t4", "old"], "account_id": ["v", "w", "y", "z", "v"],
        "occurred_at": pd.to_datetime(["2024-03-01", "2024-05-01", "2024-07-01", "2024-09-01", "2022-01-01"],
                                      utc=True),
        "amount": [600.0, 200.0, 100.0, 100.0, 999.0], "cost_amount": [100.0, 0.0, 0.0, 0.0, 0.0],
    }))
    wh.con.insert("support_tickets", pd.DataFrame({
        "ticket_id": [f"k{i}" for i in range(5)], "account_id": ["z", "z", "z", "y", "v"],
        "opened_at": pd.to_datetime(["2024-10-01"] * 4 + ["2023-01-01"], utc=True),
        "priority": ["urgent", "normal", "normal", "low", "normal"], "escalated": [True, False, False, False, False],
    }))
    return wh


def test_revenue_mixes_subscriptions_and_transactions(shop):
    r = shop.execute(account_revenue(shop, AS_OF, 12)).set_index("account_id")
    # x served the whole window: 366 days of 2024 at 100 a month
    assert r.loc["x", "revenue"] == pytest.approx(100 * 366 * 12 / 365.25)
    assert r.loc["x", "discounts"] == pytest.approx(10 * 366 * 12 / 365.25)
    assert r.loc["v", "revenue"] == 600  # the 2022 purchase is outside the window
    assert set(r.index) == set("vwxyz")


def test_cost_to_serve_finds_loss_makers(shop):
    spec = ProfitabilitySpec(cost_per_ticket=40, ticket_cost_by_priority={"urgent": 100}, escalation_cost=20)
    p = shop.execute(profitability(shop, AS_OF, spec)).set_index("account_id")
    assert p.loc["z", "tickets"] == 3 and p.loc["z", "support_cost"] == 100 + 20 + 40 + 40
    assert p.loc["z", "profit"] == 100 - 200 and p.loc["z", "loses_money"]
    assert p.loc["y", "profit"] == 60
    assert p.loc["v", "profit"] == 500  # transaction cost counted, the 2023 ticket is outside the window
    assert p.loc["x", "profit"] == pytest.approx(90 * 366 * 12 / 365.25)
    plain = shop.execute(profitability(shop, AS_OF, ProfitabilitySpec(subtract_discounts=False,
                                                                        cost_of_revenue_rate=0.1)))
    assert plain.set_index("account_id").loc["w", "profit"] == pytest.approx(180)


def test_pareto_shares_and_whale_curve(shop):
    spec = ProfitabilitySpec(cost_per_ticket=40, ticket_cost_by_priority={"urgent": 100}, escalation_cost=20)
    r = shop.execute(ranked(shop, AS_OF, spec)).set_index("account_id")
    assert r.loc["x", "revenue_rank"] == 1 and r.loc["v", "revenue_rank"] == 2
    total = r.revenue.sum()
    top = shop.execute(top_share(shop, AS_OF, 0.2, spec)).iloc[0]
    assert top.top_customers == 1
    assert top.top_revenue_share == pytest.approx(r.loc["x", "revenue"] / total)
    curve = shop.execute(pareto_curve(shop, AS_OF, spec, points=5))
    assert list(curve.customers) == [1, 2, 3, 4, 5]
    assert curve.revenue_share.iloc[-1] == pytest.approx(1.0)
    assert curve.profit_share.max() > 1.0  # the loss maker pulls the last point back down to 100%
    assert curve.profit_share.iloc[-1] == pytest.approx(1.0)


def test_profitability_yaml_reports_every_problem(tmp_path):
    good = tmp_path / "p.yaml"
    good.write_text(yaml.safe_dump({"version": 1, "cost_per_ticket": 12.5, "ticket_cost_by_priority": {"high": 30}}))
    assert load_profitability_spec(good).cost_per_ticket == 12.5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"version": 1, "cost_per_ticket": -1, "colour": "red"}))
    with pytest.raises(ConfigError) as err:
        load_profitability_spec(bad)
    assert "cost_per_ticket" in err.value.message and "colour" in err.value.message
