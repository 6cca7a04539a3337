"""The numeric pieces of ``retain health fit`` (pure functions on compact arrays, no warehouse).

- :func:`monotone_bins`: a measure's values cut at quantiles, the churn rate per bin (shrunk towards the overall
  rate), made monotone by isotonic regression in the measure's direction, then turned into points (0 = the bin
  that churns most, 100 = the one that churns least); neighbouring bins with equal points merge into one band.
- :func:`nonnegative_logistic`: a ridge-regularised logistic regression of churn on the measures' points with every
  weight >= 0 (more points never raise the risk), so weights stay explainable as points per component.
- :func:`calibration_points` / :func:`grade_thresholds`: health total -> churn probability (isotonic, never rising
  with the total) on a grid of totals, and red/yellow/green from where that probability crosses multiples of the
  average churn rate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.stats import spearmanr
from sklearn.isotonic import IsotonicRegression

from retain.health.spec import Band, Direction

SHRINK = 10.0  # pseudo-observations at the overall churn rate added to every bin
RED_RATIO = 2.0  # red: churn probability at least twice the average
GREEN_RATIO = 1.0  # green: churn probability below the average


@dataclass(frozen=True)
class Binned:
    """A measure's learned scoring: interior cut points, points per bin and the direction."""

    edges: tuple[float, ...]
    points: tuple[float, ...]
    direction: Direction
    rates: tuple[float, ...]
    counts: tuple[int, ...]
    missing: float | None = None  # points of a missing value (None: not applicable)

    def score(self, values: np.ndarray) -> np.ndarray:
        """Points of ``values`` (NaN scores ``missing``, or stays NaN: not applicable)."""
        x = np.asarray(values, dtype="float64")
        idx = np.searchsorted(np.asarray(self.edges), x, side="right")
        out = np.asarray(self.points)[np.clip(idx, 0, len(self.points) - 1)]
        return np.where(np.isnan(x), np.nan if self.missing is None else self.missing, out)

    @property
    def spread(self) -> float:
        return float(max(self.points) - min(self.points))

    def bands(self) -> tuple[Band, ...]:
        """The bins as scorecard bands ``[min, max)``, open at both ends."""
        lows = (None, *self.edges)
        highs = (*self.edges, None)
        return tuple(Band(min=lo, max=hi, score=round(p, 1)) for lo, hi, p in zip(lows, highs, self.points,
                                                                                    strict=True))


def readable(x: float) -> float:
    """``x`` rounded to 3 significant digits (cut points people can read)."""
    if x == 0 or not np.isfinite(x):
        return float(x)
    return float(np.round(x, 2 - int(np.floor(np.log10(abs(x))))))


def _cut_points(x: np.ndarray, max_bins: int, min_count: int) -> np.ndarray:
    qs = np.quantile(x, np.linspace(0, 1, max_bins + 1)[1:-1])
    edges = np.unique([readable(q) for q in qs])
    edges = edges[(edges > x.min())]  # a cut at the minimum leaves an empty first bin
    while len(edges):
        counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
        small = np.flatnonzero(counts < min_count)
        if not len(small):
            break
        i = int(small[0])
        edges = np.delete(edges, min(i, len(edges) - 1))  # merge the small bin with its right (or left) neighbour
    return edges


def direction_of(x: np.ndarray, y: np.ndarray, prior: str | None) -> Direction:
    """The measure's direction: the declared one, else the sign of its rank correlation with churn."""
    if prior is not None:
        return Direction(prior)
    if np.unique(y).size == 2:  # churned or not: the sign of Spearman's rho is that of a rank sum, exactly
        return Direction.LOWER_IS_BETTER if _ranks_above_average(x, y == y.max()) else Direction.HIGHER_IS_BETTER
    with warnings.catch_warnings():  # a measure constant in these rows: no direction to learn, rho = nan -> 0
        warnings.simplefilter("ignore")
        rho = spearmanr(x, y).statistic if np.std(x) > 0 else 0.0
    return Direction.LOWER_IS_BETTER if np.nan_to_num(rho) > 0 else Direction.HIGHER_IS_BETTER


def _ranks_above_average(x: np.ndarray, positive: np.ndarray) -> bool:
    """Whether the positives' ranks of ``x`` (ties averaged) sum to more than chance: with a 0/1 outcome, Spearman's
    rho is the Pearson correlation of those ranks with an affine function of the outcome, so it is positive exactly
    when this is true. Compared in whole numbers (ranks doubled), so a tie with chance is a tie; a quarter of
    Spearman's cost (it was ~40 % of learning a measure's bands)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    doubled_rank = 2 * (np.cumsum(counts) - counts) + counts + 1  # 2 x the average rank of each distinct value
    n, n_pos = len(x), int(positive.sum())
    return int(doubled_rank[inverse[positive]].sum()) > n_pos * (n + 1)


def monotone_bins(x: np.ndarray, y: np.ndarray, prior: str | None = None, *, max_bins: int = 6,
                  min_share: float = 0.03) -> Binned | None:
    """Bands for one measure learned from outcomes (module docs); ``None`` when it cannot separate anything.
    Missing values (at least ``min_share`` of the rows) get points of their own, from their churn rate on the same
    scale, clipped to 0-100."""
    keep = ~np.isnan(x)
    y_missing = y[~keep].astype("float64")
    x, y = x[keep], y[keep].astype("float64")
    if len(x) < 20 or np.unique(x).size < 2:
        return None
    edges = _cut_points(x, max_bins, max(10, int(min_share * len(x))))
    if not len(edges):
        return None
    idx = np.searchsorted(edges, x, side="right")
    k = len(edges) + 1
    counts = np.bincount(idx, minlength=k)
    churned = np.bincount(idx, weights=y, minlength=k)
    base = y.mean()
    rates = (churned + SHRINK * base) / (counts + SHRINK)
    direction = direction_of(x, y, prior)
    iso = IsotonicRegression(increasing=direction is Direction.LOWER_IS_BETTER)
    mono = iso.fit_transform(np.arange(k), rates, sample_weight=np.maximum(counts, 1))
    worst, best = mono.max(), mono.min()
    if worst - best < 1e-9:
        return None
    points = 100.0 * (worst - mono) / (worst - best)
    missing = None
    if len(y_missing) >= max(10, min_share * (len(x) + len(y_missing))):
        rate = (y_missing.sum() + SHRINK * base) / (len(y_missing) + SHRINK)
        missing = round(float(np.clip(100.0 * (worst - rate) / (worst - best), 0.0, 100.0)), 1)
    return _merge(Binned(tuple(float(e) for e in edges), tuple(points), direction, tuple(mono), tuple(counts),
                         missing))


def _merge(b: Binned) -> Binned:
    """Neighbouring bins with the same points become one band."""
    keep_edges, points, rates, counts = [], [b.points[0]], [b.rates[0]], [b.counts[0]]
    for i, edge in enumerate(b.edges):
        p = b.points[i + 1]
        if abs(p - points[-1]) < 0.05:
            counts[-1] += b.counts[i + 1]
            continue
        keep_edges.append(edge)
        points.append(p)
        rates.append(b.rates[i + 1])
        counts.append(b.counts[i + 1])
    return Binned(tuple(keep_edges), tuple(points), b.direction, tuple(rates), tuple(counts), b.missing)


# -- weights ------------------------------------------------------------------------------------------------


def nonnegative_logistic(points: np.ndarray, y: np.ndarray, c: float = 1.0) -> tuple[np.ndarray, float]:
    """Weights ``w >= 0`` and intercept ``b`` of ``P(churn) = sigmoid(b - points/100 @ w)``, ridge penalty
    ``|w|^2 / (2c)``; missing points are replaced by the column mean (scoring re-weights them instead)."""
    x = points / 100.0
    means = np.nanmean(x, axis=0)
    # column-major: both products below (x @ w and x.T @ r) then read memory in order, ~3x faster than row-major
    x = np.asfortranarray(np.where(np.isnan(x), means[None, :], x))
    y = y.astype("float64")
    n, m = x.shape

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:m], theta[m]
        z = b - x @ w
        p = 1.0 / (1.0 + np.exp(-z))
        ll = np.sum(np.logaddexp(0.0, z) - y * z)
        r = p - y
        grad_w = -(x.T @ r) + w / c
        return ll + 0.5 * float(w @ w) / c, np.append(grad_w, r.sum())

    start = np.append(np.full(m, 0.1), np.log(max(y.mean(), 1e-6) / max(1 - y.mean(), 1e-6)))
    res = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * m + [(None, None)])
    return res.x[:m], float(res.x[m])


# -- calibration and grades ---------------------------------------------------------------------------------

GRID = tuple(float(t) for t in range(0, 101, 10))


def calibration_points(total: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
    """(total, churn probability) on totals 0, 10, ..., 100: isotonic regression of churn on the total, never
    rising with the total; rounded to 4 decimals."""
    keep = ~np.isnan(total)
    iso = IsotonicRegression(increasing=False, out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(total[keep], y[keep].astype("float64"))
    probs = np.minimum.accumulate(np.round(iso.predict(np.asarray(GRID)), 4))
    return list(zip(GRID, (float(p) for p in probs), strict=True))


def probability(total: np.ndarray, points: list[tuple[float, float]]) -> np.ndarray:
    """Churn probability of totals by linear interpolation between calibration points (NaN stays NaN)."""
    xs, ps = zip(*points, strict=True)
    t = np.asarray(total, dtype="float64")
    return np.where(np.isnan(t), np.nan, np.interp(t, xs, ps))


def grade_thresholds(points: list[tuple[float, float]], base_rate: float) -> tuple[float, float]:
    """``(red_below, green_from)``: red where the churn probability is at least ``RED_RATIO`` x the average, green
    where it is below ``GREEN_RATIO`` x the average (whole totals)."""
    totals = np.arange(0, 101, dtype="float64")
    p = probability(totals, points)
    red_below = float(totals[np.argmax(p < RED_RATIO * base_rate)]) if (p < RED_RATIO * base_rate).any() else 100.0
    green = p < GREEN_RATIO * base_rate
    green_from = float(totals[np.argmax(green)]) if green.any() else 100.0
    return red_below, max(green_from, red_below)


# -- keeping what adds something out of fold ----------------------------------------------------------------

PRUNE_FOLDS = 3
PRUNE_TOLERANCE = 1e-5  # mean log-loss per row: a measure whose removal costs less than this adds nothing


def _oof_loss(points: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean out-of-fold log-loss of the non-negative logistic regression on ``points``."""
    total = 0.0
    for train, test in folds:
        w, b = nonnegative_logistic(points[train], y[train])
        x = points[test] / 100.0
        x = np.where(np.isnan(x), np.nanmean(points[train] / 100.0, axis=0)[None, :], x)
        z = b - x @ w
        total += float(np.sum(np.logaddexp(0.0, z) - y[test] * z))
    return total / len(y)


def prune(points: np.ndarray, y: np.ndarray, groups: np.ndarray, kept: list[int], *,
          max_rows: int = 20_000, seed: int = 0) -> list[int]:
    """The columns of ``kept`` worth keeping: dropping, smallest weight first, each one whose removal does not
    raise the out-of-fold log-loss (folds grouped by account, on at most ``max_rows`` rows)."""
    from sklearn.model_selection import GroupKFold

    if len(kept) < 2 or len(np.unique(groups)) < PRUNE_FOLDS:
        return kept
    idx = np.arange(len(y))
    if len(idx) > max_rows:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_rows, replace=False))
    p, t, g = points[idx], y[idx].astype("float64"), groups[idx]
    folds = list(GroupKFold(n_splits=PRUNE_FOLDS).split(p, groups=g))
    if any(t[test].min() == t[test].max() for _, test in folds):
        return kept
    current = list(kept)
    w, _ = nonnegative_logistic(p[:, current], t)
    base = _oof_loss(p[:, current], t, folds)
    for col in [current[i] for i in np.argsort(w)]:
        if len(current) < 2:
            break
        trial = [c for c in current if c != col]
        loss = _oof_loss(p[:, trial], t, folds)
        if loss <= base + PRUNE_TOLERANCE:
            current, base = trial, loss
    return current
