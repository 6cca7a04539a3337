"""Validation against the published CDNOW estimates and Fader-Hardie's sBG retention series."""

from __future__ import annotations

import pytest

from retain.clv import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from retain.clv.datasets import CDNOW_PUBLISHED, CDNOW_PUBLISHED_LL
from retain.clv.sbg import ShiftedBetaGeometricFitter


def test_cdnow_summary_shape(cdnow):
    assert len(cdnow) == 2357
    assert (cdnow["frequency"] > 0).sum() == 946  # the Gamma-Gamma sample of the iso-value paper
    assert cdnow["T"].max() == pytest.approx(272 / 7)  # first purchase on 1997-01-01: 39 weeks less a day
    assert cdnow["duration_holdout"].iloc[0] == pytest.approx(273 / 7)


@pytest.mark.parametrize(("name", "model"), [("bgnbd", BetaGeoFitter), ("pareto", ParetoNBDFitter)])
def test_buy_till_you_die_models_reproduce_the_paper(cdnow, name, model):
    fitted = model().fit(cdnow)
    for param, paper in CDNOW_PUBLISHED[name].items():
        assert fitted.params_[param] == pytest.approx(paper, rel=0.01), param
    assert fitted.log_likelihood_ == pytest.approx(CDNOW_PUBLISHED_LL[name], abs=0.1)


def test_gamma_gamma_reproduces_the_paper(cdnow):
    fitted = GammaGammaFitter().fit(cdnow[cdnow["frequency"] > 0])
    for param, paper in CDNOW_PUBLISHED["gamma_gamma"].items():
        assert fitted.params_[param] == pytest.approx(paper, rel=0.01), param


def test_bgnbd_standard_errors_match_lifetimes_published_table(cdnow):
    # lifetimes' documentation prints these standard errors for the same fit
    se = BetaGeoFitter().fit(cdnow).standard_errors_
    assert se.to_dict() == pytest.approx({"r": 0.0126, "alpha": 0.3782, "a": 0.1857, "b": 0.7054}, abs=2e-4)


@pytest.mark.parametrize(
    ("survivors", "alpha", "beta"),
    [
        ([1000, 631, 468, 382, 326, 289, 262, 241], 0.704, 1.182),  # regular customers
        ([1000, 869, 743, 653, 593, 551, 517, 491], 0.668, 3.806),  # high-end customers
    ],
)
def test_sbg_reproduces_fader_hardie_2007(survivors, alpha, beta):
    fitted = ShiftedBetaGeometricFitter().fit_survivors(survivors)
    assert fitted.params_["alpha"] == pytest.approx(alpha, rel=0.01)
    assert fitted.params_["beta"] == pytest.approx(beta, rel=0.01)
