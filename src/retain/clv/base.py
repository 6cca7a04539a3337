"""The base of every CLV model: maximum likelihood on unique data tuples, standard errors and a summary.

Modelled on lifelines' parametric fitters: a concrete model declares its parameter names, a starting point, the
data columns it needs and a vectorised log-likelihood of one row of unique data; this class does the rest
(optimisation in log space with scipy, Hessian-based standard errors, confidence intervals, ``summary``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from retain.errors import ConvergenceError as _RetainConvergenceError
from retain.errors import ModelError


class ConvergenceError(_RetainConvergenceError):
    """The likelihood optimiser did not converge. The message says what to try."""


class StatisticalWarning(RuntimeWarning):
    """The fit worked but something about it deserves a look (e.g. standard errors unavailable)."""


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
        self._n_obs = float(w.sum())
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
        if not np.isfinite(best.fun) or best.fun >= 1e99 or not converged:
            raise ConvergenceError(
                f"{type(self).__name__} did not converge ({result.message})",
                hint="check the input (frequency, recency, T in one time unit), try other initial_params, "
                "or add a small penalizer_coef (e.g. 0.001)",
            )
        self._fitted = np.exp(best.x)
        self._data, self._weights = data, w
        self.params_ = pd.Series(self._fitted, index=list(self._param_names), name="coef")
        self.log_likelihood_ = float(np.dot(w, self._log_likelihood(self._fitted, data)))
        self.variance_matrix_ = self._variance_matrix()
        self.standard_errors_ = pd.Series(
            np.sqrt(np.clip(np.diag(self.variance_matrix_.to_numpy()), 0, None)), index=self.params_.index, name="se"
        )
        return self

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
        """Inverse of the observed information (numerical Hessian of the log-likelihood in natural scale)."""
        k = len(self._fitted)
        hess = self._hessian(self._fitted)
        try:
            cov = np.linalg.inv(-hess)
        except np.linalg.LinAlgError:
            cov = np.full((k, k), np.nan)
        if not np.all(np.isfinite(np.diag(cov))) or np.any(np.diag(cov) < 0):
            warnings.warn("the Hessian is not negative definite: standard errors are not available",
                          StatisticalWarning, stacklevel=3)
        return pd.DataFrame(cov, index=list(self._param_names), columns=list(self._param_names))

    # -- results --------------------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ModelError(f"{type(self).__name__} is not fitted yet", hint="call .fit(data) first")

    @property
    def confidence_intervals_(self) -> pd.DataFrame:
        self._check_fitted()
        z = stats.norm.ppf(1 - self.alpha / 2)
        pct = round(100 * (1 - self.alpha))
        return pd.DataFrame(
            {f"lower {pct}%": self.params_ - z * self.standard_errors_,
             f"upper {pct}%": self.params_ + z * self.standard_errors_},
        )

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

    def _params(self) -> tuple[float, ...]:
        self._check_fitted()
        return tuple(float(v) for v in self.params_)

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"<{type(self).__name__}: not fitted>"
        inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"<{type(self).__name__}: fitted with {self._n_obs:,.0f} rows, {inner}>"
