"""Shifted-beta-geometric (sBG) model for contract / subscription cohorts (Fader & Hardie 2007, 2010).

Each period a customer renews with probability 1 - θ, θ ~ Beta(α, β) across customers. Fitted on survivor counts
of a cohort (or on one row per customer: periods observed and whether it churned), it gives retention rates,
survival, the expected remaining lifetime and the discounted expected residual lifetime (DERL) of an active
subscriber given its tenure ("Customer-Base Valuation in a Contractual Setting", Fader & Hardie 2010).

When churn is the same for every customer, the likelihood has no interior maximum: α and β grow without bound at
the ratio α/(α+β) = the constant churn rate, and the limit is the geometric model of :mod:`retain.clv.geometric`.
The fit then reports that in ``fit_issues_``; :func:`retain.clv.value.fit_sbg_by_segment` uses the geometric model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import betaln, hyp2f1

from retain.clv.base import BaseFitter, FitIssue, IssueKind
from retain.clv.geometric import geometric_churn, validate_contract_rows
from retain.errors import ModelError


def survivors_to_rows(survivors: Sequence[float]) -> tuple[pd.DataFrame, np.ndarray]:
    """Survivor counts n_0, n_1, ..., n_k of one cohort → rows (periods, churned) with weights.

    ``n_{t-1} - n_t`` customers churned in period t; ``n_k`` are still active after k periods (censored).
    """
    counts = np.asarray(survivors, dtype=float)
    if counts.ndim != 1 or counts.size < 2:
        raise ModelError("survivor counts need at least two values (the cohort size and one later count)",
                         hint="pass e.g. [1000, 631, 468, 382]")
    lost = -np.diff(counts)
    if np.any(lost < 0) or counts[-1] < 0:
        raise ModelError("survivor counts must not increase over time", hint="check the cohort series")
    periods = np.arange(1, counts.size)
    rows = pd.DataFrame({"periods": np.append(periods, counts.size - 1), "churned": np.append(np.ones_like(lost), 0.0)})
    return rows, np.append(lost, counts[-1])


class ShiftedBetaGeometricFitter(BaseFitter):
    """sBG. Data: ``periods`` (renewal periods observed, >= 1) and ``churned`` (1 if it left at the end of them).

    Rows with ``churned`` = 0 are censored: still customers after ``periods`` renewals.
    """

    _param_names = ("alpha", "beta")
    _initial_values = (1.0, 1.0)
    _data_columns = ("periods", "churned")

    def _validate(self, data) -> None:
        validate_contract_rows(data)

    def _log_likelihood(self, params, data):
        alpha, beta = params
        t, churned = data["periods"].astype(np.int64), data["churned"]
        # log S(k) = Σ_{j<k} log((β+j)/(α+β+j)) summed term by term: differences of betaln lose every digit once
        # α, β grow large, and an optimiser then climbs the rounding noise instead of the likelihood
        j = np.arange(int(t.max(initial=0)) + 1, dtype=float)
        log_surv = np.r_[0.0, np.cumsum(np.log1p(-alpha / (alpha + beta + j[:-1])))]
        log_pmf = log_surv[np.maximum(t - 1, 0)] + np.log(alpha) - np.log(alpha + beta + np.maximum(t - 1, 0))
        return np.where(churned == 1, log_pmf, log_surv[t])

    def _explain(self, issues: list[FitIssue]) -> list[FitIssue]:
        """α, β running off together, or no better than constant churn: the geometric limit, in those words."""
        churn, geometric_ll = geometric_churn(self._data, self._weights)
        alpha, beta = self._fitted
        no_better = self.log_likelihood_ <= geometric_ll + 1e-3
        if no_better or any(i.kind is IssueKind.DIVERGED for i in issues) or alpha + beta > self._absurd:
            return [FitIssue(IssueKind.DIVERGED, ("alpha", "beta"),
                             "alpha and beta grow without bound at a fixed ratio: churn looks constant over renewals, "
                             f"{churn:.1%} a renewal (alpha = {alpha:.2g}, beta = {beta:.2g})")]
        return issues

    def fit_survivors(self, survivors: Sequence[float], **kwargs) -> ShiftedBetaGeometricFitter:
        """Fit on one cohort's survivor counts n_0, n_1, ..., n_k."""
        rows, weights = survivors_to_rows(survivors)
        return self.fit(rows, weights, **kwargs)

    # -- predictions ----------------------------------------------------------------------------------------

    def survival_function(self, t):
        """S(t): share of a new cohort still customers after t periods."""
        alpha, beta = self._params()
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))

    def retention_rate(self, t):
        """r(t) = S(t) / S(t-1): share of those alive after t-1 periods who renew at t (rises with t)."""
        alpha, beta = self._params()
        t = np.asarray(t, dtype=float)
        return (beta + t - 1) / (alpha + beta + t - 1)

    def expected_remaining_lifetime(self, renewals, horizon: int | None = None):
        """Expected number of further renewals of an active customer that has made ``renewals`` renewals so far.

        Without ``horizon`` this is β'/(α-1), β' = β + renewals, and infinite when α <= 1 (a heavy tail of
        customers who practically never leave); with ``horizon`` it counts renewals in the next ``horizon`` periods.
        """
        if horizon is not None:
            return self.derl(0.0, renewals, horizon=horizon)
        alpha, beta = self._params()
        n = np.asarray(renewals, dtype=float)
        if alpha <= 1:
            return np.full(n.shape, np.inf)
        return (beta + n) / (alpha - 1)

    def derl(self, discount_rate: float, renewals, horizon: int | None = None):
        """Discounted expected residual lifetime, in units of one period's payment.

        For an active customer who has made ``renewals`` renewals (so is in period n = renewals + 1, paid), the
        expected present value of its future payments at each renewal, each discounted by ``discount_rate`` per
        period: Σ_{t>=n} S(t)/S(n-1) / (1+d)^(t-n) = B(α, β+n)/B(α, β+n-1) · 2F1(1, β+n; α+β+n; 1/(1+d)).
        With ``horizon``, only the next ``horizon`` renewals count.
        """
        alpha, beta = self._params()
        n = np.asarray(renewals, dtype=float) + 1
        d = float(discount_rate)
        if d < 0:
            raise ModelError("discount_rate must be >= 0", hint="e.g. 0.10 for 10% per period")
        if horizon is None:
            if d == 0:
                return self.expected_remaining_lifetime(n - 1)
            return np.exp(betaln(alpha, beta + n) - betaln(alpha, beta + n - 1)) * hyp2f1(
                1.0, beta + n, alpha + beta + n, 1.0 / (1.0 + d))
        k = np.arange(1, int(horizon) + 1, dtype=float)
        # S(n-1+k)/S(n-1) = Π_{j=1..k} (β+n-2+j)/(α+β+n-2+j), one row per customer
        ratios = (beta + n[..., None] - 2 + k) / (alpha + beta + n[..., None] - 2 + k)
        return (np.cumprod(ratios, axis=-1) / (1 + d) ** (k - 1)).sum(axis=-1)
