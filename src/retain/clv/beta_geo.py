"""BG/NBD: the beta-geometric / negative-binomial buy-till-you-die model (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1

from retain.clv.base import BaseFitter
from retain.errors import ModelError


def _validate_rfm(data) -> None:
    x, t_x, big_t = data["frequency"], data["recency"], data["T"]
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ModelError("frequency must be a whole number of repeat purchases >= 0",
                         hint="use rfm_summary(), which counts distinct purchase periods after the first")
    if np.any(t_x < 0) or np.any(t_x > big_t):
        raise ModelError("recency must be between 0 and T for every customer",
                         hint="recency and T are measured from the first purchase, in the same time unit")
    if np.any((x == 0) & (t_x != 0)):
        raise ModelError("customers with frequency 0 must have recency 0",
                         hint="recency is the time between the first and the last purchase")


class BetaGeoFitter(BaseFitter):
    """BG/NBD. Data: ``frequency`` (repeat purchases x), ``recency`` (t_x) and ``T``, in one time unit."""

    _param_names = ("r", "alpha", "a", "b")
    _initial_values = (1.0, 1.0, 1.0, 1.0)
    _data_columns = ("frequency", "recency", "T")

    def _validate(self, data) -> None:
        _validate_rfm(data)

    def _log_likelihood(self, params, data):
        r, alpha, a, b = params
        x, t_x, big_t = data["frequency"], data["recency"], data["T"]
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + big_t)
        with np.errstate(divide="ignore", invalid="ignore"):
            a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
                          -np.inf)
        return a1 + a2 + np.logaddexp(a3, a4)

    def _gradient(self, params, data):
        r, alpha, a, b = params
        x, t_x, big_t = data["frequency"], data["recency"], data["T"]
        a3 = -(r + x) * np.log(alpha + big_t)
        with np.errstate(divide="ignore", invalid="ignore"):
            bx1 = np.maximum(b + x - 1, 1e-300)
            a4 = np.where(x > 0, np.log(a) - np.log(bx1) - (r + x) * np.log(alpha + t_x), -np.inf)
        total = np.logaddexp(a3, a4)
        w3, w4 = np.exp(a3 - total), np.exp(a4 - total)
        has = x > 0
        d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + big_t) - np.where(
            has, w4 * np.log(alpha + t_x), 0.0)
        d_alpha = r / alpha - w3 * (r + x) / (alpha + big_t) - np.where(has, w4 * (r + x) / (alpha + t_x), 0.0)
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + x)
        d_a = psi_ab - psi_abx + np.where(has, w4 / a, 0.0)
        d_b = psi_ab + digamma(b + x) - digamma(b) - psi_abx - np.where(has, w4 / bx1, 0.0)
        return np.vstack([d_r, d_alpha, d_a, d_b])

    # -- predictions ----------------------------------------------------------------------------------------

    def conditional_probability_alive(self, frequency, recency, T):
        """P(still a customer at T | x, t_x, T)."""
        r, alpha, a, b = self._params()
        x, t_x, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        log_ratio = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (
            np.log(alpha + big_t) - np.log(alpha + t_x))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700))), 1.0)

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T):
        """Expected repeat purchases in (T, T + t] for a customer with history (x, t_x, T)."""
        r, alpha, a, b = self._params()
        x, t_x, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        t = np.asarray(t, dtype=float)
        if a <= 1 + 1e-12 and abs(a - 1) < 1e-12:
            raise ModelError("a = 1 exactly: the closed form is undefined", hint="refit or perturb a")
        z = t / (alpha + big_t + t)
        head = (a + b + x - 1) / (a - 1)
        tail = 1 - np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t))) * hyp2f1(
            r + x, b + x, a + b + x - 1, z)
        return head * tail * self.conditional_probability_alive(x, t_x, big_t)

    def expected_number_of_purchases_up_to_time(self, t):
        """Expected purchases in (0, t] of a customer just acquired."""
        r, alpha, a, b = self._params()
        t = np.asarray(t, dtype=float)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
