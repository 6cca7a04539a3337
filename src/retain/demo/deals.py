"""What a CRM export adds to the demo's deals: engagement, messy stage history, rep forecasts and a new product.

The causal story: each deal has a hidden engagement (higher on the deals that were won, lower on those lost, drawn
from the middle for open ones). Engaged buyers meet more, answer (inbound activities), bring more people and their
decision maker; disengaged deals slide back a stage (a regression in the stage history) and push their expected
close date more often (lost deals most). The CRM probability is the stage's default nudged by the owner's
optimism (each rep over- or under-calls) and the forecast category each history row and deal carries follows it
(Salesforce's default bands), so the CRM's fields are a fair but imperfect baseline. A new-product deal's
amount is its units x the product's yearly list price, which is how Retain counts units without a quantity.

The new product: ``p_copilot`` ("Retain Copilot") is launched at the start of the fiscal year that contains the
demo's last day (fiscal years start on 1 February). Its goal (the seed's example, shipped in
``retain/sales/demo_goals.yaml``): 1,000 units in that fiscal year, 70 % of them sold as add-ons to existing
customers. Its deals are generated near that pace, about two thirds of them add-ons.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from retain.demo._base import _ARROW, DAY, stream
from retain.demo.spec import DemoSpec
from retain.schema import table

NEW_PRODUCT = ("p_copilot", "Retain Copilot", "copilot", False, 20.0)
FISCAL_START_MONTH = 2
UNITS_TARGET = 1000
ADD_ON_SHARE = 0.7
STAGE_PROB = {"prospecting": 0.1, "discovery": 0.25, "proposal": 0.5, "negotiation": 0.75}
OPEN_STAGES = tuple(STAGE_PROB)


def fiscal_year(end: dt.date) -> tuple[dt.date, dt.date]:
    """The fiscal year (1 February to 31 January) containing ``end``."""
    year = end.year if end.month >= FISCAL_START_MONTH else end.year - 1
    return dt.date(year, FISCAL_START_MONTH, 1), dt.date(year + 1, FISCAL_START_MONTH, 1) - dt.timedelta(days=1)


def forecast_category(probability: np.ndarray) -> np.ndarray:
    """The CRM's forecast category of a probability (Salesforce's default bands)."""
    p = np.asarray(probability, dtype=float)
    return np.select([p >= 1.0, p >= 0.7, p >= 0.4, p > 0.0], ["closed", "commit", "best_case", "pipeline"],
                     "omitted").astype(object)


def _ts(seconds: np.ndarray) -> pd.Series:
    return pd.to_datetime(np.asarray(seconds, dtype=np.int64), unit="s", utc=True)


def _seconds(col: pd.Series) -> np.ndarray:
    values = pd.to_datetime(col, utc=True)
    out = (values - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    return out.fillna(np.iinfo(np.int64).min).to_numpy(dtype=np.int64)


def enrich_deals(spec: DemoSpec, tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """``tables`` with the new product and its deals, deal engagement activities, stage regressions and
    rep-biased CRM probabilities."""
    rng = stream(spec, "deals")
    horizon = (pd.Timestamp(spec.end) + pd.Timedelta(days=1)).tz_localize("UTC")
    opps = tables["opportunities"].to_pandas()
    stages = tables["opportunity_stages"].to_pandas()
    accounts = tables["accounts"].to_pandas()
    products = tables["products"].to_pandas()
    new_opps, new_stages = _new_product_deals(spec, rng, accounts, opps, horizon)
    opps = pd.concat([opps, new_opps], ignore_index=True)
    stages = pd.concat([stages, new_stages], ignore_index=True)
    closed = opps["closed_at"].notna()
    won = opps["is_won"].fillna(False).astype(bool).to_numpy()
    engagement = rng.normal(np.where(~closed, 0.1, np.where(won, 0.8, -0.6)), 1.0)
    stages = _regressions(rng, stages, opps, engagement)
    owners = opps["owner_id"].fillna("-").unique()
    optimism = dict(zip(owners, rng.normal(0.0, 0.12, len(owners)), strict=True))
    bias = stages["opportunity_id"].map(dict(zip(opps["opportunity_id"], opps["owner_id"].fillna("-").map(optimism),
                                                 strict=True))).fillna(0.0)
    is_open_stage = stages["stage"].isin(OPEN_STAGES)
    noisy = (stages["probability"] + bias + rng.normal(0, 0.05, len(stages))).clip(0.05, 0.95).round(2)
    stages["probability"] = np.where(is_open_stage, noisy, stages["probability"])
    stages = _close_dates(stream(spec, "close_dates"), stages, opps, engagement)  # its own stream: the rest
    stages["forecast_category"] = forecast_category(stages["probability"])  # of the company is unchanged
    last = stages.sort_values("entered_at").groupby("opportunity_id").tail(1).set_index("opportunity_id")
    prob = opps["opportunity_id"].map(last["probability"]).fillna(opps["probability"])
    opps["probability"] = prob.to_numpy()
    opps["forecast_category"] = forecast_category(opps["probability"])
    acts = _engagement(rng, opps, tables["contacts"].to_pandas(), engagement, horizon)
    products = pd.concat([products, pd.DataFrame([{
        "product_id": NEW_PRODUCT[0], "name": NEW_PRODUCT[1], "family": NEW_PRODUCT[2], "is_addon": NEW_PRODUCT[3],
        "seat_based": True, "list_mrr": NEW_PRODUCT[4], "currency": "USD",
        "launched_on": fiscal_year(spec.end)[0]}])], ignore_index=True)
    out = dict(tables)
    out["opportunities"] = _arrow(opps.drop(columns="quantity"),
                                  _schema("opportunities", tables["opportunities"].schema, "forecast_category"))
    out["opportunity_stages"] = _arrow(stages.sort_values(["opportunity_id", "entered_at"]),
                                       _schema("opportunity_stages", tables["opportunity_stages"].schema,
                                               "close_on", "forecast_category"))
    out["products"] = _arrow(products, tables["products"].schema)
    activities = tables["activities"].to_pandas()
    out["activities"] = _arrow(pd.concat([activities, acts], ignore_index=True), tables["activities"].schema)
    return out


def _arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def _schema(name: str, schema: pa.Schema, *added: str) -> pa.Schema:
    """``schema`` with the canonical columns ``added``, in the data model's column order."""
    keep = set(schema.names) | set(added)
    spec = table(name)
    return pa.schema([pa.field(c.name, _ARROW[c.dtype], nullable=not c.required) for c in spec.columns
                      if c.name in keep])


def _close_dates(rng: np.random.Generator, stages: pd.DataFrame, opps: pd.DataFrame,
                 engagement: np.ndarray) -> pd.DataFrame:
    """Each stage-history row's expected close date: the deal's final close date less the pushes still to come.

    Every row after a deal's first may carry a push (7-45 days), more likely on disengaged deals and on deals
    that end lost; a row's date is the final one minus the pushes recorded after it, never earlier than two
    weeks after the deal opened (nor later than the final date). The opportunity's own ``close_on`` (and, for a
    closed deal, the close row's date) is therefore unchanged, and the history tells when it slipped.
    """
    s = stages.sort_values(["opportunity_id", "entered_at"]).reset_index(drop=True)
    final = pd.to_datetime(pd.Series(opps["close_on"].to_numpy(), index=opps["opportunity_id"]))
    opened = pd.to_datetime(pd.Series(opps["created_at"].to_numpy(), index=opps["opportunity_id"]), utc=True)
    eng = pd.Series(engagement, index=opps["opportunity_id"])
    lost = pd.Series((opps["closed_at"].notna() & ~opps["is_won"].fillna(False).astype(bool)).to_numpy(),
                     index=opps["opportunity_id"])
    first = ~s["opportunity_id"].duplicated()
    e = s["opportunity_id"].map(eng).to_numpy(dtype=float)
    p = 0.5 / (1 + np.exp(1.6 * e)) + 0.1 * s["opportunity_id"].map(lost).to_numpy(dtype=bool)
    days = np.where(~first & (rng.random(len(s)) < p), rng.integers(7, 46, len(s)), 0)
    by_deal = pd.Series(days, index=s.index).groupby(s["opportunity_id"])
    after = by_deal.transform("sum") - by_deal.cumsum()  # the days of the pushes recorded after each row
    end = s["opportunity_id"].map(final)
    floor = s["opportunity_id"].map(opened).dt.tz_localize(None).dt.normalize() + pd.Timedelta(days=14)
    close = (end - pd.to_timedelta(after, unit="D")).clip(lower=floor).where(lambda x: x < end, end)
    s["close_on"] = close.dt.date.where(end.notna(), None)
    return s


def _new_product_deals(spec: DemoSpec, rng: np.random.Generator, accounts: pd.DataFrame, opps: pd.DataFrame,
                       horizon: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deals for the new product since its launch: near the goal's pace, about 70 % add-ons to customers."""
    start, end = fiscal_year(spec.end)
    launch = pd.Timestamp(start, tz="UTC")
    if launch >= horizon:
        return opps.iloc[0:0], pd.DataFrame(columns=["opportunity_id", "entered_at", "stage", "amount", "probability"])
    elapsed = (horizon - launch).days / ((end - start).days + 1)
    units_due = UNITS_TARGET * elapsed * rng.uniform(0.9, 1.02)
    mean_qty = 12.0
    n_won = max(4, int(round(units_due / mean_qty)))
    n = int(n_won / 0.55)
    span = (horizon - launch).total_seconds()
    created = launch + pd.to_timedelta(rng.uniform(0, 0.85, n) * span, unit="s")
    add_on = rng.random(n) < 0.68
    customers = accounts[pd.to_datetime(accounts["created_at"], utc=True) < launch]
    pick = customers.sample(n, replace=True, random_state=int(rng.integers(1 << 30)))
    cycle = pd.to_timedelta(rng.uniform(20, 75, n), unit="D")
    closed_at = created + cycle
    is_open = closed_at >= horizon
    won = (rng.random(n) < 0.62) & ~is_open
    qty = np.maximum(1, np.round(rng.lognormal(np.log(mean_qty) - 0.18, 0.6, n))).astype("int64")
    ids = [f"opp_c{i:06d}" for i in range(n)]
    frame = pd.DataFrame({
        "opportunity_id": ids, "created_at": created, "opportunity_type": np.where(add_on, "add_on", "new_business"),
        "stage": np.where(is_open, "proposal", np.where(won, "closed_won", "closed_lost")),
        "account_id": np.where(add_on, pick["account_id"].to_numpy(), None),
        "lead_id": None, "name": np.where(add_on, pick["name"].to_numpy(), "Prospect") + " - copilot",
        "owner_id": pick["owner_id"].to_numpy(), "amount": qty * NEW_PRODUCT[4] * 12.0, "currency": "USD",
        "product_id": NEW_PRODUCT[0],
        "close_on": pd.Series(closed_at.date if hasattr(closed_at, "date") else closed_at).to_numpy(),
        "closed_at": closed_at.where(~is_open), "is_won": pd.Series(won, dtype=object).where(~is_open, None),
        "loss_reason": np.where(won | is_open, None, rng.choice(["price", "competitor", "timing", "no_decision"], n)),
        "competitor": None, "probability": np.where(is_open, 0.5, np.where(won, 1.0, 0.0)), "quantity": qty,
    })
    frame["close_on"] = pd.to_datetime(frame["close_on"]).dt.date
    rows = []
    for k, stage in enumerate(OPEN_STAGES[:3]):
        rows.append(pd.DataFrame({"opportunity_id": ids, "entered_at": created + cycle * (k / 3) + pd.Timedelta(
            seconds=k), "stage": stage, "amount": frame["amount"], "probability": STAGE_PROB[stage]}))
    done = ~is_open
    rows.append(pd.DataFrame({"opportunity_id": np.asarray(ids)[done], "entered_at": closed_at[done],
                              "stage": np.where(won[done], "closed_won", "closed_lost"),
                              "amount": frame["amount"][done], "probability": np.where(won[done], 1.0, 0.0)}))
    hist = pd.concat(rows, ignore_index=True)
    hist = hist[hist["entered_at"] < horizon]
    return frame, hist


def _regressions(rng: np.random.Generator, stages: pd.DataFrame, opps: pd.DataFrame,
                 engagement: np.ndarray) -> pd.DataFrame:
    """Disengaged deals slide back: a re-entry of the previous stage halfway between two stage entries."""
    eng = dict(zip(opps["opportunity_id"], engagement, strict=True))
    s = stages.sort_values(["opportunity_id", "entered_at"]).reset_index(drop=True)
    nxt = s.groupby("opportunity_id")["entered_at"].shift(-1)
    prev_stage = s.groupby("opportunity_id")["stage"].shift(1)
    e = s["opportunity_id"].map(eng).to_numpy(dtype=float)
    p = 0.35 / (1 + np.exp(2.0 * e))
    hit = prev_stage.isin(OPEN_STAGES) & s["stage"].isin(OPEN_STAGES) & nxt.notna() & (rng.random(len(s)) < p)
    back = s[hit].copy()
    back["entered_at"] = back["entered_at"] + (nxt[hit] - back["entered_at"]) / 2
    back["stage"] = prev_stage[hit]
    back["probability"] = back["stage"].map(STAGE_PROB)
    return pd.concat([s, back], ignore_index=True)


def _engagement(rng: np.random.Generator, opps: pd.DataFrame, contacts: pd.DataFrame, engagement: np.ndarray,
                horizon: pd.Timestamp) -> pd.DataFrame:
    """Activities on each deal over its life: more of them, more inbound answers, more people and the decision
    maker on engaged deals. Contacts only where the account existed before the deal (an add-on or renewal)."""
    created = pd.to_datetime(opps["created_at"], utc=True)
    end = pd.to_datetime(opps["closed_at"], utc=True).fillna(horizon).clip(upper=horizon)
    days = ((end - created).dt.total_seconds() / DAY).clip(lower=1).to_numpy()
    count = rng.poisson(days / 9.0 * np.exp(0.45 * engagement))
    row = np.repeat(np.arange(len(opps)), count)
    start = _seconds(created)[row]
    at = start + np.round(rng.random(len(row)) * days[row] * DAY).astype(np.int64)
    e = engagement[row]
    inbound = rng.random(len(row)) < 1 / (1 + np.exp(-(e - 0.2)))
    kind = np.where(rng.random(len(row)) < 0.3, "meeting", np.where(inbound, "email", "call"))
    existing = opps["opportunity_type"].isin(["add_on", "renewal"]).to_numpy()[row]
    by_account = contacts.groupby("account_id")
    dm = by_account.apply(lambda g: g.loc[g["role"].isin(["decision_maker", "executive_sponsor"]), "contact_id"]
                          .head(1).tolist(), include_groups=False)
    other = by_account["contact_id"].apply(list)
    account = opps["account_id"].to_numpy()[row]
    want_dm = rng.random(len(row)) < 1 / (1 + np.exp(-(e - 0.5)))
    contact = np.full(len(row), None, dtype=object)
    u = rng.random(len(row))
    for i in np.flatnonzero(existing & pd.notna(account)):
        people = dm.get(account[i], []) if want_dm[i] else []
        people = people or other.get(account[i], [])
        if people:
            contact[i] = people[int(u[i] * len(people))]
    ok = at < int(horizon.timestamp())
    return pd.DataFrame({
        "activity_id": [f"act_d{i:08d}" for i in range(len(row))], "occurred_at": _ts(at),
        "activity_type": kind, "account_id": None, "lead_id": None,
        "opportunity_id": opps["opportunity_id"].to_numpy()[row], "contact_id": contact,
        "member_id": opps["owner_id"].to_numpy()[row], "direction": np.where(inbound, "inbound", "outbound"),
        "subject": np.where(inbound, "buyer reply", "deal follow-up"), "outcome": "completed",
    })[ok].reset_index(drop=True)
