"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987) with a numerically stable likelihood.

The likelihood follows Fader & Hardie's note "A Note on Deriving the Pareto/NBD Model and Related Expressions"
(2005): L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^-(r+x) (β+T)^-s + s/(r+s+x) · A0 ], with A0 a difference of two Gauss
hypergeometric terms. For stability everything is in log space: each 2F1(r+s+x, b; r+s+x+1; z) is rewritten with
Pfaff's transformation as (1-z)^-b 2F1(1, b; r+s+x+1; z/(z-1)), whose argument is <= 0 and whose value stays
modest, so large frequencies or a large gap between α and β neither overflow nor lose precision; the difference
of the two terms is taken with log1p(-exp(.)).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1

from retain.clv.base import BaseFitter
from retain.clv.beta_geo import _validate_rfm


def _log_hyp_term(r, alpha, s, beta, x, t):
    """log[ 2F1(r+s+x, b; r+s+x+1; |α-β|/(max+t)) / (max+t)^(r+s+x) ] with b = s+1 if α >= β else r+x."""
    big, small = max(alpha, beta), min(alpha, beta)
    b = s + 1 if alpha >= beta else r + x
    c = r + s + x + 1
    log_one_minus_z = np.log(small + t) - np.log(big + t)
    z = (big - small) / (big + t)
    w = z / (z - 1)  # <= 0
    return -b * log_one_minus_z + np.log(hyp2f1(b, 1.0, c, w)) - (r + s + x) * np.log(big + t)


def _log_a0(r, alpha, s, beta, x, t_x, big_t):
    first = _log_hyp_term(r, alpha, s, beta, x, t_x)
    second = _log_hyp_term(r, alpha, s, beta, x, big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        return first + np.log1p(-np.exp(np.minimum(second - first, 0.0)))


class ParetoNBDFitter(BaseFitter):
    """Pareto/NBD. Data: ``frequency`` (x), ``recency`` (t_x), ``T``, in one time unit."""

    _param_names = ("r", "alpha", "s", "beta")
    _initial_values = (1.0, 1.0, 1.0, 1.0)
    _data_columns = ("frequency", "recency", "T")

    def _validate(self, data) -> None:
        _validate_rfm(data)

    def _log_likelihood(self, params, data):
        r, alpha, s, beta = params
        x, t_x, big_t = data["frequency"], data["recency"], data["T"]
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        stay = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        leave = np.log(s) - np.log(r + s + x) + _log_a0(r, alpha, s, beta, x, t_x, big_t)
        return head + np.logaddexp(stay, leave)

    # -- predictions ----------------------------------------------------------------------------------------

    def conditional_probability_alive(self, frequency, recency, T):
        """P(still a customer at T | x, t_x, T)."""
        r, alpha, s, beta = self._params()
        x, t_x, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        log_ratio = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + big_t) + s * np.log(beta + big_t)
                     + _log_a0(r, alpha, s, beta, x, t_x, big_t))
        return 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700)))

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T):
        """Expected purchases in (T, T + t] for a customer with history (x, t_x, T)."""
        r, alpha, s, beta = self._params()
        x, t_x, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        t = np.asarray(t, dtype=float)
        if abs(s - 1) < 1e-9:
            rate = (beta + big_t) * np.log((beta + big_t + t) / (beta + big_t))
        else:
            rate = (beta + big_t) / (s - 1) * (1 - ((beta + big_t) / (beta + big_t + t)) ** (s - 1))
        return (r + x) / (alpha + big_t) * rate * self.conditional_probability_alive(x, t_x, big_t)

    def expected_number_of_purchases_up_to_time(self, t):
        """Expected purchases in (0, t] of a customer just acquired."""
        r, alpha, s, beta = self._params()
        t = np.asarray(t, dtype=float)
        if abs(s - 1) < 1e-9:
            return r * beta / alpha * np.log((beta + t) / beta)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))
