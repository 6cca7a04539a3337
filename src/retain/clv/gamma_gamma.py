"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves")."""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from retain.clv.base import BaseFitter
from retain.errors import ModelError


class GammaGammaFitter(BaseFitter):
    """Mean spend per transaction. Data: ``frequency`` (x >= 1 repeat purchases) and ``monetary_value`` (their mean).

    Fit only on customers with at least one repeat purchase; the model assumes spend and frequency independent.
    """

    _param_names = ("p", "q", "gamma")
    _initial_values = (1.0, 1.0, 1.0)
    _data_columns = ("frequency", "monetary_value")
    _scale_params = ("gamma",)  # in money units: large for large amounts, not a divergence

    def _validate(self, data) -> None:
        if np.any(data["frequency"] <= 0):
            raise ModelError("Gamma-Gamma needs customers with frequency >= 1 only",
                             hint="filter the summary first: summary[summary.frequency > 0]")
        if np.any(data["monetary_value"] <= 0):
            raise ModelError("Gamma-Gamma needs a positive monetary_value for every customer",
                             hint="drop customers whose mean repeat spend is 0 or negative (refunds)")

    def _log_likelihood(self, params, data):
        p, q, gamma = params
        x, m = data["frequency"], data["monetary_value"]
        return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(gamma) + (p * x - 1) * np.log(m)
                + p * x * np.log(x) - (p * x + q) * np.log(x * m + gamma))

    def _gradient(self, params, data):
        p, q, gamma = params
        x, m = data["frequency"], data["monetary_value"]
        psi = digamma(p * x + q)
        log_xm = np.log(x * m + gamma)
        d_p = x * (psi - digamma(p * x) + np.log(m) + np.log(x) - log_xm)
        d_q = psi - digamma(q) + np.log(gamma) - log_xm
        d_gamma = q / gamma - (p * x + q) / (x * m + gamma)
        return np.vstack([d_p, d_q, d_gamma])

    def conditional_expected_average_profit(self, frequency=None, monetary_value=None):
        """E[mean spend | x, m_x]; the population mean p·gamma/(q-1) for customers without repeat purchases."""
        p, q, gamma = self._params()
        if q <= 1:
            raise ModelError(f"q = {q:.3g} <= 1: the population mean spend is infinite",
                             hint="check for extreme spend values; the model needs q > 1 to predict")
        if frequency is None:
            return p * gamma / (q - 1)
        x = np.asarray(frequency, dtype=float)
        m = np.nan_to_num(np.asarray(monetary_value, dtype=float))
        individual = p * (gamma + x * m) / (p * x + q - 1)
        return np.where(x > 0, individual, p * gamma / (q - 1))
