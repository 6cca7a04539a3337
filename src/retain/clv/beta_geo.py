"""BG/NBD: the beta-geometric / negative-binomial buy-till-you-die model (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1

from retain.clv.base import BaseFitter, FitIssue, IssueKind, log_add_exp, on_levels
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

    def _explain(self, issues: list[FitIssue]) -> list[FitIssue]:
        """a at 0: no drop-out; r and alpha without bound: one purchase rate for everyone."""
        r, alpha, a, b = self._fitted
        out = []
        for issue in issues:
            if issue.kind is IssueKind.AT_BOUND and "a" in issue.params:
                issue = replace(issue, message=f"{issue.message}: the chance of dropping out after a purchase, "
                                "a/(a+b), is 0, i.e. the data show no drop-out")
            elif issue.kind is IssueKind.DIVERGED and {"r", "alpha"} <= set(issue.params):
                issue = replace(issue, message=f"{issue.message}: every customer buys at the same rate, "
                                f"r/alpha = {r / alpha:.3g} a period")
            out.append(issue)
        return out

    def _parts(self, params, data):
        """Shared pieces of the likelihood and its gradient (cached for the last ``params``)."""
        key = tuple(float(v) for v in params)
        cache = data.get("_cache") if isinstance(data, dict) else None
        if cache is not None and cache[0] == key:
            return cache[1]
        r, alpha, a, b = params
        x = data["frequency"]
        log_t = on_levels(data, "T", lambda v: np.log(alpha + v))
        log_tx = on_levels(data, "recency", lambda v: np.log(alpha + v))
        # log(a) - log(b + x - 1), and -inf without repeat purchases (no drop-out term then)
        drop = on_levels(data, "frequency", lambda v: np.where(
            v > 0, np.log(a) - np.log(np.maximum(b + v - 1, 1e-300)), -np.inf))
        a3 = -(r + x) * log_t
        a4 = drop - (r + x) * log_tx
        total = log_add_exp(a3, a4)
        value = (x, log_t, log_tx, total, np.exp(a4 - total))
        if isinstance(data, dict):
            data["_cache"] = (key, value)
        return value

    def _log_likelihood(self, params, data):
        r, alpha, a, b = params
        total = self._parts(params, data)[3]
        head = on_levels(data, "frequency", lambda v: gammaln(r + v) - gammaln(r) + gammaln(a + b) + gammaln(b + v)
                         - gammaln(b) - gammaln(a + b + v))
        return head + r * np.log(alpha) + total

    def _gradient(self, params, data):
        r, alpha, a, b = params
        x, log_t, log_tx, _, w4 = self._parts(params, data)
        w3 = 1 - w4  # w4 is 0 without repeat purchases, so no masks are needed below
        out = np.empty((4, x.size))
        e_t = on_levels(data, "T", lambda v: 1 / (alpha + v))
        e_tx = on_levels(data, "recency", lambda v: 1 / (alpha + v))
        out[0] = on_levels(data, "frequency", lambda v: digamma(r + v)) - digamma(r) + np.log(alpha) - w3 * log_t
        out[0] -= w4 * log_tx
        out[1] = r / alpha - (r + x) * (w3 * e_t + w4 * e_tx)
        psi = on_levels(data, "frequency", lambda v: digamma(a + b) - digamma(a + b + v))
        out[2] = psi + w4 / a
        out[3] = psi + on_levels(data, "frequency", lambda v: digamma(b + v) - digamma(b)) - w4 * on_levels(
            data, "frequency", lambda v: 1 / np.maximum(b + v - 1, 1e-300))
        return out

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
        alive = self.conditional_probability_alive(x, t_x, big_t)
        with np.errstate(invalid="ignore", over="ignore"):  # a, b -> 0 at a boundary fit: hyp2f1 overflows
            head = (a + b + x - 1) / (a - 1)
            tail = 1 - np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t))) * hyp2f1(
                r + x, b + x, a + b + x - 1, z)
            expected = head * tail * alive
        return np.where((alive == 0) | (head == 0), 0.0, expected)  # a dead customer buys nothing, however large

    def expected_number_of_purchases_up_to_time(self, t):
        """Expected purchases in (0, t] of a customer just acquired."""
        r, alpha, a, b = self._params()
        t = np.asarray(t, dtype=float)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
