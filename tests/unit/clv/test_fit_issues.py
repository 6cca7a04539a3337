"""Degenerate fits: detected in plain words, replaced by the documented fallback, intervals on the log scale.

Seeded data that drive each model to its boundary: a cohort whose churn is the same for everyone (sBG: α, β grow
without bound at a fixed ratio, the geometric limit) and buyers who never drop out (BG/NBD: a runs to 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clv_data import AS_OF, load
from typer.testing import CliRunner

from retain.cli.main import app
from retain.clv import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from retain.clv.base import IssueKind
from retain.clv.geometric import GeometricFitter
from retain.clv.sbg import ShiftedBetaGeometricFitter, survivors_to_rows
from retain.clv.value import account_clv
from retain.warehouse import Warehouse

CHURN = 0.2


def constant_churn_survivors(n: int = 3000, periods: int = 8, seed: int | None = 0) -> np.ndarray:
    """A cohort in which every customer churns with probability ``CHURN`` at each renewal: simulated with
    ``seed``, or exactly (5^8 customers, 20% of them lost each period) with ``seed=None``.

    A finite sample can show a little heterogeneity by chance and give an interior sBG fit (seed 3 does); these
    samples do not, so the likelihood's supremum is the geometric limit.
    """
    if seed is None:
        return np.array([5 ** (periods - t) * 4**t for t in range(periods + 1)], dtype=float)
    life = np.random.default_rng(seed).geometric(CHURN, n)
    return np.array([(life > t).sum() for t in range(periods + 1)], dtype=float)


def no_dropout_summary(n: int = 2000, seed: int = 3) -> pd.DataFrame:
    """(frequency, recency, T) of Poisson buyers with gamma-distributed rates who never drop out (weeks)."""
    rng = np.random.default_rng(seed)
    big_t = rng.uniform(20, 104, n)
    x = rng.poisson(rng.gamma(2.0, 1 / 20, n) * big_t)
    t_x = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    return pd.DataFrame({"frequency": x.astype(float), "recency": t_x, "T": big_t})


@pytest.fixture(scope="module", params=[None, 0, 7], ids=["exact", "seed0", "seed7"])
def constant_cohort(request):
    survivors = constant_churn_survivors(seed=request.param)
    return survivors, ShiftedBetaGeometricFitter().fit_survivors(survivors)


def test_sbg_on_constant_churn_is_reported_in_plain_words(constant_cohort):
    _, model = constant_cohort
    assert model.is_degenerate
    (issue,) = model.fit_issues_
    assert issue.kind is IssueKind.DIVERGED and issue.params == ("alpha", "beta")
    assert "grow without bound at a fixed ratio" in issue.message and "churn looks constant" in issue.message
    assert "Warning" not in str(issue) and ".py" not in str(issue)
    assert (model.summary["lower 95%"] > 0).all()  # even here the intervals stay positive


def test_geometric_fallback_is_the_limit_of_the_sbg(constant_cohort):
    survivors, _ = constant_cohort
    rows, weights = survivors_to_rows(survivors)
    geometric = GeometricFitter().fit(rows, weights)
    p = float(geometric.params_["p"])
    churns, exposure = survivors[0] - survivors[-1], survivors[:-1].sum()
    assert p == pytest.approx(churns / exposure)  # closed form: churns / periods observed
    assert p == pytest.approx(CHURN, abs=0.01)
    t = np.arange(10)
    np.testing.assert_allclose(geometric.survival_function(t), (1 - p) ** t)
    np.testing.assert_allclose(geometric.retention_rate(t + 1), 1 - p)
    assert float(geometric.derl(0.10, 3)) == pytest.approx(sum((1 - p) ** k / 1.1 ** (k - 1) for k in range(1, 2000)))
    assert float(geometric.derl(0.0, 3)) == pytest.approx(float(geometric.expected_remaining_lifetime(3)))
    # the sBG with alpha, beta large at alpha/(alpha+beta) = p predicts the same
    limit = ShiftedBetaGeometricFitter()
    limit.params_ = pd.Series({"alpha": p * 1e8, "beta": (1 - p) * 1e8})
    np.testing.assert_allclose(limit.survival_function(t), geometric.survival_function(t), rtol=1e-6)
    np.testing.assert_allclose(limit.derl(0.10, np.arange(4), horizon=3), geometric.derl(0.10, np.arange(4), 3),
                               rtol=1e-6)
    assert not geometric.fit_issues_
    lower, upper = geometric.summary.iloc[0, 2:]
    assert 0 < lower < p < upper < 1


def test_bgnbd_without_dropout_reaches_its_boundary():
    model = BetaGeoFitter().fit(no_dropout_summary())
    assert model.is_degenerate
    at_bound = [i for i in model.fit_issues_ if i.kind is IssueKind.AT_BOUND]
    assert at_bound and "a" in at_bound[0].params
    assert "no drop-out" in at_bound[0].message and "runs to the bound 0" in at_bound[0].message


def test_good_fits_have_no_issues(cdnow):
    for model in (BetaGeoFitter().fit(cdnow), ParetoNBDFitter().fit(cdnow),
                  GammaGammaFitter().fit(cdnow[cdnow["frequency"] > 0]),
                  ShiftedBetaGeometricFitter().fit_survivors([1000, 631, 468, 382, 326, 289, 262, 241])):
        assert model.fit_issues_ == [] and not model.is_degenerate


def test_intervals_are_on_the_log_scale():
    # a small cohort: the natural-scale interval (coef ± 1.96 se) would cross zero
    model = ShiftedBetaGeometricFitter().fit_survivors([60, 40, 31, 26, 23])
    summary = model.summary
    assert (summary["coef"] - 1.96 * summary["se"] < 0).any()
    assert (summary["lower 95%"] > 0).all() and (summary["upper 95%"] > summary["coef"]).all()
    # symmetric in log θ: lower × upper = θ²
    np.testing.assert_allclose(summary["lower 95%"] * summary["upper 95%"], summary["coef"] ** 2, rtol=1e-9)
    se_log = summary["se"] / summary["coef"]
    np.testing.assert_allclose(summary["upper 95%"], summary["coef"] * np.exp(1.959964 * se_log), rtol=1e-6)


# -- in the warehouse: the fallbacks used and said -------------------------------------------------------------


def degenerate_book(n_accounts: int = 300, seed: int = 11) -> dict[str, pd.DataFrame]:
    """Yearly contracts with constant churn (20% a renewal) and buyers who never stop buying."""
    rng = np.random.default_rng(seed)
    ids = [f"acc-{i:04d}" for i in range(n_accounts)]
    start = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 365 * 6, n_accounts), unit="D")
    life = rng.geometric(CHURN, n_accounts)
    end = start + pd.to_timedelta(np.round(life * 365.25).astype(int), unit="D")
    accounts = pd.DataFrame({"account_id": ids, "name": [f"Account {i}" for i in ids], "segment": "smb",
                             "created_at": start.tz_localize("UTC"), "acquisition_channel": "inbound"})
    subs = pd.DataFrame({"subscription_id": [f"s-{i}" for i in ids], "account_id": ids, "product_id": "core",
                         "started_on": start.date, "mrr": np.round(rng.uniform(100, 2000, n_accounts), 2),
                         "ended_on": end.date, "billing_period": "annual"})
    # buyers: a Poisson stream of purchases from 2023-01-01 until AS_OF, never dropping out
    buyers = rng.choice(ids, 200, replace=False)
    days = (pd.Timestamp(AS_OF) - pd.Timestamp("2023-01-01")).days
    rates = rng.gamma(2.0, 1 / 60, len(buyers))  # purchases a day
    counts = rng.poisson(rates * days) + 1
    offsets = rng.uniform(0, days, counts.sum())
    tx = pd.DataFrame({
        "transaction_id": [f"t-{i}" for i in range(counts.sum())], "account_id": np.repeat(buyers, counts),
        "occurred_at": pd.Timestamp("2023-01-01", tz="UTC") + pd.to_timedelta(np.round(offsets * 86400), unit="s"),
        "amount": np.round(rng.gamma(6.0, 10.0, counts.sum()), 2),
    })
    return {"accounts": accounts, "subscriptions": subs, "transactions": tx}


def load_degenerate(wh):
    for name, frame in degenerate_book().items():
        load(wh, name, frame)
    return wh


def test_account_clv_uses_and_names_the_fallbacks():
    wh = load_degenerate(Warehouse.open(":memory:"))
    result = account_clv(wh, AS_OF)
    notes = " | ".join(result.notes)
    assert "the sBG fit for all accounts diverged" in notes and "constant-rate (geometric) model" in notes
    assert "the BG/NBD fit reached a boundary" in notes and "using the simple CLV for purchases" in notes
    # the degenerate fits are not shown as results: their fallbacks are
    assert "sbg:all" not in result.models and "bgnbd" not in result.models
    geometric = result.models["geometric:smb"]
    assert not geometric.fit_issues_ and geometric.params_["p"] == pytest.approx(CHURN, abs=0.05)
    values = result.values
    assert set(values["method"]) <= {"geometric", "simple", "geometric+simple"}
    assert "geometric+simple" in set(values["method"])
    contracts = values[values["method"] == "geometric"]
    np.testing.assert_allclose(contracts["p_alive"], 1 - geometric.params_["p"])
    assert np.isfinite(values["clv"]).all() and (values["clv"] >= 0).all()


def test_cli_prints_notes_not_python_warnings(tmp_path):
    path = tmp_path / "retain.duckdb"
    wh = Warehouse.open(path)
    load_degenerate(wh)
    wh.con.disconnect()
    result = CliRunner().invoke(app, ["--db", str(path), "clv", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert "note:" in result.output and "geometric" in result.output and "simple CLV" in result.output
    assert "Warning" not in result.output and ".py:" not in result.output
