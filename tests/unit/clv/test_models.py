"""BG/NBD, Pareto/NBD and Gamma-Gamma: gradients, parameter recovery, predictions, numerical stability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.optimize import approx_fprime
from scipy.special import gammaln

from retain.clv import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from retain.clv import simulate as sim
from retain.clv.base import unique_rows
from retain.errors import ModelError


@pytest.mark.parametrize(
    ("model", "params", "columns"),
    [
        (BetaGeoFitter, [0.3, 5.0, 0.7, 2.0], ("frequency", "recency", "T")),
        (GammaGammaFitter, [6.0, 3.5, 15.0], ("frequency", "monetary_value")),
    ],
)
def test_analytic_gradient_matches_numerical(cdnow, model, params, columns):
    frame = cdnow[cdnow["frequency"] > 0] if model is GammaGammaFitter else cdnow
    data, w = unique_rows({c: frame[c].to_numpy() for c in columns})
    m = model()
    p = np.array(params)
    analytic = m._gradient(p, data) @ w
    numeric = approx_fprime(p, lambda q: float(np.dot(w, model()._log_likelihood(q, data))), 1e-7)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4)


def _within(fitted, truth, n_se=4.0):
    for name, value in truth.items():
        assert abs(fitted.params_[name] - value) <= n_se * fitted.standard_errors_[name], (name, fitted.params_[name])


def _daily(frame):
    """Purchases recorded by day (time in weeks), as real data is: fewer unique rows, faster fits."""
    return frame.assign(recency=np.round(frame["recency"] * 7) / 7, T=np.round(frame["T"] * 7) / 7)


def test_bgnbd_recovers_simulated_parameters():
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    data = _daily(sim.beta_geo_summary(20_000, *truth.values(), T=np.linspace(20, 52, 20_000), seed=11))
    _within(BetaGeoFitter().fit(data), truth)


def test_pareto_nbd_recovers_simulated_parameters():
    truth = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    data = _daily(sim.pareto_nbd_summary(20_000, *truth.values(), T=39.0, seed=12))
    _within(ParetoNBDFitter().fit(data), truth)


def test_gamma_gamma_recovers_simulated_parameters():
    truth = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    x = np.random.default_rng(3).integers(1, 10, 10_000).astype(float)
    frame = pd.DataFrame({"frequency": x, "monetary_value": sim.gamma_gamma_spend(x, *truth.values(), seed=4)})
    _within(GammaGammaFitter().fit(frame), truth)


def _pareto_ll_by_integration(r, alpha, s, beta, x, t_x, big_t):
    """The Pareto/NBD likelihood by quadrature over the dropout time (no hypergeometric functions)."""

    def alive_until(tau):  # density of dropping out at tau, times the purchase likelihood up to tau
        return s * beta**s / (beta + tau) ** (s + 1) * alpha**r / (alpha + tau) ** (r + x)

    head = np.exp(gammaln(r + x) - gammaln(r))
    stay = (beta / (beta + big_t)) ** s * alpha**r / (alpha + big_t) ** (r + x)
    leave = integrate.quad(alive_until, t_x, big_t, epsabs=0, epsrel=1e-12)[0]
    return np.log(head * (stay + leave))


@pytest.mark.parametrize(("alpha", "beta"), [(10.578, 11.669), (2.0, 30.0), (30.0, 2.0)])
@pytest.mark.parametrize(("x", "t_x", "big_t"), [(0, 0.0, 39.0), (3, 20.0, 39.0), (40, 38.0, 39.0), (7, 39.0, 39.0)])
def test_pareto_likelihood_matches_direct_integration(alpha, beta, x, t_x, big_t):
    params = np.array([0.553, alpha, 0.606, beta])
    data = {"frequency": np.array([float(x)]), "recency": np.array([t_x]), "T": np.array([big_t])}
    ours = ParetoNBDFitter()._log_likelihood(params, data)[0]
    assert ours == pytest.approx(_pareto_ll_by_integration(*params, x, t_x, big_t), rel=1e-8)


def test_pareto_likelihood_is_finite_for_heavy_buyers():
    params = np.array([0.5, 2.0, 0.6, 80.0])  # alpha << beta: the naive 2F1 overflows here
    x = np.array([0.0, 50, 500, 2000])
    data = {"frequency": x, "recency": np.minimum(x, 100.0) * 0.99, "T": np.full(4, 100.0)}
    assert np.all(np.isfinite(ParetoNBDFitter()._log_likelihood(params, data)))


def test_predictions_match_lifetimes(cdnow):
    lifetimes = pytest.importorskip("lifetimes")
    x, t_x, big_t = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    for ours_cls, theirs_cls in ((BetaGeoFitter, lifetimes.BetaGeoFitter),
                                 (ParetoNBDFitter, lifetimes.ParetoNBDFitter)):
        ours = ours_cls().fit(cdnow)
        theirs = theirs_cls()
        theirs.params_ = ours.params_.copy()
        np.testing.assert_allclose(ours.conditional_probability_alive(x, t_x, big_t),
                                   theirs.conditional_probability_alive(x, t_x, big_t), rtol=1e-6)
        np.testing.assert_allclose(ours.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, big_t),
                                   theirs.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, big_t),
                                   rtol=1e-6)
        np.testing.assert_allclose(ours.expected_number_of_purchases_up_to_time(np.array([10.0, 39, 78])),
                                   theirs.expected_number_of_purchases_up_to_time(np.array([10.0, 39, 78])),
                                   rtol=1e-6)


def test_bgnbd_hand_checked_prediction():
    model = BetaGeoFitter()
    model.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    # a customer with no repeat purchase is alive for sure; one who bought often long ago probably is not
    assert model.conditional_probability_alive(0, 0, 39) == 1.0
    assert model.conditional_probability_alive(10, 5, 39) < 0.05 < model.conditional_probability_alive(10, 38, 39)
    # E[X(t)] of a new customer rises with t and is concave
    e = model.expected_number_of_purchases_up_to_time(np.array([13.0, 26, 39]))
    assert 0 < e[0] < e[1] < e[2] and e[1] - e[0] > e[2] - e[1]


def test_gamma_gamma_rejects_non_repeaters_and_predicts_population_mean():
    with pytest.raises(ModelError, match="frequency >= 1"):
        GammaGammaFitter().fit(pd.DataFrame({"frequency": [0.0, 1.0], "monetary_value": [0.0, 10.0]}))
    model = GammaGammaFitter()
    model.params_ = pd.Series({"p": 6.25, "q": 3.74, "gamma": 15.44})
    spend = model.conditional_expected_average_profit([0, 1, 100], [0.0, 20.0, 20.0])
    assert spend[0] == pytest.approx(6.25 * 15.44 / 2.74)
    # one purchase of 20 is shrunk toward the population mean; a hundred of them are believed
    assert 20.0 < spend[1] < spend[0]
    assert spend[2] == pytest.approx(20.0, rel=0.01)
