"""A small seeded synthetic company for the models tests: churn driven by usage, surveys and tickets."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from retain.models.propensity import ModelSpec
from retain.schema import table as table_spec
from retain.warehouse import Warehouse

START = dt.date(2022, 1, 1)
PRODUCTS = ("core", "analytics", "automation", "api", "sso")


def _load(wh: Warehouse, name: str, frame: pd.DataFrame) -> None:
    spec = table_spec(name)
    for col in spec.stored_names:
        if col not in frame.columns:
            frame[col] = None
    frame = frame[spec.stored_names]
    wh.con.insert(name, frame.astype({c: "object" for c in frame.columns if frame[c].isna().all()}))


def build_company(wh: Warehouse, n: int = 300, days: int = 900, seed: int = 7) -> dt.date:
    """Fill ``wh`` with ``n`` accounts over ``days`` days; returns the last day of data."""
    rng = np.random.default_rng(seed)
    end = START + dt.timedelta(days=days)
    ids = np.array([f"A{i:04d}" for i in range(n)])
    start_off = rng.integers(0, days // 2, n)
    health = rng.normal(0, 1, n)  # latent health: drives usage, surveys, tickets, churn and expansion
    life = np.where(health < -0.3, rng.integers(120, 500, n), rng.integers(300, 3000, n))
    churn_off = start_off + life
    churned = churn_off < days
    segments = rng.choice(["smb", "mid_market", "enterprise"], n, p=[0.5, 0.35, 0.15])
    starts = [START + dt.timedelta(days=int(s)) for s in start_off]
    _load(wh, "accounts", pd.DataFrame({
        "account_id": ids, "name": ids, "segment": segments,
        "created_at": pd.to_datetime(starts).tz_localize("UTC"),
    }))
    seats = rng.integers(5, 60, n)
    subs = []
    for i in range(n):
        ended = START + dt.timedelta(days=int(churn_off[i])) if churned[i] else None
        subs.append((f"S{i}a", ids[i], "core", starts[i], 50.0 * seats[i], int(seats[i]),
                     starts[i] + dt.timedelta(days=365 * (1 + int(life[i]) // 365)), ended))
        if health[i] > 0.4 and start_off[i] + 200 < min(churn_off[i], days):
            extra_on = starts[i] + dt.timedelta(days=200)
            subs.append((f"S{i}b", ids[i], "analytics", extra_on, 20.0 * seats[i], int(seats[i]), None, ended))
    _load(wh, "subscriptions", pd.DataFrame(subs, columns=[
        "subscription_id", "account_id", "product_id", "started_on", "mrr", "quantity", "term_end_on", "ended_on",
    ]))
    # Weekly usage rows; usage fades over the last 120 days before churn.
    rows = []
    for i in range(n):
        last = min(churn_off[i], days)
        weeks = np.arange(start_off[i], last, 7)
        fade = np.clip((last - weeks) / 120.0, 0.2, 1.0) if churned[i] else np.ones(len(weeks))
        level = np.clip(0.6 + 0.25 * health[i], 0.05, 1.0) * seats[i] * fade
        users = rng.poisson(np.maximum(level, 0.1))
        for w, u in zip(weeks, users, strict=True):
            rows.append((ids[i], START + dt.timedelta(days=int(w)), "reports", int(u), float(u * 5)))
    _load(wh, "usage", pd.DataFrame(rows, columns=["account_id", "usage_on", "feature", "active_users", "events"]))
    # Surveys every ~120 days; score tracks health.
    surveys = []
    for i in range(n):
        for k, off in enumerate(range(int(start_off[i]) + 30, int(min(churn_off[i], days)), 120)):
            score = int(np.clip(round(7 + 2 * health[i] + rng.normal(0, 1.5)), 0, 10))
            at = pd.Timestamp(START + dt.timedelta(days=off), tz="UTC")
            surveys.append((f"R{i}-{k}", ids[i], at, "nps", score))
    _load(wh, "survey_responses", pd.DataFrame(surveys, columns=[
        "response_id", "account_id", "responded_at", "survey_type", "score",
    ]))
    tickets = []
    for i in range(n):
        rate = 0.02 * np.exp(-0.6 * health[i])
        opened = np.nonzero(rng.random(int(min(churn_off[i], days) - start_off[i])) < rate)[0]
        for k, off in enumerate(opened):
            at = pd.Timestamp(START + dt.timedelta(days=int(start_off[i] + off)), tz="UTC")
            tickets.append((f"T{i}-{k}", ids[i], at, "high" if rng.random() < 0.3 else "normal",
                            at + pd.Timedelta(days=2)))
    _load(wh, "support_tickets", pd.DataFrame(tickets, columns=[
        "ticket_id", "account_id", "opened_at", "priority", "resolved_at",
    ]))
    leads = [(f"L{i}", pd.Timestamp(START + dt.timedelta(days=int(start_off[i]) + 60), tz="UTC"), "referral",
              "new", ids[i]) for i in range(n) if health[i] > 1.0]
    _load(wh, "leads", pd.DataFrame(leads, columns=["lead_id", "created_at", "source", "status",
                                                      "referring_account_id"]))
    return end


# A small, fast churn model for tests (few trees), shared by the model tests.
FAST_CHURN = ModelSpec(target="churned", horizon_days=90, n_estimators=80, learning_rate=0.1)


def model_frame(n_accounts: int = 600, n_dates: int = 12, *, signal: str = "linear", seed: int = 0,
                horizon_days: int = 90, step_days: int = 30, unknown_tail: bool = True):
    """A synthetic :class:`~retain.models.frame.ModelFrame` (no warehouse): ``n_accounts`` observed every
    ``step_days`` at ``n_dates`` dates. ``signal``: ``linear`` (churn log-odds linear in x1, x2, x3), ``nonlinear``
    (churn when x1 and x2 share a sign: invisible to a linear model), ``none`` (no churn at all). Labels of the
    dates within one horizon of the last are unknown when ``unknown_tail``."""
    from retain.models.frame import ModelFrame, OutcomeSource

    rng = np.random.default_rng(seed)
    ids = np.array([f"M{i:06d}" for i in range(n_accounts)])
    base = rng.normal(0, 1, (n_accounts, 4))
    plans = rng.choice(["basic", "pro", "team"], n_accounts)
    end = dt.date(2024, 12, 31)
    dates = [end - dt.timedelta(days=step_days * k) for k in range(n_dates)][::-1]
    n = n_accounts * n_dates
    acc = np.tile(np.arange(n_accounts), n_dates)
    day = np.repeat(np.arange(n_dates), n_accounts)
    x = base[acc] * 0.8 + rng.normal(0, 0.6, (n, 4))
    if signal == "linear":
        logit = -2.2 + 1.1 * x[:, 0] - 0.8 * x[:, 1] + 0.5 * x[:, 2] + 0.4 * (plans[acc] == "basic")
    elif signal == "nonlinear":
        logit = -3.0 + 3.2 * (np.sign(x[:, 0]) == np.sign(x[:, 1]))
    else:
        logit = np.full(n, -50.0)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(float)
    frame = pd.DataFrame({"account_id": ids[acc], "as_of": [dates[d] for d in day],
                          "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "noise": x[:, 3],
                          "plan": plans[acc], "churned": y})
    frame.loc[rng.random(n) < 0.05, "x3"] = np.nan
    if unknown_tail:
        frame.loc[frame["as_of"] > end - dt.timedelta(days=horizon_days), "churned"] = np.nan
    groups = {"x1": "usage", "x2": "usage", "x3": "support", "noise": "noise", "plan": "plan"}
    return ModelFrame(frame, ("x1", "x2", "x3", "noise"), "churned", horizon_days, OutcomeSource.CHURN_EVENTS,
                      ("plan",), groups)
