"""The geometric contract model: every customer churns with the same probability ``p`` at each renewal.

It is the limit of the shifted-beta-geometric model when α and β grow without bound at α/(α+β) = p, the fallback
when an sBG fit diverges that way. Maximum likelihood is closed-form: p = churns / periods observed (each churned
row counts its periods up to and including the one it left in; each active row the periods it renewed).
S(t) = (1-p)^t, the retention rate is 1-p at every tenure, DERL = (1-p)(1+d)/(p+d).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import xlog1py, xlogy

from retain.clv.base import BaseFitter, unique_rows
from retain.errors import ModelError


def geometric_churn(data: Mapping[str, np.ndarray], weights: np.ndarray) -> tuple[float, float]:
    """(p, log-likelihood at p) of the geometric model on (periods, churned) rows with weights."""
    churns = float(np.dot(weights, data["churned"]))
    exposure = float(np.dot(weights, data["periods"]))
    p = churns / exposure if exposure > 0 else 0.0
    return p, float(xlogy(churns, p) + xlog1py(exposure - churns, -p))


def validate_contract_rows(data: Mapping[str, np.ndarray]) -> None:
    """Raise :class:`ModelError` unless rows are whole periods, churned 0/1, with some churn."""
    t, churned = data["periods"], data["churned"]
    if not np.all(np.isin(churned, (0.0, 1.0))):
        raise ModelError("churned must be 0 or 1", hint="1 = left at the end of `periods`, 0 = still active")
    if np.any(t < 0) or np.any((churned == 1) & (t < 1)) or np.any(t != np.round(t)):
        raise ModelError("periods must be whole numbers (>= 1 for churned rows)",
                         hint="count contract periods completed, e.g. annual renewals")
    if not np.any(churned == 1):
        raise ModelError("no churn observed: churn per renewal cannot be fitted",
                         hint="fit on a longer history or a larger group")


class GeometricFitter(BaseFitter):
    """Constant churn per renewal. Data as :class:`~retain.clv.sbg.ShiftedBetaGeometricFitter`: periods, churned."""

    _param_names = ("p",)
    _initial_values = (0.5,)
    _data_columns = ("periods", "churned")
    _unit_params = ("p",)

    def _validate(self, data) -> None:
        validate_contract_rows(data)

    def _log_likelihood(self, params, data):
        (p,) = params
        t, churned = data["periods"], data["churned"]
        return xlogy(churned, p) + xlog1py(t - churned, -p)

    def fit(self, frame: pd.DataFrame | Mapping[str, Sequence[float]], weights: Sequence[float] | None = None,
            **_: object) -> GeometricFitter:
        """Fit in closed form: p = churns / periods observed."""
        data = self._prepare(frame)
        data, w = unique_rows(data, None if weights is None else np.asarray(weights, dtype=float))
        p, _ = geometric_churn(data, w)
        self._set_fitted(np.array([p]), data, w)
        return self

    # -- predictions (the sBG's, in the limit) ------------------------------------------------------------------

    def survival_function(self, t):
        """S(t) = (1-p)^t."""
        (p,) = self._params()
        return (1 - p) ** np.asarray(t, dtype=float)

    def retention_rate(self, t):
        """1 - p at every tenure."""
        (p,) = self._params()
        return np.full(np.shape(t), 1 - p)

    def expected_remaining_lifetime(self, renewals, horizon: int | None = None):
        """Expected further renewals: (1-p)/p, whatever the tenure; with ``horizon``, within it."""
        if horizon is not None:
            return self.derl(0.0, renewals, horizon=horizon)
        (p,) = self._params()
        with np.errstate(divide="ignore"):
            return np.full(np.shape(renewals), (1 - p) / p if p > 0 else np.inf)

    def derl(self, discount_rate: float, renewals, horizon: int | None = None):
        """Σ_{k>=1} (1-p)^k / (1+d)^(k-1) = (1-p)(1+d)/(p+d); the first ``horizon`` terms with ``horizon``."""
        (p,) = self._params()
        d = float(discount_rate)
        if d < 0:
            raise ModelError("discount_rate must be >= 0", hint="e.g. 0.10 for 10% per period")
        shape = np.shape(renewals)
        if horizon is None:
            with np.errstate(divide="ignore"):
                return np.full(shape, (1 - p) * (1 + d) / (p + d) if p + d > 0 else np.inf)
        k = np.arange(1, int(horizon) + 1, dtype=float)
        return np.full(shape, float(np.sum((1 - p) ** k / (1 + d) ** (k - 1))))
