"""Every feature the generated families emit (so every feature a model can pick) reads as a plain sentence.

The features are built on the hand-made company of ``test_leakage`` (every family), on each of the five export
shapes loaded with their mapping, and on the demo company; no feature may lack a phrase or fall back to its raw
name."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_leakage import AS_OF, _base
from typer.testing import CliRunner

from retain.cli.main import app
from retain.models import generated
from retain.models.dataset import build_model_frame
from retain.models.generated_reasons import YesNo, features_without_phrase, phrase, template_for
from retain.models.grid import ObservationGrid
from retain.models.outcomes import population
from retain.models.reasons import describe
from retain.warehouse import Warehouse, as_of_day

SHAPES_DIR = Path(__file__).parents[2] / "fixtures" / "shapes"
SHAPES = ("snapshot_label", "usage_by_subscription", "events_no_users", "multi_plan_addons", "holdings_status")


def _check(features: tuple[str, ...], categorical: tuple[str, ...]) -> None:
    assert features, "the frame has features"
    assert features_without_phrase(features, categorical) == []
    for name in features:
        for value in (0.0, 3.0, float("nan")):
            text = describe(name, value, 2.0)
            assert "{" not in text and "_" not in text.split(":")[0], (name, text)
            assert phrase(name, value, None, 2.0) is not None, name  # a wording of its own, not the fallback
    for name in categorical:
        assert describe(name, "gold").endswith(": gold") and "_" not in describe(name, "gold"), name


def test_every_family_of_the_hand_made_company(wh):
    _base(wh)
    grid = ObservationGrid((AS_OF,), AS_OF, None)
    found = generated.discover(wh, AS_OF)
    ctx = generated.context(wh, grid, population(wh, grid), found)
    frame, categorical = generated.compute(ctx, generated.families(ctx, found))
    numeric = tuple(c for c in frame.columns if c not in ("account_id", "as_of", *categorical))
    _check(numeric, categorical)
    assert len(numeric) >= 25  # tenure, accounts, contract, usage, support, surveys, invoices...


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> dict[str, Warehouse]:
    runner = CliRunner()
    out = {}
    for shape in SHAPES:
        folder = SHAPES_DIR / shape
        db = tmp_path_factory.mktemp(f"phr_{shape}") / "retain.duckdb"
        result = runner.invoke(app, ["--db", str(db), "ingest", str(folder), "--mapping", str(folder / "mapping.yaml")])
        assert result.exit_code == 0, result.output
        out[shape] = Warehouse.open(db, create=False)
    return out


@pytest.mark.parametrize("shape", SHAPES)
def test_every_feature_of_each_shape(shapes, shape):
    wh = shapes[shape]
    mf = build_model_frame(wh, as_of=as_of_day(wh).day)
    _check(mf.features, mf.categorical)


def test_every_feature_of_the_demo_company(demo_warehouse):
    mf = build_model_frame(demo_warehouse, as_of=as_of_day(demo_warehouse).day)
    _check(mf.features, mf.categorical)
    assert any(f.startswith("ev_") for f in mf.features), "the demo has event types"


def test_phrases_name_the_event_type_product_and_key():
    assert describe("ev_page_view_events_30d", 12.0, 5.0) == \
        "12 'page view' events in the last 30 days; similar accounts: 5"
    assert describe("holds_mortgage", 0.0) == "does not hold mortgage"
    assert describe("holds_mortgage", 1.0, 0.3) == "holds mortgage"  # no median of a yes/no
    assert describe("attr_team_size", 7.0) == "team size: 7"
    assert describe("nps_last", float("nan")) == "no NPS answer on record"
    assert describe("usage_trend", 0.5) == "use in the last 30 days at 50 % of the 90-day level"
    assert describe("mrr_change_90d", -250.0) == "MRR changed by -250 over 90 days"  # an amount, not a ratio
    assert describe("billing_period", "annual") == "billing period: annual"
    assert isinstance(template_for("has_term"), YesNo)
    assert phrase("not_a_generated_name", 1.0) is None
    assert features_without_phrase(["events_30d", "mystery"], ["attr_plan", "weird"]) == ["mystery", "weird"]
