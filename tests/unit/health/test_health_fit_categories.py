"""Health fit on snapshot exports: text measures scored per value, holdings, the one-query rows and the cache."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from health_synth import END, build, insert

from retain.health import fit as F
from retain.health import fit_cache
from retain.health.fit_categories import category_points
from retain.health.fit_rows import measure_frame, shift_sql
from retain.health.measures import measure_values_expr
from retain.health.scoring import score_values
from retain.health.spec import CategoriesRule
from retain.health.validate import Level, load_scorecard, validate_text
from retain.warehouse import Warehouse

DAY = dt.date(2025, 7, 15)
CHURN = {"Month-to-month": 0.45, "One year": 0.12, "Two year": 0.03}


def snapshot(wh: Warehouse, n: int = 600, seed: int = 1) -> Warehouse:
    """A telco-style snapshot: contract (text attribute) and holding `support` drive churn; one labels date."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i:04d}" for i in range(n)]
    contract = rng.choice(list(CHURN), n, p=[0.5, 0.25, 0.25])
    support = rng.random(n) < 0.5
    p = np.array([CHURN[c] for c in contract]) * np.where(support, 0.5, 1.3)
    churned = rng.random(n) < p
    created = [dt.datetime(2023, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=int(k)) for k in rng.integers(0, 700, n)]
    insert(wh, "accounts", pd.DataFrame({
        "account_id": ids, "name": ids, "created_at": created,
        "attributes": [f'{{"contract": "{c}", "paperless": {str(b).lower()}}}' for c, b in
                       zip(contract, rng.random(n) < 0.5, strict=True)]}))
    insert(wh, "products", pd.DataFrame({"product_id": ["plan", "support"], "name": ["Plan", "Support"]}))
    subs = pd.DataFrame({"subscription_id": [f"{i}:plan" for i in ids], "account_id": ids, "product_id": "plan",
                         "started_on": [c.date() for c in created], "mrr": 50.0,
                         "billing_period": np.where(contract == "Month-to-month", "monthly", "annual")})
    extra = subs[support].assign(subscription_id=lambda f: f["account_id"] + ":support", product_id="support",
                                 mrr=10.0)
    insert(wh, "subscriptions", pd.concat([subs, extra], ignore_index=True))
    insert(wh, "outcome_labels", pd.DataFrame({"account_id": ids, "observed_on": DAY, "outcome": "churn",
                                               "happened": churned, "horizon_days": 90}))
    return wh


@pytest.fixture(scope="module")
def snap() -> Warehouse:
    return snapshot(Warehouse.open(":memory:"))


@pytest.fixture(scope="module")
def fitted(snap):
    return F.fit_scorecard(snap, DAY)


# -- categories by hand -------------------------------------------------------------------------------------


def test_category_points_by_hand():
    values = ["a"] * 50 + ["b"] * 50 + ["rare"] * 3 + [None] * 20
    y = np.array([1] * 25 + [0] * 25 + [1] * 5 + [0] * 45 + [1, 1, 1] + [1] * 10 + [0] * 10, dtype=float)
    c = category_points(values, y)
    base = y[:103].mean()  # of the rows with a value
    rate_a, rate_b = (25 + 10 * base) / 60, (5 + 10 * base) / 60
    rate_other = (3 + 10 * base) / 13  # "rare" (3 rows < 10) is pooled into other
    worst = max(rate_a, rate_b, rate_other)
    assert set(c.points) == {"a", "b"}
    assert c.points["a"] == pytest.approx(100 * (worst - rate_a) / (worst - rate_b))
    assert c.points["b"] == 100 and c.other == pytest.approx(100 * (worst - rate_other) / (worst - rate_b))
    assert c.missing is not None  # 20 missing rows get points of their own
    assert list(c.score(["b", "never seen", None])) == pytest.approx([100, c.other, c.missing])
    assert category_points(["x"] * 40, np.r_[np.ones(20), np.zeros(20)]) is None  # one group: nothing to learn


def test_categories_rule_scores_unlisted_values_as_other():
    rule = CategoriesRule(points={"Month-to-month": 0, "Two year": 100}, other=40)
    got = score_values(rule, pd.Series(["Two year", None, "One year", "Month-to-month"], dtype=object))
    assert np.allclose(got, [100, np.nan, 40, 0], equal_nan=True)


# -- text measures and holdings on the warehouse ---------------------------------------------------------------


def test_text_and_holding_values(snap):
    refs = [("category", {"attribute": "contract"}), ("category", {"attribute": "paperless"}),
            ("billing_period", {}), ("holds_product", {"values": ("support",)}), ("products_held", {})]
    v = snap.execute(measure_values_expr(snap, DAY, measures=refs)).set_index("account_id")
    labels = snap.execute(snap.raw("accounts").select("account_id", "attributes")).set_index("account_id")
    first = v.index[0]
    assert labels.loc[first, "attributes"].find(v.loc[first, "category__contract"]) > 0
    assert set(v["category__paperless"]) == {"true", "false"}  # JSON booleans read as text
    assert set(v["billing_period"]) == {"monthly", "annual"}
    assert ((v["billing_period"] == "monthly") == (v["category__contract"] == "Month-to-month")).all()
    assert set(v["holds_product__values=support"]) == {0.0, 1.0}
    assert (v["products_held"] == 1 + v["holds_product__values=support"]).all()


def test_fit_learns_month_to_month_below_two_year(fitted):
    measures = {m.name: m for c in fitted.card.components for m in c.measures}
    contract = measures["contract"]
    assert contract.measure == "category" and contract.attribute == "contract"
    pts = contract.scoring.points
    assert pts["Month-to-month"] < pts["One year"] <= pts["Two year"] == 100
    assert list(pts) == sorted(pts, key=pts.get)  # written worst first


def test_fit_learns_that_holding_support_helps(fitted):
    measures = {m.name: m for c in fitted.card.components for m in c.measures}
    holds = measures["holds_support"]
    assert holds.measure == "holds_product" and holds.values == ("support",)
    by_value = {b.min: b.score for b in holds.scoring.bands}
    assert by_value[1.0] == 100 and by_value[None] == 0  # holds: 100 points, does not: 0
    comps = {c.name for c in fitted.card.components}
    assert "products" in comps and "attributes" in comps


def test_fit_skips_near_constant_and_not_applicable_measures(fitted):
    names = {m.measure for c in fitted.card.components for m in c.measures}
    assert "holds_product" in names
    held = [m for c in fitted.card.components for m in c.measures if m.measure == "holds_product"]
    assert [m.values for m in held] == [("support",)]  # everyone holds the plan: near-constant, skipped
    assert not names & {"active_days", "last_nps", "tickets"}  # no usage, surveys or tickets in a snapshot


def test_fit_ranks_as_well_as_a_logistic_regression_on_the_same_rows(fitted):
    v = fitted.validation
    assert v.design == "grouped 5-fold by account"
    assert v.auc > 0.65 and v.auc >= v.auc_logistic - 0.03, v


def test_yaml_with_categories_round_trips_through_validate(fitted, tmp_path):
    text = fitted.to_yaml()
    assert "kind: categories" in text and "Month-to-month" in text
    assert [i for i in validate_text(text) if i.level is Level.ERROR] == []
    path = tmp_path / "fitted.yaml"
    path.write_text(text)
    assert load_scorecard(path) == fitted.spec


@pytest.mark.parametrize(("measure", "message"), [
    ("{name: c, measure: category, attribute: contract, scoring: {kind: categories, points: {Yes: 10}}}",
     "was read as a bool"),
    ("{name: c, measure: category, attribute: contract, scoring: {kind: categories, points: {a: 120}}}",
     "outside 0-100"),
    ("{name: c, measure: category, attribute: contract, scoring: {kind: linear, low: 0, high: 1}}",
     "is text (a category)"),
    ("{name: c, measure: tickets, scoring: {kind: categories, points: {a: 1}}}", "is a number"),
    ("{name: c, measure: category, scoring: {kind: categories, points: {a: 1}}}", "needs the key"),
    ("{name: c, measure: holds_product, scoring: {kind: linear, low: 0, high: 1}}", "needs the products"),
])
def test_validate_names_category_mistakes(measure, message):
    text = f"version: 1\nname: x\ncomponents:\n  - name: c\n    measures:\n      - {measure}\n"
    errors = [i for i in validate_text(text) if i.level is Level.ERROR]
    assert any(message in e.message for e in errors), errors
    assert all(e.line == 6 for e in errors if message in e.message)


def test_category_shorthand_infers_the_measure():
    from retain.health.spec import MeasureSpec

    m = MeasureSpec.model_validate({"name": "c", "attribute": "contract",
                                    "scoring": {"kind": "categories", "points": {"a": 1}}})
    assert m.measure == "category" and m.key == "category__contract"


# -- one query for every date, and the cache ----------------------------------------------------------------


def test_shift_sql_moves_every_date_literal():
    sql = "x >= MAKE_DATE(2024, 2, 28) AND t < MAKE_TIMESTAMPTZ(2024, 3, 1, 0, 0, 0.0, 'UTC') AND d = '2024-02-28'"
    assert shift_sql(sql, 2) == ("x >= MAKE_DATE(2024, 3, 1) AND t < MAKE_TIMESTAMPTZ(2024, 3, 3, 0, 0, 0.0, 'UTC')"
                                 " AND d = '2024-03-01'")


def test_one_query_gives_what_each_date_gives_alone():
    wh = build(Warehouse.open(":memory:"), accounts=80, seed=4, attributes=True)
    dates = [dt.date(2023, 9, 30), dt.date(2024, 1, 31), dt.date(2024, 3, 31)]
    refs = F.candidate_measures(wh, END)
    fast = measure_frame(wh, dates, refs).sort_values(["as_of", "account_id"], ignore_index=True)
    slow = pd.concat([wh.execute(measure_values_expr(wh, d, measures=refs)).assign(as_of=d) for d in dates])
    slow = slow.sort_values(["as_of", "account_id"], ignore_index=True)[fast.columns]
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False)


def test_choose_remembers_the_fit_until_the_data_changes(monkeypatch):
    wh = snapshot(Warehouse.open(":memory:"), n=300, seed=2)
    spec, reason = F.choose_scorecard(wh, DAY)
    assert spec.scorecards[0].calibration is not None and reason.startswith("health uses a scorecard fitted")

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted again although nothing changed")

    monkeypatch.setattr(F, "fit_scorecard", no_fit)
    assert F.choose_scorecard(wh, DAY) == (spec, reason)  # a cache hit: no fit
    insert(wh, "accounts", pd.DataFrame({"account_id": ["late"], "name": ["late"],
                                         "created_at": [dt.datetime(2025, 7, 1, tzinfo=dt.UTC)]}))
    with pytest.raises(AssertionError, match="fitted again"):  # new rows: a new fingerprint, a new fit
        F.choose_scorecard(wh, DAY)
    assert fit_cache.TABLE in wh.con.list_tables()
