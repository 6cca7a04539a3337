"""The metric commands through the CLI runner, on the tiny hand-checked book."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.warehouse import Warehouse

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "metrics"))
from metrics_book import accounts_frame, subs_frame  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("metrics") / "book.duckdb"
    wh = Warehouse.open(path)
    wh.con.insert("accounts", accounts_frame())
    wh.con.insert("subscriptions", subs_frame())
    wh.con.disconnect()
    return str(path)


def _run(db: str, *args: str):
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_retention_prints_decomposition_exports_and_plots(db, tmp_path):
    out, png = tmp_path / "r.csv", tmp_path / "r.png"
    text = _run(db, "retention", "--as-of", "2024-06-30", "--periods", "2", "--out", str(out), "--plot", str(png))
    assert "Logo retention" in text and "MRR movements" in text
    frame = pd.read_csv(out)
    q2 = frame.set_index("period").loc["2024-Q2"]
    assert (q2.start, q2.churned, q2.end) == (4, 1, 3)
    assert png.stat().st_size > 1000
    assert (q2.logo_retention, q2.net_logo_change) == (0.75, 0.75)
    assert frame.set_index("period").loc["2024-Q1", "logo_retention"] == pytest.approx(2 / 3, abs=1e-4)
    assert "(partial)" not in text


def test_retention_labels_net_change_annualised_rates_and_partial_periods(db, tmp_path, monkeypatch):
    from retain.cli import common

    monkeypatch.setattr(common.console, "width", 200)  # wide enough that no header is cut
    out = tmp_path / "r.csv"
    text = _run(db, "retention", "--as-of", "2024-05-15", "--periods", "2", "--out", str(out))
    assert "2024-Q2 (partial)" in text and "2024-Q1 (partial)" not in text
    assert "net change" in text and "NRR /yr" in text
    frame = pd.read_csv(out).set_index("period")
    assert list(frame.complete) == [True, False]
    # exports keep 4 decimals for ratios
    assert frame.loc["2024-Q1", "net_logo_change"] == pytest.approx(4 / 3, abs=1e-4)
    assert frame.loc["2024-Q1", "annualized_nrr"] == pytest.approx((130 / 330) ** 4, abs=1e-4)


def test_cohorts_survival_pareto_plots(db, tmp_path):
    assert "signup cohort" in _run(db, "cohorts", "--as-of", "2024-06-30", "--revenue", "--plot",
                                   str(tmp_path / "c.svg"))
    assert "Median account lifetime" in _run(db, "survival", "--as-of", "2024-06-30", "--by", "segment",
                                             "--plot", str(tmp_path / "s.png"))
    assert "Concentration" in _run(db, "pareto", "--as-of", "2024-06-30", "--plot", str(tmp_path / "p.png"))
    assert all((tmp_path / name).exists() for name in ("c.svg", "s.png", "p.png"))


def test_other_metric_commands(db, tmp_path):
    assert "products held" in _run(db, "products-held", "--as-of", "2024-06-30", "--horizon", "6")
    assert "2024-Q2 (partial)" in _run(db, "churn-reasons", "--as-of", "2024-05-15")
    assert "price" in _run(db, "churn-reasons", "--as-of", "2024-06-30")
    assert "Profitability" in _run(db, "profitability", "--as-of", "2024-06-30")
    out = tmp_path / "rfm.parquet"
    assert "RFM segments" in _run(db, "rfm", "--as-of", "2024-06-30", "--out", str(out))
    assert len(pd.read_parquet(out)) == 6
    assert "SELECT" in _run(db, "sql", "retention", "--as-of", "2024-06-30", "--by", "segment")


def test_user_mistakes_are_messages_not_tracebacks(db, tmp_path):
    bad = runner.invoke(app, ["--db", db, "retention", "--grain", "week"])  # refused when parsed: exit 2
    assert bad.exit_code == 2 and "'week' is not one of 'month', 'quarter', 'year'" in bad.output
    bad = runner.invoke(app, ["--db", db, "retention", "--by", "colour"])
    assert bad.exit_code == 2 and "'colour' is not one of: all, segment" in bad.output
    config = tmp_path / "p.yaml"
    config.write_text("version: 1\ncost_per_tiket: 3\n")
    bad = runner.invoke(app, ["--db", db, "profitability", "--config", str(config)])
    assert bad.exit_code == 2 and "cost_per_tiket" in bad.output
    bad = runner.invoke(app, ["--db", db, "sql", "nps"])
    assert bad.exit_code == 1


def test_main_job_prints_and_stores(db):
    from retain.jobs.retention import retention_section

    wh = Warehouse.open(db)
    retention_section(wh, pd.Timestamp("2024-06-30").date())
    stored = wh.execute(wh.result("retention", "2024-06-30"))
    assert {"grain", "start", "churned", "new", "reactivated", "end", "logo_retention"} <= set(stored.columns)


@pytest.mark.postgres
def test_every_stored_metric_is_identical_on_postgresql(postgres_url):
    """Portability: the same expressions give the same results on PostgreSQL as on DuckDB."""
    import psycopg
    from metrics_book import AS_OF

    from retain.metrics.results import compute_results

    name = "retain_test_metrics"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name}")
        con.execute(f"CREATE DATABASE {name}")
    pg, duck = Warehouse.open(f"postgres://postgres@127.0.0.1:5432/{name}"), Warehouse.open(":memory:")
    for wh in (pg, duck):
        wh.con.insert("accounts", accounts_frame())
        wh.con.insert("subscriptions", subs_frame())
    got, want = compute_results(pg, AS_OF), compute_results(duck, AS_OF)
    for key, frame in want.items():
        order = list(frame.columns[:7])
        pd.testing.assert_frame_equal(
            got[key].sort_values(order).reset_index(drop=True), frame.sort_values(order).reset_index(drop=True),
            check_dtype=False, rtol=1e-9, obj=key,
        )
    pg.con.disconnect()


@pytest.mark.slow
def test_demo_numbers_are_sane(demo_warehouse):
    """On the demo company: identities hold everywhere and the figures sit in believable ranges."""
    from retain.metrics.results import compute_results
    from retain.warehouse import as_of_day

    wh = demo_warehouse
    day = as_of_day(wh).day
    r = compute_results(wh, day)
    ret, rev = r["retention"], r["revenue_retention"]
    assert (ret.end == ret.start - ret.churned + ret.new + ret.reactivated).all()
    moved = rev.start_mrr + rev.new_mrr + rev.reactivated_mrr + rev.expansion_mrr - rev.contraction_mrr
    assert (moved - rev.churned_mrr - rev.end_mrr).abs().max() < 1e-6
    quarters = ret[(ret.grain == "quarter") & (ret.dimension == "all") & ret.complete & (ret.start >= 50)]
    assert not quarters.empty and quarters.logo_retention.between(0.75, 1.0).all()
    grr = rev[(rev.grain == "quarter") & (rev.dimension == "all") & rev.complete & (rev.start_mrr > 0)].grr
    assert grr.between(0.8, 1.0).all()
    held = r["products_held"]
    overall = held[(held.tenure_band == "all") & (held.accounts >= 10)].sort_values("products_held")
    assert overall.retention.is_monotonic_increasing
    curve = r["survival"]
    for _, group in curve.groupby("dimension_value"):
        assert group.sort_values("time_days").survival.is_monotonic_decreasing
    assert ((curve.ci_lower <= curve.survival + 1e-12) & (curve.survival <= curve.ci_upper + 1e-12)).all()
    assert (r["cohorts_logo"].logo_retention <= 1.0).all()
    top20 = r["pareto"][r["pareto"].customer_share <= 0.2].revenue_share.max()
    assert 0.2 < top20 < 1.0
