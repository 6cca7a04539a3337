"""The bank and app profiles: their shapes, determinism, and the causal story visible in the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from demo_checks import auc, panel

from retain.demo import DemoProfile, DemoSpec, generate, write_parquet
from retain.schema import TABLES

BANK_TABLES = {"team_members", "products", "accounts", "subscriptions", "churn_events", "support_tickets",
               "survey_responses", "usage"}
APP_TABLES = {"products", "accounts", "subscriptions", "churn_events", "support_tickets", "product_events"}
EXTRA_COLUMNS = {"bank": {"age", "income_band"}, "app": {"platform", "auto_renew"}}


@pytest.fixture(scope="module")
def bank():
    data = generate(DemoSpec(profile="bank", accounts=2500, seed=11))
    return data, {k: v.to_pandas() for k, v in data.all_tables().items()}


@pytest.fixture(scope="module")
def app():
    data = generate(DemoSpec(profile="app", accounts=3000, seed=11))
    return data, {k: v.to_pandas() for k, v in data.all_tables().items()}


def test_profiles_default_their_size_and_span():
    assert (DemoSpec().accounts, DemoSpec().years) == (3000, 3.0)
    assert DemoSpec().profile is DemoProfile.SAAS
    assert (DemoSpec(profile="bank").accounts, DemoSpec(profile="app").accounts) == (5000, 10_000)
    assert DemoSpec(profile="app").years == 1.5 and DemoSpec(profile="app", years=1).years == 1
    with pytest.raises(ValueError, match="profile"):
        DemoSpec(profile="insurer")


@pytest.mark.parametrize(("profile", "expected"), [("bank", BANK_TABLES), ("app", APP_TABLES)])
def test_tables_follow_the_data_model(profile, expected, request):
    data, t = request.getfixturevalue(profile)
    assert set(t) == expected
    for name, frame in t.items():
        spec = TABLES[name]
        extra = set(frame.columns) - set(spec.names)
        assert extra == (EXTRA_COLUMNS[profile] if name == "accounts" else set()), (name, extra)
        assert set(spec.required) <= set(frame.columns), name
        assert len(frame) > 0, name
        assert not frame.duplicated(list(spec.key)).any(), name
        for col in spec.columns:
            if col.enum and col.name in frame:
                assert set(frame[col.name].dropna()) <= set(col.enum), (name, col.name)


def test_bank_has_holdings_without_seats(bank):
    _, t = bank
    assert not t["products"].seat_based.any() and len(t["products"]) == 6
    subs = t["subscriptions"]
    assert "quantity" not in subs and "billing_period" not in subs
    assert (subs.mrr > 0).all()
    assert set(t["usage"].feature) == {"app_login", "card_transaction", "bill_payment", "branch_visit"}
    assert "active_users" not in t["usage"]
    # churn = closing every holding: on the churn day nothing stays open, and the account records it
    churns = t["churn_events"].query("event_type == 'churn'")
    assert churns.reason.notna().all() and len(churns) > 100
    last_end = subs.groupby("account_id").ended_on.max()
    still_open = subs[subs.ended_on.isna()].account_id.unique()
    assert not churns.account_id.isin(still_open).any()
    assert (last_end.reindex(churns.account_id).to_numpy() == churns.occurred_on.to_numpy()).all()
    churned_at = t["accounts"].set_index("account_id").churned_at.dropna()
    assert set(churned_at.index) == set(churns.account_id)
    surveys = t["survey_responses"]
    assert set(surveys.survey_type) == {"nps", "csat"}
    assert set(surveys.touchpoint) == {"relationship", "other", "support_ticket"}


def test_bank_three_or_more_products_are_much_stickier(bank):
    _, t = bank
    p = panel(t)
    few = p[p.products <= 2].churned.mean()
    many = p[p.products >= 3].churned.mean()
    assert many < 0.4 * few, (few, many)
    rate = p.groupby(p.products.clip(upper=4)).churned.mean()
    assert rate[1] > rate[3] and rate[2] > rate[3] > rate[4]


def test_bank_activity_falls_and_complaints_rise_before_closing(bank):
    data, t = bank
    usage = t["usage"].assign(day=lambda f: pd.to_datetime(f.usage_on))
    churns = t["churn_events"].query("event_type == 'churn'").assign(day=lambda f: pd.to_datetime(f.occurred_on))
    churns = churns[churns.day >= usage.day.min() + pd.Timedelta(days=200)]
    m = usage.merge(churns[["account_id", "day"]].rename(columns={"day": "churn_day"}), on="account_id")
    before = (m.churn_day - m.day).dt.days
    last = m[(before > 0) & (before <= 30)].groupby("account_id").events.sum()
    earlier = m[(before > 120) & (before <= 180)].groupby("account_id").events.sum() / 2
    ratio = last.reindex(earlier.index).fillna(0).sum() / earlier.sum()
    assert ratio < 0.6, ratio
    # complaints in the 90 days before a churn are more common than in any 90 days of a customer
    tickets = t["support_tickets"].assign(day=lambda f: f.opened_at.dt.tz_localize(None))
    k = tickets.query("category == 'complaint'").merge(churns[["account_id", "day"]], on="account_id",
                                                      suffixes=("", "_churn"))
    lead = (k.day_churn - k.day).dt.days
    share_before = ((lead > 0) & (lead <= 90)).groupby(k.account_id).any().sum() / len(churns)
    assert share_before > 0.15, share_before
    health = data.truth["accounts"].set_index("account_id").health_mean
    gone = health.index.isin(churns.account_id)
    assert health[gone].mean() < health[~gone].mean() - 0.3


def test_bank_churn_is_learnable_but_not_trivially(bank):
    """A plain logistic regression on observable features reaches a ROC-AUC in the 0.7-0.9 band out of time."""
    from sklearn.linear_model import LogisticRegression

    _, t = bank
    p = panel(t, horizon=90, step=30)
    usage = t["usage"].assign(day=lambda f: pd.to_datetime(f.usage_on))
    nps = t["survey_responses"].query("survey_type == 'nps'").assign(day=lambda f: f.responded_at.dt.tz_localize(None))
    parts = []
    for d, g in p.groupby("as_of"):
        u = usage[(usage.day > d - pd.Timedelta(days=30)) & (usage.day <= d)]
        days = u.groupby("account_id").day.nunique()
        last = nps[nps.day <= d].sort_values("day").groupby("account_id").score.last()
        parts.append(g.assign(active=days.reindex(g.account_id).fillna(0).to_numpy(),
                              nps=last.reindex(g.account_id).fillna(7).to_numpy()))
    f = pd.concat(parts, ignore_index=True)
    x = np.column_stack([f.products, np.log1p(f.active), f.nps])
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    dates = np.sort(f.as_of.unique())
    train = (f.as_of <= dates[len(dates) // 2 - 3]).to_numpy()
    test = (f.as_of > dates[len(dates) // 2]).to_numpy()
    model = LogisticRegression().fit(x[train], f.churned[train])
    score = auc(model.decision_function(x[test]), f.churned.to_numpy()[test])
    assert 0.7 < score < 0.9, score


def test_app_is_events_without_user_ids_trials_and_reactivations(app):
    data, t = app
    events = t["product_events"]
    assert "user_id" not in events and events.event_id.is_unique
    assert set(events.event_type) == {"session_start", "lesson_completed", "favorite_added", "share"}
    subs = t["subscriptions"]
    assert (subs.status == "trial").sum() == len(t["accounts"])  # everyone starts on a trial
    assert (subs.loc[subs.status == "trial", "mrr"] == 0).all()
    paid = subs[subs.status != "trial"]
    assert set(paid.billing_period) == {"monthly", "annual"} and set(paid.product_id) == {"p_monthly", "p_annual"}
    assert 0.3 < paid.account_id.nunique() / len(t["accounts"]) < 0.7  # trial conversion
    ce = t["churn_events"]
    churns = ce[ce.event_type == "churn"]
    assert len(churns) == (subs.status == "cancelled").sum() and churns.reason.notna().all()
    assert "payment_failed" in set(churns.reason)
    assert (ce.event_type == "reactivation").sum() > 10
    span = pd.to_datetime(events.occurred_at).dt.tz_localize(None)
    assert (span.max() - span.min()).days < 18 * 31


def test_app_subscribers_go_quiet_before_cancelling(app):
    data, t = app
    periods = data.truth["paid_periods"].dropna(subset=["cancel_decided_on"])
    events = t["product_events"].assign(day=lambda f: f.occurred_at.dt.tz_localize(None).dt.normalize())
    daily = events.groupby(["account_id", "day"]).size().rename("n").reset_index()
    m = daily.merge(periods, on="account_id")
    quiet = m[(m.day >= m.cancel_decided_on) & (m.day < m.ended_on)]
    busy = m[(m.day >= m.started_on) & (m.day < m.cancel_decided_on)]
    quiet_days = (periods.ended_on - periods.cancel_decided_on).dt.days.sum()
    busy_days = (periods.cancel_decided_on - periods.started_on).dt.days.sum()
    assert len(quiet) / quiet_days < 0.3 * len(busy) / busy_days


@pytest.mark.parametrize("profile", ["bank", "app"])
def test_same_seed_byte_identical_files_other_seed_other_data(profile, tmp_path):
    spec = DemoSpec(profile=profile, accounts=150, years=1.5, seed=3)
    write_parquet(generate(spec), tmp_path / "a")
    write_parquet(generate(spec), tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").glob("*.parquet"))
    assert names == sorted(f"{n}.parquet" for n in (BANK_TABLES if profile == "bank" else APP_TABLES))
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "_hidden" / "health_weekly.parquet").exists()
    other = generate(spec.model_copy(update={"seed": 4}))
    assert not other.tables["subscriptions"].equals(generate(spec).tables["subscriptions"])


@pytest.mark.parametrize("profile", ["bank", "app"])
def test_profile_loads_through_ingestion_with_nothing_quarantined(profile, tmp_path):
    from retain.demo import build_demo
    from retain.warehouse import Warehouse

    wh = Warehouse.open(tmp_path / "w.duckdb", create=True)
    result = build_demo(wh, DemoSpec(profile=profile, accounts=120, years=1, seed=2))
    assert result.report.quarantined == 0
    assert wh.count("accounts") == 120 and wh.count("churn_events") > 0 and wh.count("usage") > 0
    usage = wh.execute(wh.con.table("usage"))
    assert (usage.active_users.fillna(0) == 0).all()  # no user ids in either shape
    attributes = wh.execute(wh.con.table("accounts").attributes)
    assert attributes.notna().all() and all(k in attributes.iloc[0] for k in EXTRA_COLUMNS[profile])
