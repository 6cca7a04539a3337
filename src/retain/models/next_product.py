"""Next product to offer: cross-sell toward 3–5 products, from what similar accounts bought next.

Among accounts of the same segment, the rate at which holders of product A later bought product B
(``buy_rate(A→B)``, smoothed toward the all-segment rate) is read from subscriptions known at ``as_of``.
Each customer holding fewer than ``max_products`` products is offered the B it does not hold with the highest
rate over the products it holds.
"""

from __future__ import annotations

import ibis
import pandas as pd

from retain.models.labels import running_subscriptions
from retain.warehouse import AsOf, Warehouse, as_of_date


def cross_sell_rates(wh: Warehouse, as_of: AsOf, *, smoothing: float = 5.0) -> pd.DataFrame:
    """segment, held (A), product (B), holders, buyers, rate: how often holders of A later bought B."""
    day = as_of_date(as_of)
    subs = wh.as_of("subscriptions", day)
    acc = wh.as_of("accounts", day).select("account_id", segment=ibis._.segment.fill_null("unknown"))
    first = subs.group_by(["account_id", "product_id"]).aggregate(first_on=subs.started_on.min())
    first = first.join(acc, "account_id")
    a = first.rename(held="product_id", held_on="first_on")
    b = first.select(b_account="account_id", product="product_id", bought_on="first_on")
    pairs = a.join(b, (a.account_id == b.b_account) & (a.held_on < b.bought_on))
    bought = wh.execute(pairs.group_by(["segment", "held", "product"]).aggregate(buyers=pairs.account_id.nunique()))
    holders = wh.execute(a.group_by(["segment", "held"]).aggregate(holders=a.account_id.nunique()))
    if bought.empty:
        return pd.DataFrame(columns=["segment", "held", "product", "holders", "buyers", "rate"])
    rates = bought.merge(holders, on=["segment", "held"], how="left")
    overall = rates.groupby(["held", "product"], as_index=False)[["buyers", "holders"]].sum()
    overall["overall_rate"] = overall["buyers"] / overall["holders"].clip(lower=1)
    rates = rates.merge(overall[["held", "product", "overall_rate"]], on=["held", "product"])
    rates["rate"] = (rates["buyers"] + smoothing * rates["overall_rate"]) / (rates["holders"] + smoothing)
    return rates.drop(columns="overall_rate").sort_values(["segment", "held", "rate"], ascending=[True, True, False])


def next_products(wh: Warehouse, as_of: AsOf, *, max_products: int = 5) -> pd.DataFrame:
    """account_id, next_product, next_product_rate for customers holding fewer than ``max_products``."""
    day = as_of_date(as_of)
    rates = cross_sell_rates(wh, day)
    now = running_subscriptions(wh, day)
    acc = wh.as_of("accounts", day).select("account_id", segment=ibis._.segment.fill_null("unknown"))
    held = now.select("account_id", "product_id").distinct().join(acc, "account_id")
    held = wh.execute(held.select("account_id", "segment", held=held.product_id))
    counts = held.groupby("account_id")["held"].transform("size")
    held = held[counts < max_products]
    columns = ["account_id", "next_product", "next_product_rate"]
    if held.empty or rates.empty:
        return pd.DataFrame(columns=columns)
    cand = held.merge(rates[["segment", "held", "product", "rate"]], on=["segment", "held"])
    owned = held[["account_id", "held"]].rename(columns={"held": "product"}).assign(_owned=True)
    cand = cand.merge(owned, on=["account_id", "product"], how="left")
    cand = cand[cand["_owned"].isna()]
    best = cand.groupby(["account_id", "product"], as_index=False)["rate"].max()
    best = best.sort_values(["account_id", "rate", "product"], ascending=[True, False, True])
    best = best.drop_duplicates("account_id")
    return best.rename(columns={"product": "next_product", "rate": "next_product_rate"})[columns].reset_index(
        drop=True
    )


