"""Scoring measure values into measure, component and total scores (vectorised, no row loops).

- A measure is scored 0-100 by bands, a linear range or its percentile within the segment; a text measure
  (contract, billing period...) by its value -> points table (``kind: categories``; unlisted values score ``other``).
  The ``value`` column of the measure results holds numbers only; a text measure's value is in ``text_value``.
- A null value (or one no band covers) is *not applicable*: its weight is shared among the applicable measures of
  its component, and a component with no applicable measure shares its weight among the other components. It never
  counts as 0. Only a measure that states ``missing: <score>`` (learned by ``retain health fit`` from how accounts
  without a value churned) scores a null value, with that score.
- Weights are normalised: ``weight_pct`` is the effective share of the total in %, ``nominal_weight_pct`` the share
  from the configuration alone.
- Critical factors cap (or set) the total; the binding one is reported as ``critical_factor``. A total that the
  factor actually lowered says so in ``score_note`` ("capped at 50: champion left (180 d)"), and ``capped_by`` names
  the factor; a total with no applicable measure at all is missing with the note "default: no data", never a number.
- A scorecard with a ``calibration`` (written by ``retain health fit``) also gives ``churn_probability``: the
  probability of churn within its horizon of each total.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retain.health.spec import (
    BandsRule,
    CategoriesRule,
    Direction,
    GradesSpec,
    LinearRule,
    PercentileRule,
    ScorecardSetSpec,
    ScorecardSpec,
    SegmentRule,
)
from retain.results.model import HealthGrade

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
       "!=": operator.ne}
SCORE_COLUMNS = ("account_id", "as_of", "scorecard", "total", "raw_total", "cap", "grade", "critical_factor",
                 "segment", "owner_id", "arr", "capped_by", "score_note")
COMPONENT_COLUMNS = ("account_id", "as_of", "scorecard", "component", "score", "weight_pct", "nominal_weight_pct")
MEASURE_COLUMNS = ("account_id", "as_of", "scorecard", "component", "measure", "key", "value", "text_value",
                   "score", "weight_pct", "nominal_weight_pct")


@dataclass
class HealthResult:
    """Scores of one or more dates: totals per account, long-format components and measures."""

    scores: pd.DataFrame
    components: pd.DataFrame
    measures: pd.DataFrame
    calibrations: dict = field(default_factory=dict)  # scorecard name -> CalibrationSpec (fitted scorecards)


# -- measure scores ---------------------------------------------------------------------------------------


def score_values(rule, values: pd.Series, groups: pd.Series | None = None) -> np.ndarray:
    """Scores 0-100 of ``values`` under ``rule``; NaN where not applicable."""
    if isinstance(rule, CategoriesRule):
        other = np.nan if rule.other is None else rule.other
        text = values.astype("string")
        scored = text.map(rule.points).astype("float64").to_numpy(dtype="float64", na_value=np.nan)
        return np.where(text.isna().to_numpy(), np.nan, np.where(np.isnan(scored), other, scored))
    x = values.to_numpy(dtype="float64", na_value=np.nan)
    if isinstance(rule, BandsRule):
        out = np.full(x.shape, np.nan)
        for band in reversed(rule.bands):  # the first matching band wins
            inside = ~np.isnan(x)
            if band.min is not None:
                inside &= x >= band.min
            if band.max is not None:
                inside &= x < band.max
            out = np.where(inside, band.score, out)
        return out
    if isinstance(rule, LinearRule):
        frac = np.clip((x - rule.low) / (rule.high - rule.low), 0.0, 1.0)
        return 100.0 * (frac if rule.direction is Direction.HIGHER_IS_BETTER else 1.0 - frac)
    if isinstance(rule, PercentileRule):
        keys = groups if (groups is not None and rule.within == "segment") else pd.Series(0, index=values.index)
        series = pd.Series(x, index=values.index)
        grouped = series.groupby(keys.fillna("").to_numpy())
        rank = grouped.rank(method="average")
        count = grouped.transform("count")
        pct = np.where(count > 1, (rank - 1) / (count - 1).clip(lower=1), 0.5).astype("float64")
        pct = np.where(np.isnan(x), np.nan, pct)
        return 100.0 * (pct if rule.direction is Direction.HIGHER_IS_BETTER else 1.0 - pct)
    raise TypeError(f"unknown scoring rule {rule!r}")


# -- scorecard assignment ---------------------------------------------------------------------------------


def _matches(rule: SegmentRule, frame: pd.DataFrame) -> np.ndarray:
    ok = np.ones(len(frame), dtype=bool)
    for column in ("segment", "industry", "region", "country"):
        allowed = getattr(rule, column)
        if allowed is not None:
            ok &= frame[column].isin(allowed).to_numpy() if column in frame else False
    arr = frame["arr"].to_numpy(dtype="float64", na_value=np.nan) if "arr" in frame else np.full(len(frame), np.nan)
    if rule.min_arr is not None:
        ok &= arr >= rule.min_arr
    if rule.max_arr is not None:
        ok &= arr < rule.max_arr
    return ok


def assign_scorecards(frame: pd.DataFrame, spec: ScorecardSetSpec) -> pd.Series:
    """The scorecard of each account: the first matching segment rule, else the default."""
    if not spec.rules:
        return pd.Series(spec.default_name, index=frame.index)
    conditions = [_matches(rule, frame) for rule in spec.rules]
    choices = [rule.scorecard for rule in spec.rules]
    return pd.Series(np.select(conditions, choices, default=spec.default_name), index=frame.index)


# -- totals -----------------------------------------------------------------------------------------------


def grade(total: pd.Series | np.ndarray, grades: GradesSpec) -> np.ndarray:
    t = np.asarray(total, dtype="float64")
    red, yellow, green = (g.value for g in (HealthGrade.RED, HealthGrade.YELLOW, HealthGrade.GREEN))
    out = np.where(t < grades.red_below, red, np.where(t >= grades.green_from, green, yellow)).astype(object)
    out[np.isnan(t)] = None
    return out


def _weighted(scores: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise weighted mean over applicable (non-NaN) columns and the effective weight shares."""
    applicable = ~np.isnan(scores)
    w = np.where(applicable, weights[None, :], 0.0)
    total_w = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total_w > 0, w / total_w, 0.0)
        mean = np.where(total_w[:, 0] > 0, np.nansum(np.where(applicable, scores, 0.0) * share, axis=1), np.nan)
    return mean, share


def _nominal(weights: np.ndarray) -> np.ndarray:
    s = weights.sum()
    return weights / s if s > 0 else np.zeros_like(weights)


def score_card(frame: pd.DataFrame, card: ScorecardSpec, *, detail: bool = True) -> HealthResult:
    """Score the accounts of ``frame`` (measure values, one row per account) with one scorecard; without
    ``detail`` only the scores (components and measures empty: a model that reads totals at dozens of dates skips
    building them)."""
    n = len(frame)
    groups = frame.get("segment", None)
    comp_scores, comp_weights, per_comp = [], [], []
    for comp in card.components:
        mscores = np.column_stack([_measure_scores(m, frame, groups) for m in comp.measures]) \
            if comp.measures else np.full((n, 0), np.nan)
        mweights = np.array([max(m.weight, 0.0) for m in comp.measures])
        cscore, share = _weighted(mscores, mweights)
        comp_scores.append(cscore)
        comp_weights.append(max(comp.weight, 0.0))
        per_comp.append((comp, mscores, share, _nominal(mweights)))
    cmat = np.column_stack(comp_scores) if comp_scores else np.full((n, 0), np.nan)
    cweights = np.array(comp_weights)
    raw_total, cshare = _weighted(cmat, cweights)
    cnominal = _nominal(cweights)

    total, factor, cap = _apply_critical(frame, card, raw_total)
    capped_by, note = score_notes(card, raw_total, total, factor, cap)
    ids, as_of = frame["account_id"].to_numpy(), frame["as_of"].to_numpy()
    scores = pd.DataFrame({
        "account_id": ids, "as_of": as_of, "scorecard": card.name, "total": total, "raw_total": raw_total, "cap": cap,
        "grade": grade(total, card.grades), "critical_factor": factor,
        "segment": frame["segment"].to_numpy() if "segment" in frame else None,
        "owner_id": _owner(frame), "arr": frame["arr"].to_numpy() if "arr" in frame else np.nan,
        "capped_by": capped_by, "score_note": note,
    })
    if card.calibration is not None:
        scores["churn_probability"] = churn_probability(total, card.calibration)
    comps, meas = [], []
    for j, (comp, mscores, share, mnominal) in enumerate(per_comp if detail else ()):
        comps.append(pd.DataFrame({
            "account_id": ids, "as_of": as_of, "scorecard": card.name, "component": comp.name,
            "score": cmat[:, j], "weight_pct": 100.0 * cshare[:, j], "nominal_weight_pct": 100.0 * cnominal[j],
        }))
        for k, m in enumerate(comp.measures):
            meas.append(pd.DataFrame({
                "account_id": ids, "as_of": as_of, "scorecard": card.name, "component": comp.name,
                "measure": m.name, "key": m.key, "value": _numbers(frame[m.key], m.scoring),
                "text_value": _texts(frame[m.key], m.scoring),
                "score": mscores[:, k], "weight_pct": 100.0 * cshare[:, j] * share[:, k],
                "nominal_weight_pct": 100.0 * cnominal[j] * mnominal[k],
            }))
    calibrations = {card.name: card.calibration} if card.calibration is not None else {}
    return HealthResult(scores, _concat(comps, COMPONENT_COLUMNS), _concat(meas, MEASURE_COLUMNS), calibrations)


def churn_probability(total: np.ndarray, calibration) -> np.ndarray:
    """The calibrated probability of churn within the scorecard's horizon of each total (linear between the
    calibration points, flat beyond them; NaN for a missing total)."""
    xs = [p.total for p in calibration.points]
    ps = [p.probability for p in calibration.points]
    t = np.asarray(total, dtype="float64")
    return np.where(np.isnan(t), np.nan, np.interp(t, xs, ps))


def _measure_scores(m, frame: pd.DataFrame, groups) -> np.ndarray:
    """Scores of one measure; a missing value scores ``m.missing`` when the scorecard states one, else NaN."""
    out = score_values(m.scoring, frame[m.key], groups)
    if m.missing is not None:
        out = np.where(frame[m.key].isna().to_numpy(), m.missing, out)
    return out


def _numbers(values: pd.Series, rule) -> np.ndarray:
    """A measure's values for the results' number column (null for a text measure)."""
    if isinstance(rule, CategoriesRule):
        return np.full(len(values), np.nan)
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _texts(values: pd.Series, rule) -> np.ndarray:
    """A text measure's values for the results' text column (null for a number measure)."""
    if not isinstance(rule, CategoriesRule):
        return np.full(len(values), None, dtype=object)
    text = values.astype("string")
    return text.astype(object).where(text.notna(), None).to_numpy()


def _owner(frame: pd.DataFrame):
    if "csm_id" in frame and "owner_id" in frame:
        return frame["csm_id"].fillna(frame["owner_id"]).to_numpy()
    return frame["owner_id"].to_numpy() if "owner_id" in frame else None


def _apply_critical(frame: pd.DataFrame, card: ScorecardSpec, raw_total: np.ndarray):
    """Cap or set the total where a critical factor fires; the factor with the lowest resulting total is named."""
    total = raw_total.copy()
    factor = np.full(len(frame), None, dtype=object)
    best = np.full(len(frame), np.inf)  # lowest limit so far among fired factors
    for crit in card.critical:
        values = frame[crit.key].to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            fired = OPS[crit.op](values, crit.threshold) & ~np.isnan(values)
        limit = crit.set_to if crit.set_to is not None else crit.cap
        if limit is None:
            continue
        if crit.set_to is not None:
            total = np.where(fired, crit.set_to, total)
        else:
            total = np.where(fired & ~np.isnan(total), np.minimum(total, crit.cap), total)
        take = fired & (limit < best)
        factor = np.where(take, crit.name, factor)
        best = np.where(take, limit, best)
    return total, factor, np.where(np.isinf(best), np.nan, best)


def score_notes(card: ScorecardSpec, raw_total: np.ndarray, total: np.ndarray, factor: np.ndarray,
                cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per account: the critical factor that lowered the total (else None) and a note saying why the total is what
    it is when it is not the weighted score: "capped at 40: last NPS 4 or below", "default: no data", or the fired
    factor's reason alone when the total was already below its cap."""
    reasons = {c.name: c.reason or c.name.replace("_", " ") for c in card.critical}
    with np.errstate(invalid="ignore"):
        binding = (factor != None) & ~(raw_total <= cap)  # noqa: E711  (element-wise)
    capped_by = np.where(binding, factor, None).astype(object)
    text = pd.Series(factor, dtype=object).map(reasons).astype("string").fillna("").astype(str)
    limit = pd.Series(cap, dtype="float64").round(1).astype(str).str.removesuffix(".0")
    note = np.where(binding, ("capped at " + limit + ": " + text).to_numpy(dtype=object),
                    np.where(factor != None, text.to_numpy(dtype=object), None)).astype(object)  # noqa: E711
    note = np.where(np.isnan(raw_total) & np.isnan(total), "default: no data", note)
    return capped_by, note


def _concat(frames: list[pd.DataFrame], columns) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)


def score_frame(values: pd.DataFrame, spec: ScorecardSetSpec, *, detail: bool = True) -> HealthResult:
    """Score a frame of measure values (``measure_values``) with a scorecard set, one scorecard per account
    (``detail``: see :func:`score_card`)."""
    assigned = assign_scorecards(values, spec)
    parts = [score_card(values[assigned == card.name].reset_index(drop=True), card, detail=detail)
             for card in spec.scorecards if (assigned == card.name).any()]
    if not parts:
        empty = HealthResult(pd.DataFrame(columns=list(SCORE_COLUMNS)), pd.DataFrame(columns=list(COMPONENT_COLUMNS)),
                             pd.DataFrame(columns=list(MEASURE_COLUMNS)))
        return empty
    scores = pd.concat([p.scores for p in parts], ignore_index=True)
    order = scores.sort_values(["total", "account_id"], na_position="last").index
    return HealthResult(scores.loc[order].reset_index(drop=True),
                        _concat([p.components for p in parts], COMPONENT_COLUMNS),
                        _concat([p.measures for p in parts], MEASURE_COLUMNS),
                        {k: v for p in parts for k, v in p.calibrations.items()})
