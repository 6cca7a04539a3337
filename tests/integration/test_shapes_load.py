"""The five export shapes of issue 12: loaded from their raw files with one mapping each, through the CLI, and their
retention, survival and products-held figures checked against the raw data (computed apart, in plain pandas, by
``tests/fixtures/shapes/expected.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.cli.main import app

SHAPES_DIR = Path(__file__).parents[1] / "fixtures" / "shapes"
sys.path.insert(0, str(SHAPES_DIR))
import expected  # noqa: E402
import generate  # noqa: E402

runner = CliRunner()
AS_OF = expected.EXPORT_DAY.isoformat()
SHAPES = list(expected.HOLDINGS)


def _run(db: Path, *args: str) -> str:
    result = runner.invoke(app, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> dict[str, Path]:
    """Each committed shape ingested into its own warehouse with its mapping, nothing else."""
    out = {}
    for shape in SHAPES:
        folder = SHAPES_DIR / shape
        db = tmp_path_factory.mktemp(shape) / "retain.duckdb"
        text = _run(db, "ingest", str(folder), "--mapping", str(folder / "mapping.yaml"))
        assert "quarantined 0" in text, text
        out[shape] = db
    return out


def _csv(db: Path, tmp_path: Path, *args: str) -> pd.DataFrame:
    out = tmp_path / f"{args[0]}.csv"
    _run(db, *args, "--as-of", AS_OF, "--out", str(out))
    return pd.read_csv(out)


@pytest.mark.parametrize("shape", SHAPES)
def test_retention_matches_the_raw_data(loaded, shape, tmp_path):
    holdings = expected.HOLDINGS[shape](SHAPES_DIR / shape)
    want = expected.quarters(holdings).set_index("period")
    got = _csv(loaded[shape], tmp_path, "retention", "--grain", "quarter", "--periods", "4").set_index("period")
    assert got.loc[want.index, ["start", "churned", "end"]].to_dict() == want[["start", "churned", "end"]].to_dict()
    assert got.loc[want.index, "start_mrr"].tolist() == pytest.approx(want.start_mrr.tolist())
    assert want.churned.sum() > 0, "every shape has churn in its last year"


@pytest.mark.parametrize("shape", SHAPES)
def test_survival_matches_the_raw_data(loaded, shape, tmp_path):
    spells = expected.first_spells(expected.HOLDINGS[shape](SHAPES_DIR / shape))
    curve = _csv(loaded[shape], tmp_path, "survival")
    assert curve.at_risk.max() == len(spells)
    assert curve.events.sum() == spells.event.sum()
    last = curve.sort_values("time_days").survival.iloc[-1]
    assert last == pytest.approx(expected.kaplan_meier(spells), abs=1e-4)  # the CSV keeps 4 decimals


@pytest.mark.parametrize("shape", SHAPES)
def test_products_held_matches_the_raw_data(loaded, shape, tmp_path):
    want = expected.products_held(expected.HOLDINGS[shape](SHAPES_DIR / shape))
    frame = _csv(loaded[shape], tmp_path, "products-held", "--horizon", "12")
    got = frame[frame.tenure_band == "all"].set_index("products_held")[["accounts", "retained"]]
    assert got.to_dict() == want[["accounts", "retained"]].astype("int64").to_dict()


def test_trials_are_left_out_of_products_held_unless_asked(loaded, tmp_path):
    folder = SHAPES_DIR / "holdings_status"
    paying = expected.products_held(expected.holdings_status(folder))
    trials = expected.products_held(expected.holdings_status(folder, include_trials=True))
    assert not paying.equals(trials), "the fixture has trials that change the counts"
    frame = _csv(loaded["holdings_status"], tmp_path, "products-held", "--horizon", "12", "--include-trials")
    got = frame[frame.tenure_band == "all"].set_index("products_held")[["accounts", "retained"]]
    assert got.to_dict() == trials[["accounts", "retained"]].astype("int64").to_dict()


def test_an_attribute_is_a_dimension_without_reingesting(loaded, tmp_path):
    raw = pd.read_csv(SHAPES_DIR / "snapshot_label" / "telco_churn.csv")
    frame = _csv(loaded["snapshot_label"], tmp_path, "retention", "--by", "contract", "--periods", "1")
    got = frame.set_index("dimension_value")
    assert set(frame.dimension) == {"contract"}
    for contract, group in raw.groupby("Contract"):
        assert got.loc[contract, "start"] == len(group)  # every customer's tenure is at least one month
        assert got.loc[contract, "churned"] == (group.Churn == "Yes").sum()
    bad = runner.invoke(app, ["--db", str(loaded["snapshot_label"]), "retention", "--by", "contrat"])
    assert bad.exit_code == 2 and "did you mean 'contract'" in bad.output and "payment_method" in bad.output


def test_churn_events_win_over_open_subscription_rows(loaded):
    folder = SHAPES_DIR / "usage_by_subscription"
    subs = pd.read_csv(folder / "subscriptions.csv")
    churns = pd.read_csv(folder / "churn_events.csv")
    open_rows = subs[subs.end_date.isna()]
    contradicted = set(open_rows.account_id) & set(churns.account_id)
    assert contradicted, "the fixture has churn events whose subscriptions are still open in the export"
    con = duckdb.connect(str(loaded["usage_by_subscription"]))
    try:
        stored = con.execute("SELECT count(*) FROM churn_events").fetchone()[0]
        usage_accounts = {r[0] for r in con.execute("SELECT DISTINCT account_id FROM usage").fetchall()}
    finally:
        con.close()
    assert stored == len(churns)
    assert usage_accounts <= set(subs.account_id) and len(usage_accounts) > 0  # usage keyed by subscription


def test_repeated_events_in_one_second_all_load(loaded):
    raw = pd.read_parquet(SHAPES_DIR / "events_no_users" / "events.parquet")
    assert raw.duplicated().sum() > 0, "the fixture has genuine repeats"
    con = duckdb.connect(str(loaded["events_no_users"]))
    try:
        events = con.execute("SELECT count(*) FROM product_events").fetchone()[0]
        volume = con.execute("SELECT sum(events) FROM usage").fetchone()[0]
    finally:
        con.close()
    assert events == len(raw)
    assert volume == pytest.approx(raw.value.sum())


def test_the_generator_is_seeded_and_writes_the_mapping(tmp_path):
    a = generate.make("multi_plan_addons", tmp_path / "a", 50, seed=3)
    b = generate.make("multi_plan_addons", tmp_path / "b", 50, seed=3)
    assert (a / "subscription_items.csv").read_bytes() == (b / "subscription_items.csv").read_bytes()
    assert (a / "mapping.yaml").read_text() == (SHAPES_DIR / "multi_plan_addons" / "mapping.yaml").read_text()
    with pytest.raises(ValueError, match="unknown shape"):
        generate.make("wide", tmp_path / "c", 5)


def test_the_churn_signal_follows_the_fields(tmp_path):
    """At benchmark size the generated churn moves with the fields a model should learn from."""
    telco = pd.read_csv(generate.make("snapshot_label", tmp_path / "t", 3000, seed=5) / "telco_churn.csv")
    rate = (telco.Churn == "Yes").groupby(telco.Contract).mean()
    assert rate["Month-to-month"] > 2 * rate["Two year"]
    bank = pd.read_csv(generate.make("holdings_status", tmp_path / "b", 3000, seed=5) / "holdings.csv")
    active = (bank[list(generate.PRODUCTS_5)] == "Active").sum(axis=1)
    assert bank.Exited[active == 1].mean() > bank.Exited[active >= 3].mean() + 0.1
    assert bank.Exited[bank.CSAT <= 6].mean() > bank.Exited[bank.CSAT >= 9].mean()
    items = pd.read_csv(generate.make("multi_plan_addons", tmp_path / "m", 3000, seed=5) / "subscription_items.csv")
    ended = items.period_end.notna().groupby(items.customer).all()
    gone = pd.DataFrame({"interval": items.groupby("customer").interval.first(), "ended": ended})
    by_interval = gone.groupby("interval").ended.mean()
    assert by_interval["1 month"] > by_interval["12 months"]
