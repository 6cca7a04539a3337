"""The base of every CLV model: maximum likelihood on unique data tuples, standard errors and a summary.

Modelled on lifelines' parametric fitters: a concrete model declares its parameter names, a starting point, the
data columns it needs and a vectorised log-likelihood of one row of unique data; this class does the rest
(optimisation in log space with scipy, Hessian-based standard errors, confidence intervals, ``summary``).

After a fit, ``fit_issues_`` lists what makes the estimate unusable as it stands, in plain words: a positive
parameter run to its bound 0, parameters growing without bound (an absurd scale, or a huge error on the log scale),
or a likelihood too flat for standard errors. A model may restate them in its own terms (``_explain``); callers
choose a fallback. Nothing here emits a Python warning: people read the issues, not a source path.
Intervals are computed on the log scale (logit for probabilities), so they never leave the parameter's range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from retain.errors import ConvergenceError as _RetainConvergenceError
from retain.errors import ModelError


class ConvergenceError(_RetainConvergenceError):
    """The likelihood optimiser did not converge. The message says what to try."""


class StatisticalWarning(RuntimeWarning):
    """Kept for callers that filter it; the fitters report problems in ``fit_issues_`` instead of warning."""


class IssueKind(StrEnum):
    """How a fit went wrong."""

    AT_BOUND = "at_bound"  # a positive parameter ran to 0
    DIVERGED = "diverged"  # parameters grow without bound (absurd scale)
    UNDETERMINED = "undetermined"  # the likelihood is flat or singular: no standard errors

    @property
    def verb(self) -> str:
        return {"at_bound": "reached a boundary", "diverged": "diverged",
                "undetermined": "is not determined"}[self.value]


@dataclass(frozen=True)
class FitIssue:
    """One reason a fit cannot be used as it stands: the parameters concerned and a plain-words ``message``."""

    kind: IssueKind
    params: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{self.kind.verb} ({self.message})"


def issues_note(subject: str, issues: Sequence[FitIssue], fallback: str) -> str:
    """One line for people: "the sBG fit for segment smb diverged (...); using ..."."""
    return f"{subject} {' and '.join(map(str, issues))}; {fallback}"


def unique_rows(data: Mapping[str, np.ndarray], weights: np.ndarray | None = None) -> tuple[dict, np.ndarray]:
    """Collapse identical data rows into one row with a weight (count), so a million customers fit in seconds.

    Hash-based and linear: each column is factorised, the codes are combined into one integer key, which is
    factorised again; weights are summed with bincount.
    """
    names = list(data)
    columns = [np.asarray(data[name], dtype=float) for name in names]
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for values in columns:
        codes, levels = pd.factorize(values, sort=False)
        if key.max(initial=0) > np.iinfo(np.int64).max // (len(levels) + 1):
            key, _ = pd.factorize(key, sort=False)  # re-compact before the combined key could overflow
        key = key * len(levels) + codes
    group, _ = pd.factorize(key, sort=False)  # codes numbered in order of first appearance
    w = np.ones(len(key)) if weights is None else np.asarray(weights, dtype=float)
    counts = np.bincount(group, weights=w)
    if len(group):
        first = np.flatnonzero(np.r_[True, group[1:] > np.maximum.accumulate(group)[:-1]])
    else:
        first = np.zeros(0, dtype=np.int64)
    return {name: col[first] for name, col in zip(names, columns, strict=True)}, counts


def codes_of(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(levels, index) with ``levels[index] == values``: evaluate costly functions on levels only."""
    index, levels = pd.factorize(np.asarray(values, dtype=float), sort=False)
    return np.asarray(levels, dtype=float), index


def on_levels(data: Mapping[str, np.ndarray], name: str, fn) -> np.ndarray:
    """``fn(data[name])``, evaluated once per distinct value when the fit cached the column's codes."""
    codes = data.get("_codes", {}).get(name)
    if codes is None:
        return fn(data[name])
    levels, index = codes
    return fn(levels)[index]


def log_add_exp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(exp(a) + exp(b)), faster than np.logaddexp and fine with -inf in ``b``."""
    top = np.maximum(a, b)
    return top + np.log1p(np.exp(-np.abs(a - b)))


class BaseFitter:
    """Fit by maximum likelihood; concrete models set the class attributes and implement ``_log_likelihood``."""

    _param_names: tuple[str, ...] = ()
    _initial_values: tuple[float, ...] = ()
    _data_columns: tuple[str, ...] = ()
    #: without an analytic gradient, polish with Nelder-Mead when there are at most this many unique rows
    _polish_max_rows: int = 200_000
    #: parameters in (0, 1) (intervals on the logit scale, no bound checks); the others are positive
    _unit_params: tuple[str, ...] = ()
    #: positive parameters measured in the data's units (money): no absolute scale check
    _scale_params: tuple[str, ...] = ()
    #: a positive parameter below this has run to its bound 0; above ``_absurd`` it grows without bound
    _at_zero: float = 1e-6
    _absurd: float = 1e6
    #: a standard error of log(parameter) above this means the data do not pin the parameter down at all
    _max_log_se: float = 5.0

    def __init__(self, penalizer_coef: float = 0.0, alpha: float = 0.05) -> None:
        self.penalizer_coef = penalizer_coef
        self.alpha = alpha

    # -- what a concrete model provides -----------------------------------------------------------------

    def _log_likelihood(self, params: np.ndarray, data: Mapping[str, np.ndarray]) -> np.ndarray:
        """Log-likelihood of each (unique) data row; ``params`` in natural scale, in ``_param_names`` order."""
        raise NotImplementedError

    def _gradient(self, params: np.ndarray, data: Mapping[str, np.ndarray]) -> np.ndarray:
        """Optional: d log-likelihood / d params (natural scale), shape (n_params, n_rows). Else numerical."""
        raise NotImplementedError

    def _validate(self, data: Mapping[str, np.ndarray]) -> None:
        """Raise :class:`ModelError` on data the model cannot use (hook for concrete models)."""

    def _explain(self, issues: list[FitIssue]) -> list[FitIssue]:
        """Restate the generic issues in the model's own terms (hook for concrete models)."""
        return issues

    # -- fitting --------------------------------------------------------------------------------------------

    def _prepare(self, frame: pd.DataFrame | Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
        columns = frame.columns if isinstance(frame, pd.DataFrame) else list(frame)
        for name in self._data_columns:
            if name not in columns:
                raise ModelError(
                    f"{type(self).__name__} needs a column '{name}' (has: {', '.join(map(str, columns)) or 'none'})",
                    hint=f"pass a table with columns {', '.join(self._data_columns)}, e.g. from retain.clv.rfm_summary",
                )
        data = {}
        for name in self._data_columns:
            values = np.asarray(frame[name], dtype=float)
            if values.size == 0:
                raise ModelError(f"{type(self).__name__} got no rows to fit", hint="check the date range and filters")
            if not np.all(np.isfinite(values)):
                raise ModelError(
                    f"column '{name}' has missing or infinite values", hint="drop or fill those rows before fitting"
                )
            data[name] = values
        self._validate(data)
        return data

    def fit(
        self,
        frame: pd.DataFrame | Mapping[str, Sequence[float]],
        weights: Sequence[float] | None = None,
        *,
        initial_params: Sequence[float] | None = None,
        tol: float = 1e-10,
        maxiter: int = 2000,
    ) -> BaseFitter:
        """Fit the model to ``frame`` (one row per customer or cohort, with the model's data columns)."""
        data = self._prepare(frame)
        data, w = unique_rows(data, None if weights is None else np.asarray(weights, dtype=float))
        start = np.log(np.asarray(initial_params if initial_params is not None else self._initial_values, float))
        data["_codes"] = {name: codes_of(data[name]) for name in self._data_columns}
        result = None
        if initial_params is None and len(w) > self._warm_start_rows and self._has_gradient:
            result = self._fit_large(data, w, start, maxiter, tol)
        if result is None:
            result, best = self._optimise(data, w, start, maxiter, tol, polish=True)
        else:
            best = result
        converged = result.success or np.max(np.abs(self._objective_gradient(best.x, data, w))) < 1e-6
        if not np.isfinite(best.fun) or best.fun >= 1e99:
            raise self._convergence_error(result)
        self._set_fitted(np.exp(best.x), data, w)
        # running off to a bound is how a likelihood without an interior maximum "fails": keep it, as an issue
        if not converged and not any(i.kind is not IssueKind.UNDETERMINED for i in self.fit_issues_):
            del self.params_
            raise self._convergence_error(result)
        return self

    def _convergence_error(self, result) -> ConvergenceError:
        return ConvergenceError(
            f"{type(self).__name__} did not converge ({result.message})",
            hint="check the input (frequency, recency, T in one time unit), try other initial_params, "
            "or add a small penalizer_coef (e.g. 0.001)",
        )

    def _set_fitted(self, params: np.ndarray, data: dict, w: np.ndarray) -> None:
        """Store the estimate, its log-likelihood, standard errors and issues (also for closed-form fits)."""
        self._fitted = np.asarray(params, dtype=float)
        self._data, self._weights, self._n_obs = data, w, float(w.sum())
        self.params_ = pd.Series(self._fitted, index=list(self._param_names), name="coef")
        with np.errstate(all="ignore"):
            self.log_likelihood_ = float(np.dot(w, self._log_likelihood(self._fitted, data)))
        self.variance_matrix_ = self._variance_matrix()
        self.standard_errors_ = pd.Series(
            np.sqrt(np.clip(np.diag(self.variance_matrix_.to_numpy()), 0, None)), index=self.params_.index, name="se"
        )
        self.fit_issues_ = self._explain(self._find_issues())

    def _find_issues(self) -> list[FitIssue]:
        """Positive parameters at 0 or growing without bound, and a flat likelihood, in plain words."""
        coef, se = self.params_, self.standard_errors_
        variances = np.diag(self.variance_matrix_.to_numpy())
        flat = not np.all(np.isfinite(variances)) or np.any(variances <= 0)
        log_se = se / coef
        # unknown (nan) spread counts as unbounded, hence `not <`
        loose = pd.Series([flat or not log_se[n] < self._max_log_se for n in coef.index], index=coef.index)
        positive = [n for n in coef.index if n not in self._unit_params]
        at_zero = tuple(n for n in positive if coef[n] < self._at_zero or (coef[n] < 1e-2 and loose[n]))
        growing = tuple(n for n in positive if n not in at_zero and n not in self._scale_params
                        and (coef[n] > self._absurd or (coef[n] > 1e2 and loose[n])))
        issues = []
        if at_zero:
            values = ", ".join(f"{n} = {coef[n]:.2g}" for n in at_zero)
            issues.append(FitIssue(IssueKind.AT_BOUND, at_zero, f"{_join(at_zero)} "
                                   f"{'runs' if len(at_zero) == 1 else 'run'} to the bound 0 ({values})"))
        if growing:
            values = ", ".join(f"{n} = {coef[n]:.2g}" for n in growing)
            issues.append(FitIssue(IssueKind.DIVERGED, growing, f"{_join(growing)} "
                                   f"{'grows' if len(growing) == 1 else 'grow'} without bound ({values})"))
        if flat and not issues:
            issues.append(FitIssue(IssueKind.UNDETERMINED, tuple(coef.index),
                                   "the likelihood is flat or singular at the estimate: no standard errors"))
        return issues

    #: above this many unique rows, start from a fit on a subsample of this size
    _warm_start_rows: int = 100_000

    def _subsample(self, data, w, seed: int = 0):
        """About ``_warm_start_rows`` customers drawn with replacement (probability ∝ weight), as unique rows."""
        rng = np.random.default_rng(seed)
        picks = rng.choice(len(w), size=self._warm_start_rows, p=w / w.sum())
        counts = np.bincount(picks, minlength=len(w)).astype(float)
        keep = counts > 0
        sub = {name: data[name][keep] for name in self._data_columns}
        sub["_codes"] = {name: codes_of(sub[name]) for name in self._data_columns}
        return sub, counts[keep]

    def _fit_large(self, data, w, start, maxiter: int, tol: float):
        """Large data: fit a weighted subsample, then Newton steps on all rows with the subsample's curvature.

        The per-customer objective of a 100k subsample has nearly the Hessian of the full one, so each full-data
        step costs one gradient and gains one to two digits. Returns ``None`` to fall back to L-BFGS-B.
        """
        sub_data, sub_w = self._subsample(data, w)
        warm, _ = self._optimise(sub_data, sub_w, start, maxiter, tol, polish=False)
        x = warm.x
        if not np.all(np.isfinite(x)):
            return None
        k, h = len(x), 1e-5
        hess = np.empty((k, k))
        for i in range(k):
            e = np.zeros(k)
            e[i] = h
            hess[i] = (self._objective_gradient(x + e, sub_data, sub_w)
                       - self._objective_gradient(x - e, sub_data, sub_w)) / (2 * h)
        hess = (hess + hess.T) / 2
        try:
            inverse = np.linalg.inv(hess)
        except np.linalg.LinAlgError:
            return None
        for _ in range(30):
            grad = self._objective_gradient(x, data, w)
            if np.max(np.abs(grad)) < 1e-10:
                break
            x = x - inverse @ grad
            if not np.all(np.isfinite(x)):
                return None
        else:
            return None
        return optimize.OptimizeResult(x=x, fun=self._objective(x, data, w), success=True, message="Newton")

    def _objective(self, log_params: np.ndarray, data, w) -> float:
        """Mean negative log-likelihood per customer (plus the penalty), in log-parameters."""
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            ll = float(np.dot(w, self._log_likelihood(params, data)))
        value = -ll / float(w.sum()) + self.penalizer_coef * float(np.sum(params**2))
        return value if np.isfinite(value) else 1e100

    def _objective_gradient(self, log_params: np.ndarray, data, w) -> np.ndarray:
        params = np.exp(log_params)
        if self._has_gradient:
            with np.errstate(all="ignore"):
                grad = -(self._gradient(params, data) @ w) / float(w.sum()) * params
            grad += 2 * self.penalizer_coef * params**2
            return np.where(np.isfinite(grad), grad, 0.0)
        step = 1e-6
        grad = np.empty_like(log_params)
        for i in range(len(log_params)):
            e = np.zeros_like(log_params)
            e[i] = step
            grad[i] = (self._objective(log_params + e, data, w) - self._objective(log_params - e, data, w)) / (2 * step)
        return grad

    def _optimise(self, data, w, start, maxiter: int, tol: float, *, polish: bool):
        """L-BFGS-B in log-parameters; without an analytic gradient, polished by Nelder-Mead on small data."""
        result = optimize.minimize(self._objective, start, args=(data, w), jac=self._objective_gradient,
                                   method="L-BFGS-B", options={"maxiter": maxiter, "ftol": 1e-13, "gtol": 1e-8})
        best = result
        if polish and not self._has_gradient and len(w) <= self._polish_max_rows:
            polished = optimize.minimize(self._objective, result.x, args=(data, w), method="Nelder-Mead",
                                         options={"xatol": tol, "fatol": 1e-15, "maxiter": maxiter})
            best = polished if polished.fun <= result.fun else result
        return result, best

    @property
    def _has_gradient(self) -> bool:
        return type(self)._gradient is not BaseFitter._gradient

    def _hessian(self, p: np.ndarray) -> np.ndarray:
        """Hessian of the total log-likelihood at ``p`` (natural scale), by central differences."""
        k = len(p)
        h = 1e-4 * np.maximum(np.abs(p), 1e-6)
        eye = np.diag(h)
        hess = np.empty((k, k))
        with np.errstate(all="ignore"):
            if self._has_gradient:  # differences of the analytic gradient (forward ones on large data)
                central = len(self._weights) <= self._warm_start_rows
                here = None if central else self._gradient(p, self._data) @ self._weights
                for i in range(k):
                    up = self._gradient(p + eye[i], self._data) @ self._weights
                    if central:
                        hess[i] = (up - self._gradient(p - eye[i], self._data) @ self._weights) / (2 * h[i])
                    else:
                        hess[i] = (up - here) / h[i]
                return (hess + hess.T) / 2

            def ll(params: np.ndarray) -> float:
                return float(np.dot(self._weights, self._log_likelihood(params, self._data)))

            for i in range(k):
                for j in range(i, k):
                    ei, ej = eye[i], eye[j]
                    hess[i, j] = hess[j, i] = (ll(p + ei + ej) - ll(p + ei - ej) - ll(p - ei + ej)
                                               + ll(p - ei - ej)) / (4 * h[i] * h[j])
        return hess

    def _variance_matrix(self) -> pd.DataFrame:
        """Inverse of the observed information (numerical Hessian of the log-likelihood in natural scale).

        A Hessian that is not negative definite gives no standard errors; ``fit_issues_`` then says so.
        """
        k = len(self._fitted)
        hess = self._hessian(self._fitted)
        if not np.all(np.isfinite(hess)):
            hess = np.full((k, k), np.nan)
        try:
            cov = np.linalg.inv(-hess)
        except np.linalg.LinAlgError:
            cov = np.full((k, k), np.nan)
        return pd.DataFrame(cov, index=list(self._param_names), columns=list(self._param_names))

    # -- results --------------------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ModelError(f"{type(self).__name__} is not fitted yet", hint="call .fit(data) first")

    @property
    def confidence_intervals_(self) -> pd.DataFrame:
        """Wald intervals on the log scale (logit for ``_unit_params``), by the delta method.

        exp(log θ ± z·se(log θ)), se(log θ) = se(θ)/θ: the interval of a positive parameter never crosses 0.
        """
        self._check_fitted()
        z = stats.norm.ppf(1 - self.alpha / 2)
        pct = round(100 * (1 - self.alpha))
        coef, se = self.params_, self.standard_errors_
        unit = coef.index.isin(self._unit_params)
        with np.errstate(all="ignore"):
            scale = np.where(unit, coef * (1 - coef), coef)  # d log θ / dθ = 1/θ, d logit p / dp = 1/(p(1-p))
            centre = np.where(unit, special.logit(coef), np.log(coef))
            back = [special.expit if u else np.exp for u in unit]
            bounds = {side: [f(c + sign * z * s / d) for f, c, s, d in zip(back, centre, se, scale, strict=True)]
                      for side, sign in (("lower", -1), ("upper", 1))}
        return pd.DataFrame({f"lower {pct}%": bounds["lower"], f"upper {pct}%": bounds["upper"]}, index=coef.index)

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and confidence intervals, one row per parameter."""
        self._check_fitted()
        frame = pd.concat([self.params_, self.standard_errors_, self.confidence_intervals_], axis=1)
        frame.index.name = "param"
        return frame

    @property
    def AIC_(self) -> float:  # noqa: N802 - the conventional name
        self._check_fitted()
        return 2 * len(self._param_names) - 2 * self.log_likelihood_

    @property
    def is_degenerate(self) -> bool:
        """The fit ran to a boundary or an absurd scale, or has no standard errors (see ``fit_issues_``)."""
        self._check_fitted()
        return bool(self.fit_issues_)

    def _params(self) -> tuple[float, ...]:
        self._check_fitted()
        return tuple(float(v) for v in self.params_)

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"<{type(self).__name__}: not fitted>"
        inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"<{type(self).__name__}: fitted with {self._n_obs:,.0f} rows, {inner}>"


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
