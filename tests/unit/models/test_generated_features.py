"""Features generated from whatever exists: hand-checked values, attributes, event types, tidying, the five shapes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_leakage import AS_OF, _base, _insert
from typer.testing import CliRunner

from retain.cli.main import app
from retain.models import generated
from retain.models.dataset import build_model_frame
from retain.models.feature_prep import correlation_groups, prepare
from retain.models.frame import OutcomeSource
from retain.models.grid import ObservationGrid
from retain.models.outcomes import OutcomeKind, OutcomeNeverOccurs, population
from retain.warehouse import Warehouse

SHAPES_DIR = Path(__file__).parents[2] / "fixtures" / "shapes"


def features_at(wh: Warehouse, day: dt.date, **kw) -> pd.DataFrame:
    """Raw generated features (before tidying) of every customer at ``day``."""
    grid = ObservationGrid((day,), day, None)
    found = generated.discover(wh, day, **kw)
    ctx = generated.context(wh, grid, population(wh, grid), found)
    frame, _ = generated.compute(ctx, generated.families(ctx, found))
    return frame.set_index("account_id")


def test_hand_checked_features(wh):
    _base(wh)
    f = features_at(wh, AS_OF)
    a, b = f.loc["A"], f.loc["B"]
    # usage every 3rd day over the last 60 days, 4 users and 10 events a day
    assert a["events_30d"] == 100 and a["events_90d"] == 200
    assert a["active_days_30d"] == 10 and a["active_days_90d"] == 20
    assert a["active_users_30d"] == pytest.approx(40 / 30)
    assert a["usage_trend"] == pytest.approx((100 / 30) / (200 / 90))
    assert a["events_per_month_180d"] == pytest.approx(200 / (58 / 30))  # first use 57 days ago: 1.93 months
    assert a["days_since_usage"] == 0
    assert a["mrr"] == 100 and a["licences"] == 10 and a["products_held"] == 1
    assert a["users_per_licence_30d"] == pytest.approx(40 / 30 / 10)
    assert a["tenure_days"] == (AS_OF - dt.date(2022, 1, 1)).days
    assert a["days_to_renewal"] == (dt.date(2023, 12, 31) - AS_OF).days
    assert a["nps_last"] == 8 and a["days_since_survey"] == 31 and a["responses_365d"] == 1
    assert b["events_30d"] == 0 and b["days_since_usage"] == 181 and pd.isna(b["nps_last"])
    assert "segment" not in f.columns  # one value only ("smb"): it cannot separate anyone


def test_licence_rates_need_seat_based_products(wh):
    _base(wh)
    _insert(wh, "products", [{"product_id": "core", "name": "Core", "seat_based": False}])
    f = features_at(wh, AS_OF)
    assert f["licences"].eq(0).all() and f["users_per_licence_30d"].isna().all()


def test_attributes_become_features_and_outcome_keys_do_not(wh):
    _base(wh)
    wh.con.raw_sql("DELETE FROM accounts")
    rows = [{"account_id": a, "name": a, "created_at": pd.Timestamp("2022-01-01", tz="UTC"),
             "attributes": json.dumps({"seats_bought": str(n), "plan": plan, "churn_flag": "yes", "Bad key": 1})}
            for a, n, plan in (("A", 12, "gold"), ("B", 3, "basic"))]
    _insert(wh, "accounts", rows)
    f = features_at(wh, AS_OF)
    assert f.loc["A", "attr_seats_bought"] == 12 and f.loc["B", "attr_seats_bought"] == 3
    assert f.loc["A", "attr_plan"] == "gold"
    assert not [c for c in f.columns if "churn" in c or "bad" in c]


def test_event_types_capped_at_top_n_by_volume(wh):
    _base(wh)
    _insert(wh, "usage", [{"account_id": "B", "usage_on": AS_OF - dt.timedelta(days=d), "feature": feat,
                           "active_users": 1, "events": ev} for d in range(5)
                          for feat, ev in (("export", 50.0), ("share", 1.0))])
    f = features_at(wh, AS_OF, top_event_types=2)
    assert "ev_export_events_30d" in f.columns and "ev_reports_events_30d" in f.columns
    assert not [c for c in f.columns if c.startswith("ev_share")]
    assert f.loc["B", "ev_export_events_30d"] == 250 and f.loc["B", "ev_export_days_30d"] == 5


def test_feature_sql_shows_every_family(wh):
    _base(wh)
    sql = generated.feature_sql(wh, AS_OF)
    assert sql.lstrip().upper().startswith(("SELECT", "WITH"))
    for table in ("usage", "subscriptions", "survey_responses", "accounts"):
        assert f'"{table}"' in sql


def test_prepare_drops_logs_and_groups():
    rng = np.random.default_rng(0)
    n = 500
    base = rng.normal(size=n)
    frame = pd.DataFrame({
        "constant": 1.0, "empty": np.nan, "counts": rng.pareto(1.5, n) * 10,
        "u1": base, "u2": base * 2 + rng.normal(0, 0.1, n), "other": rng.normal(size=n),
        "seg": rng.choice(["a", "b"], n), "one": "x",
    })
    ready = prepare(frame, ("constant", "empty", "counts", "u1", "u2", "other"), ("seg", "one"))
    assert set(ready.dropped) == {"constant", "empty", "one"}
    assert ready.transforms == {"counts": "log1p"}
    assert np.allclose(ready.frame["counts"], np.log1p(frame["counts"]))
    assert ready.groups["u1"] == ready.groups["u2"] != ready.groups["other"]
    assert ready.categorical == ("seg",)


def test_correlation_groups_threshold():
    x = np.arange(100, dtype=float)
    frame = pd.DataFrame({"a": x, "b": x + np.sin(x) * 30, "c": np.cos(x)})
    groups = correlation_groups(frame, ("a", "b", "c"))
    assert groups["a"] == groups["b"] and groups["c"] == "c"


def test_model_frame_on_the_synthetic_company(company):
    wh, end = company
    mf = build_model_frame(wh, as_of=end, horizon_days=90, frequency="month")
    assert mf.source is OutcomeSource.SUBSCRIPTIONS and mf.label == "churned" and mf.horizon_days == 90
    assert len(mf.dates) >= 20 and max(mf.dates) == end  # every month of history, plus as_of to score
    assert mf.frame.loc[mf.frame["as_of"] == end, "churned"].isna().all()
    lab = mf.labelled().frame
    assert lab["churned"].isin([0.0, 1.0]).all() and 0 < lab["churned"].mean() < 0.5
    assert {"events_30d", "tenure_days", "nps_last"} <= set(mf.features)
    assert set(mf.groups) == {*mf.features, *mf.categorical}
    assert all(isinstance(d, dt.date) for d in mf.frame["as_of"].head())


# -- the five data shapes (raw files loaded through the CLI with their mapping) ---------------------------------

EXPECTED_SOURCE = {
    "snapshot_label": OutcomeSource.LABELS, "usage_by_subscription": OutcomeSource.CHURN_EVENTS,
    "events_no_users": OutcomeSource.SUBSCRIPTIONS, "multi_plan_addons": OutcomeSource.SUBSCRIPTIONS,
    "holdings_status": OutcomeSource.LABELS,
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> dict[str, Warehouse]:
    runner = CliRunner()
    out = {}
    for shape in EXPECTED_SOURCE:
        folder = SHAPES_DIR / shape
        db = tmp_path_factory.mktemp(shape) / "retain.duckdb"
        result = runner.invoke(app, ["--db", str(db), "ingest", str(folder), "--mapping", str(folder / "mapping.yaml")])
        assert result.exit_code == 0, result.output
        out[shape] = Warehouse.open(db, create=False)
    return out


@pytest.mark.parametrize("shape", list(EXPECTED_SOURCE))
def test_model_frame_on_each_shape(shapes, shape):
    from retain.warehouse import as_of_day

    wh = shapes[shape]
    mf = build_model_frame(wh, as_of=as_of_day(wh).day)
    lab = mf.labelled().frame
    assert mf.source is EXPECTED_SOURCE[shape]
    assert len(lab) >= 20 and 0 < lab["churned"].sum() < len(lab)
    assert len(mf.features) >= 3
    assert not [c for c in (*mf.features, *mf.categorical) if "churn" in c or "exited" in c]


def test_single_plan_shape_skips_expansion(shapes):
    from retain.warehouse import as_of_day

    wh = shapes["events_no_users"]
    with pytest.raises(OutcomeNeverOccurs) as err:
        build_model_frame(wh, as_of=as_of_day(wh).day, outcome="expansion")
    assert err.value.kind is OutcomeKind.EXPANSION


def test_model_frame_identical_on_postgresql(postgres_url):
    """Portability: outcomes and generated features are the same on PostgreSQL as on DuckDB."""
    import ibis
    import psycopg
    from synthetic import build_company

    name = "retain_test_model_frame"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name}")
        con.execute(f"CREATE DATABASE {name}")
    pg, duck = Warehouse.open(f"postgres://postgres@127.0.0.1:5432/{name}"), Warehouse.open(":memory:")
    try:
        end = build_company(duck, n=60, days=700, seed=3)
        duck.con.raw_sql("""UPDATE accounts SET attributes = '{"tier": "gold", "score": "3.5"}'
                            WHERE account_id < 'A0030'""")
        duck.con.raw_sql("""UPDATE accounts SET attributes = '{"tier": "blue", "score": 1}'
                            WHERE account_id > 'A0040'""")
        joined = pd.Timestamp(end - dt.timedelta(days=400), tz="UTC")
        _insert(duck, "contacts", [
            {"contact_id": f"c{i}", "account_id": f"A{i:04d}", "created_at": joined, "role": "champion",
             "is_primary": i % 2 == 0, "left_at": joined + pd.Timedelta(days=30 * i) if i % 3 == 0 else None}
            for i in range(12)])
        _insert(duck, "opportunities", [
            {"opportunity_id": f"o{i}", "account_id": f"A{i:04d}", "created_at": joined, "stage": "proposal",
             "opportunity_type": "add_on", "closed_at": joined + pd.Timedelta(days=40 * i) if i % 2 else None}
            for i in range(10)])
        for table in ("accounts", "subscriptions", "usage", "survey_responses", "support_tickets", "contacts",
                      "opportunities"):
            pg.con.insert(table, ibis.memtable(duck.execute(duck.raw(table)), schema=pg.raw(table).schema()))
        got, want = (build_model_frame(wh, as_of=end, horizon_days=90, frequency="month") for wh in (pg, duck))
        assert got.features == want.features and got.categorical == want.categorical
        assert {"attr_score", "attr_tier"} <= {*want.features, *want.categorical}
        assert {"holds_analytics", "contacts", "open_addon_opps", "months_since_holdings_change"} <= set(want.features)
        pd.testing.assert_frame_equal(got.frame, want.frame, check_dtype=False, rtol=1e-9)
    finally:
        pg.con.disconnect()
        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name}")


# -- per-product holdings (retain.models.holdings) ---------------------------------------------------------------

def _holdings_company(wh: Warehouse, *, flagged: bool) -> None:
    """A: core (a price change on 2023-01-01 is no change), api added 2023-03-01, sso held 2022-05-01 to
    2023-04-01 (dropped); B: core only; C: core and api from its first day."""
    _insert(wh, "accounts", [{"account_id": a, "name": a, "created_at": pd.Timestamp("2022-01-01", tz="UTC")}
                             for a in "ABC"])
    if flagged:
        _insert(wh, "products", [{"product_id": p, "name": p, "is_addon": p != "core"} for p in ("core", "api", "sso")])
    d = dt.date
    rows = [
        ("A1", "A", "core", d(2022, 1, 1), d(2023, 1, 1)), ("A2", "A", "core", d(2023, 1, 1), None),
        ("A3", "A", "api", d(2023, 3, 1), None), ("A4", "A", "sso", d(2022, 5, 1), d(2023, 4, 1)),
        ("B1", "B", "core", d(2022, 3, 1), None),
        ("C1", "C", "core", d(2022, 2, 1), None), ("C2", "C", "api", d(2022, 2, 1), None),
    ]
    _insert(wh, "subscriptions", [{"subscription_id": s, "account_id": a, "product_id": p, "started_on": start,
                                   "ended_on": end, "mrr": 10.0, "quantity": 1} for s, a, p, start, end in rows])


@pytest.mark.parametrize("flagged", [True, False])
def test_holdings_hand_checked(wh, flagged):
    _holdings_company(wh, flagged=flagged)
    found = generated.discover(wh, AS_OF)
    assert found.products == ("core", "api", "sso")  # by holders, then name
    # flagged: products.is_addon; inferred: api is never held alone at as_of, core is (by B); sso is held by no
    # one at as_of, so nothing says it is an add-on
    assert found.addon_products == (("api", "sso") if flagged else ("api",))
    f = features_at(wh, AS_OF)
    a, b, c = f.loc["A"], f.loc["B"], f.loc["C"]
    assert (a["holds_core"], a["holds_api"], a["holds_sso"]) == (1, 1, 0)
    assert (b["holds_core"], b["holds_api"], b["holds_sso"]) == (1, 0, 0)
    assert (a["core_products"], a["addon_products"]) == (1, 1) and (b["core_products"], b["addon_products"]) == (1, 0)
    assert a["months_since_holdings_change"] == pytest.approx((AS_OF - dt.date(2023, 4, 1)).days / 30.4)  # sso
    assert b["months_since_holdings_change"] == pytest.approx((AS_OF - dt.date(2022, 3, 1)).days / 30.4)
    assert (a["products_added_365d"], a["products_dropped_365d"]) == (1, 1)  # api; sso (its start is > 1 year)
    assert (c["products_added_365d"], c["products_dropped_365d"]) == (0, 0)  # bought on the first day: no addition
    # before the drop, sso was held and counted as an add-on (inferred too: held at that as_of, never alone)
    early = features_at(wh, dt.date(2023, 3, 15)).loc["A"]
    assert (early["holds_sso"], early["addon_products"]) == (1, 2)
    assert early["months_since_holdings_change"] == pytest.approx(14 / 30.4)  # api added on 2023-03-01


def test_no_holdings_features_with_one_product(wh):
    _base(wh)
    assert generated.discover(wh, AS_OF).products == ()
    assert not [c for c in features_at(wh, AS_OF).columns if c.startswith("holds_") or c == "addon_products"]


def test_holdings_ignore_later_changes(wh):
    """A drop and an addition after a date (known by the build's as_of) never change that date's features."""
    from retain.models.grid import regular_dates

    anchor = AS_OF + dt.timedelta(days=90)
    grid = ObservationGrid(regular_dates(dt.date(2022, 6, 1), anchor, step_days=30, horizon_days=30), anchor, 30)
    _holdings_company(wh, flagged=True)

    def frame() -> pd.DataFrame:
        found = generated.discover(wh, anchor)
        ctx = generated.context(wh, grid, population(wh, grid), found)
        got, _ = generated.compute(ctx, generated.families(ctx, found))
        return got[got["as_of"].dt.date <= AS_OF].reset_index(drop=True)

    before = frame()
    wh.con.raw_sql(f"UPDATE subscriptions SET ended_on = DATE '{AS_OF + dt.timedelta(days=3)}' "
                   "WHERE subscription_id = 'A3'")
    _insert(wh, "subscriptions", [{"subscription_id": "B2", "account_id": "B", "product_id": "sso",
                                   "started_on": AS_OF + dt.timedelta(days=1), "mrr": 5.0}])
    pd.testing.assert_frame_equal(before, frame())
