"""P(win) of every open opportunity: a model of point-in-time deal features, chosen and checked on past quarters.

Training rows are (month start, opportunity open then) pairs from :func:`retain.sales.features.deal_features`,
labelled won or lost once the deal closed. Validation walks forward over the last quarters: for each, the
candidates (regularised logistic regression and LightGBM, :mod:`retain.models.candidates`) are fitted on the
snapshots before the quarter with the outcomes known at its start, calibrated (Platt) on the latest quarter of
that training window, and score the quarter's snapshots. The same rows are scored by the CRM's own probability
(as the stage history recorded it then) and a stage-only baseline (the historical win rate of the deal's stage),
so AUC and Brier, with bootstrap intervals over opportunities, compare like with like. LightGBM replaces the
logistic model only when its validated AUC is higher by :data:`MIN_GAIN`; the simpler model wins ties.

A deal is **below benchmark** when its P(win) is under the historical win rate of its stage by more than the
margin (10 points by default). Reasons are the features that move the deal's log-odds most against an average
deal, in plain words.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retain.errors import ModelError
from retain.models import metrics
from retain.models.calibration import Link, LogisticCalibration
from retain.models.candidates import Candidate, Kind, make
from retain.sales.features import CATEGORICAL, NUMERIC, deal_features, outcomes
from retain.warehouse import Warehouse

MIN_GAIN = 0.01
MIN_ROWS = 40  # labelled training rows below which no model is fitted (the stage baseline scores alone)
BOOT_REPS = 200
TRAIN_MONTHS = 24


@dataclass(frozen=True)
class ScoreSettings:
    """How deals are scored: the benchmark margin, validation quarters and the history used."""

    margin: float = 0.10
    test_quarters: int = 4
    train_months: int = TRAIN_MONTHS
    seed: int = 0


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first day of every month from ``first``'s month to ``last`` (inclusive)."""
    out, d = [], dt.date(first.year, first.month, 1)
    while d <= last:
        out.append(d)
        d = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return out


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


def history(wh: Warehouse, day: dt.date, months: int = TRAIN_MONTHS) -> pd.DataFrame:
    """Monthly snapshots of open deals over the ``months`` before ``day`` with their outcome as known by ``day``
    (``won`` null while still open) and when they closed."""
    days = month_starts(add_months(quarter_start(day), -months), day)
    frame = wh.execute(deal_features(wh, days, reference=day))
    closed = wh.execute(outcomes(wh, day))
    frame = frame.merge(closed, on="opportunity_id", how="left")
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    frame["closed_at"] = pd.to_datetime(frame["closed_at"], utc=True)
    # in snapshot and deal order: fits and bootstrap samples must not depend on the order an engine returns rows in
    return frame.sort_values(["as_of", "opportunity_id"], kind="stable", ignore_index=True)


def _known(frame: pd.DataFrame, cutoff: dt.date) -> pd.Series:
    """Rows whose outcome was known by the start of ``cutoff``."""
    end = pd.Timestamp(cutoff, tz="UTC")
    return frame["won"].notna() & (frame["closed_at"] < end)


@dataclass
class StageRates:
    """The historical win rate of each stage (smoothed toward the overall rate), the stage-only baseline."""

    prior: float = 0.5
    rates: dict[str, float] = field(default_factory=dict)

    def fit(self, stage: pd.Series, won: np.ndarray, strength: float = 5.0) -> StageRates:
        self.prior = float(np.mean(won)) if len(won) else 0.5
        grouped = pd.DataFrame({"s": stage.to_numpy(), "y": won}).groupby("s")["y"].agg(["sum", "count"])
        self.rates = ((grouped["sum"] + strength * self.prior) / (grouped["count"] + strength)).to_dict()
        return self

    def predict(self, stage: pd.Series) -> np.ndarray:
        return stage.map(self.rates).fillna(self.prior).to_numpy(dtype=float)


@dataclass
class DealModel:
    """A fitted P(win) model: the candidate, its Platt calibration, and the stage rates it is benchmarked by."""

    kind: Kind | None
    candidate: Candidate | None
    calibration: LogisticCalibration | None
    stages: StageRates
    mean_row: pd.DataFrame | None = None

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        if self.candidate is None:
            return self.stages.predict(frame["stage"])
        raw = self.candidate.raw_score(frame)
        return self.calibration.predict(raw) if self.calibration is not None else raw


def _features(frame: pd.DataFrame) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Numeric features with some variation (a constant column says nothing) and the categorical ones."""
    numeric = tuple(c for c in NUMERIC if frame[c].notna().any() and frame[c].nunique(dropna=True) > 1)
    return numeric, CATEGORICAL


def fit_model(train: pd.DataFrame, kind: Kind = Kind.LOGISTIC, *, seed: int = 0) -> DealModel:
    """Fit ``kind`` on the older part of ``train`` and calibrate it on its latest quarter of snapshots."""
    y = train["won"].to_numpy(dtype=int)
    stages = StageRates().fit(train["stage"], y)
    if len(train) < MIN_ROWS or len(np.unique(y)) < 2:
        return DealModel(None, None, None, stages)
    numeric, categorical = _features(train)
    cut = sorted(train["as_of"].unique())
    calib_from = cut[max(0, len(cut) - 3)]
    fit_rows = train["as_of"] < calib_from
    cal_rows = ~fit_rows
    if fit_rows.sum() < MIN_ROWS or len(np.unique(y[fit_rows])) < 2 or len(np.unique(y[cal_rows])) < 2:
        fit_rows = cal_rows = pd.Series(True, index=train.index)
    model = make(kind, numeric, categorical, seed=seed).fit(train[fit_rows], y[fit_rows])
    calibration = LogisticCalibration(Link.LOGIT).fit(model.raw_score(train[cal_rows]), y[cal_rows])
    if not fit_rows.all():
        model = make(kind, numeric, categorical, seed=seed).fit(train, y)  # the final fit sees every row
    mean_row = _average_row(train, numeric, categorical)
    return DealModel(kind, model, calibration, stages, mean_row)


def _average_row(frame: pd.DataFrame, numeric, categorical) -> pd.DataFrame:
    row = {c: [float(frame[c].median())] for c in numeric}
    row.update({c: [frame[c].mode().iloc[0]] for c in categorical})
    return pd.DataFrame(row)


# -- validation on past quarters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    """Out-of-sample scores of past quarters and the comparison of the model with both baselines."""

    scored: pd.DataFrame  # as_of, opportunity_id, amount, won, model, crm, stage, quarter
    table: pd.DataFrame  # method, auc, auc_low, auc_high, brier, brier_low, brier_high, rows
    chosen: Kind | None
    why: str


def _quarters(frame: pd.DataFrame, day: dt.date, n: int) -> list[dt.date]:
    last = add_months(quarter_start(day), -3)  # the last quarter whose deals had time to close
    return sorted({add_months(last, -3 * k) for k in range(n)})


def out_of_sample(frame: pd.DataFrame, day: dt.date, settings: ScoreSettings,
                  kinds: tuple[Kind, ...] = (Kind.LOGISTIC, Kind.LIGHTGBM)) -> pd.DataFrame:
    """Per past quarter: each candidate trained on what was known at its start scores its monthly snapshots."""
    parts = []
    for q in _quarters(frame, day, settings.test_quarters):
        train = frame[(frame["as_of"] < q) & _known(frame, q)]
        test = frame[(frame["as_of"] >= q) & (frame["as_of"] < add_months(q, 3)) & frame["won"].notna()]
        if test.empty or train["won"].nunique() < 2:
            continue
        out = test[["as_of", "opportunity_id", "owner_id", "amount", "won", "stage", "crm_probability"]].copy()
        out["quarter"] = q
        for kind in kinds:
            try:
                model = fit_model(train, kind, seed=settings.seed)
            except ModelError:
                continue
            out[kind.value] = model.predict(test)
            out["stage_only"] = model.stages.predict(test["stage"])
        parts.append(out)
    if not parts:
        raise ModelError("too little deal history to validate an opportunity model on past quarters",
                         hint="load opportunities with their stage history over at least two quarters of closed "
                              "deals (opportunities, opportunity_stages)")
    return pd.concat(parts, ignore_index=True)


def compare(scored: pd.DataFrame, methods: tuple[str, ...], *, reps: int = BOOT_REPS, seed: int = 0) -> pd.DataFrame:
    """AUC and Brier of each method on the same rows, with 95 % intervals from a bootstrap over opportunities."""
    rows = []
    for method in methods:
        if method not in scored or scored[method].isna().all():
            continue
        s = scored[scored[method].notna()]
        y, p, g = s["won"].to_numpy(dtype=int), s[method].to_numpy(dtype=float), s["opportunity_id"].to_numpy()
        auc = metrics.bootstrap(metrics.auc, y, p, groups=g, reps=reps, seed=seed)
        brier = metrics.bootstrap(metrics.brier, y, p, groups=g, reps=reps, seed=seed)
        rows.append({"method": method, "auc": auc[0], "auc_low": auc[1], "auc_high": auc[2], "brier": brier[0],
                     "brier_low": brier[1], "brier_high": brier[2], "rows": len(s)})
    return pd.DataFrame(rows)


def validate(frame: pd.DataFrame, day: dt.date, settings: ScoreSettings = ScoreSettings()) -> Validation:
    """Walk-forward validation over the last quarters; the model chosen and why."""
    scored = out_of_sample(frame, day, settings)
    methods = tuple(m for m in (Kind.LOGISTIC.value, Kind.LIGHTGBM.value) if m in scored)
    table = compare(scored, (*methods, "crm_probability", "stage_only"), seed=settings.seed)
    auc = table.set_index("method")["auc"]
    chosen, why = Kind.LOGISTIC, "logistic regression: the simpler model unless LightGBM is clearly better"
    if Kind.LIGHTGBM.value in auc and auc.get(Kind.LIGHTGBM.value, 0) >= auc.get(Kind.LOGISTIC.value, 0) + MIN_GAIN:
        chosen, why = Kind.LIGHTGBM, f"LightGBM: validated AUC higher by {MIN_GAIN:.2f} or more"
    scored = scored.rename(columns={chosen.value: "model"})
    table["method"] = table["method"].replace({chosen.value: "model"})
    return Validation(scored, table, chosen, why)


# -- scoring today --------------------------------------------------------------------------------------------

PHRASES: dict[str, tuple[str, str]] = {
    # feature: (when it lowers P(win), when it raises it); {v} is the deal's value
    "days_since_activity": ("no activity for {v:.0f} days", "recent activity ({v:.0f} days ago)"),
    "days_in_stage": ("{v:.0f} days in this stage", "moving through stages quickly ({v:.0f} days in stage)"),
    "age_days": ("open for {v:.0f} days", "a young deal ({v:.0f} days old)"),
    "stage_revisits": ("slid back a stage {v:.0f} time(s)", "never slid back a stage"),
    "stage_entries": ("{v:.0f} stage changes so far", "{v:.0f} stage changes so far"),
    "amount_changes": ("amount changed {v:.0f} time(s)", "amount stable"),
    "amount_change_pct": ("amount changed by {v:+.0%}", "amount changed by {v:+.0%}"),
    "log_amount": ("a large deal for its stage", "a deal size that usually closes"),
    "activities": ("only {v:.0f} activities logged", "{v:.0f} activities logged"),
    "follow_ups": ("{v:.0f} follow-ups so far", "{v:.0f} follow-ups so far"),
    "buyer_replies": ("few buyer replies ({v:.0f})", "the buyer replied {v:.0f} time(s)"),
    "meetings": ("few meetings ({v:.0f})", "{v:.0f} meetings held"),
    "contacts_engaged": ("only {v:.0f} contact(s) engaged", "{v:.0f} contacts engaged"),
    "decision_maker": ("no decision maker engaged", "a decision maker is engaged"),
    "calls": ("few recorded calls ({v:.0f})", "{v:.0f} recorded calls"),
    "customer_sentiment": ("buyer sentiment low ({v:+.2f})", "buyer sentiment positive ({v:+.2f})"),
    "rep_talk_share": ("rep talk share {v:.0%}", "rep talk share {v:.0%}"),
    "pricing_events": ("pricing not discussed yet", "pricing discussed"),
    "competitor_events": ("competitor mentioned {v:.0f} time(s)", "no competitor mentioned"),
    "objection_events": ("{v:.0f} objection(s) raised", "no objections raised"),
    "next_step_events": ("no next steps agreed on calls", "next steps agreed"),
    "stage_position": ("an early stage", "a late stage"),
    "close_date_pushes": ("close date pushed {v:.0f} time(s)", "close date never pushed"),
    "days_pushed": ("close date pushed back {v:.0f} days in all", "close date held"),
    "close_date_passed": ("expected close date has passed", "expected close date still ahead"),
    "stage": ("stage {v}", "stage {v}"),
    "opportunity_type": ("a {v} deal", "a {v} deal"),
}


def phrase(feature: str, value, lowers: bool) -> str:
    text = PHRASES.get(feature, (feature.replace("_", " "), feature.replace("_", " ")))[0 if lowers else 1]
    try:
        return text.format(v=value)
    except (ValueError, TypeError):
        return text.replace("{v:.0f}", "?").replace("{v}", str(value))


def _decimals(feature: str, lowers: bool) -> int:
    """The decimals a phrase shows of its value ({v:.0f}: 0, {v:+.2f}: 2, {v:.0%}: 2), so equal texts share a key."""
    found = re.search(r"\{v:\+?\.(\d)([f%])\}", PHRASES.get(feature, ("", ""))[0 if lowers else 1])
    return 4 if found is None else int(found.group(1)) + (2 if found.group(2) == "%" else 0)


def _phrases(feature: str, values: np.ndarray, lowers: bool) -> np.ndarray:
    """:func:`phrase` of every value, formatting each distinct (rounded) value once: a million deals share a few
    thousand distinct day counts and figures."""
    key = pd.Series(values)
    if pd.api.types.is_numeric_dtype(key):
        key = key.astype(float).round(_decimals(feature, lowers))
    texts = {v: phrase(feature, v, lowers) for v in pd.unique(key)}
    return key.map(texts).to_numpy(dtype=object)


def _join(parts: list[np.ndarray]) -> np.ndarray:
    """Row-wise "; ".join of the non-empty strings of ``parts`` (object arrays of equal length)."""
    out = parts[0]
    for part in parts[1:]:
        both = (out != "") & (part != "")
        out = np.where(both, out + "; " + part, np.where(out != "", out, part))
    return out


def contributions(candidate: Candidate, frame: pd.DataFrame) -> pd.DataFrame | None:
    """Per-feature log-odds contributions; for the logistic model one matrix product over the design (the
    candidate's own method transposes the frame, too slow for a million deals)."""
    if candidate.kind is not Kind.LOGISTIC:
        return candidate.contributions(frame)
    design = candidate.design_
    x = design.transform(frame).astype(np.float32) * candidate.coef_.astype(np.float32)
    owners = [owner for _, owner in design.columns]
    names = list(candidate.features + candidate.categorical)
    member = np.zeros((len(owners), len(names)), dtype=np.float32)
    member[np.arange(len(owners)), [names.index(o) for o in owners]] = 1.0
    return pd.DataFrame(x @ member, columns=names, index=frame.index)


def _top(values: np.ndarray, below: np.ndarray, top: int) -> np.ndarray:
    """Per row, the ``top`` columns that lower P(win) most (rows below benchmark) or move it most either way."""
    key = np.where(below[:, None], values, -np.abs(values))
    top = min(top, values.shape[1])
    part = np.argpartition(key, top - 1, axis=1)[:, :top]
    order = np.argsort(np.take_along_axis(key, part, axis=1), axis=1)
    return np.take_along_axis(part, order, axis=1)


def reasons(model: DealModel, frame: pd.DataFrame, below: np.ndarray, top: int = 3,
            contrib: pd.DataFrame | None = None) -> list[str]:
    """Per deal, its reasons in plain words: the features that move its log-odds most against an average deal
    (those lowering P(win) for a deal below benchmark, the strongest either way otherwise). ``contrib``: the
    candidate's contributions for ``frame`` when already computed."""
    if model.candidate is None or len(frame) == 0:
        return ["scored by its stage's historical win rate (too little history for a model)"] * len(frame)
    contrib = contributions(model.candidate, frame) if contrib is None else contrib
    if contrib is None:
        return [""] * len(frame)
    base = contributions(model.candidate, model.mean_row).iloc[0]
    names = np.asarray(contrib.columns)
    values = contrib.to_numpy() - base.to_numpy()
    order = _top(values, below, top)
    rows = np.arange(len(frame))
    parts = []
    for slot in range(order.shape[1]):
        pick = order[:, slot]
        moved = values[rows, pick]
        text = np.full(len(frame), "", dtype=object)
        for f in np.unique(pick):
            feature = names[f]
            source = frame[feature].to_numpy() if feature in frame else np.full(len(frame), None)
            for lowers in (True, False):
                mask = (pick == f) & ((moved < 0) == lowers) & (np.abs(moved) > 0.05)
                if mask.any():
                    text[mask] = _phrases(feature, source[mask], lowers)
        parts.append(text)
    return list(_join(parts))


def score_open(model: DealModel, features: pd.DataFrame, margin: float) -> pd.DataFrame:
    """P(win), the stage benchmark, the below-benchmark flag and reasons for each open deal in ``features``."""
    out = features.copy()
    contrib = None
    if not len(features):
        p = bench = np.array([])
    elif model.kind is Kind.LOGISTIC and model.candidate is not None:
        # one design matrix for both: the logit is the sum of the contributions plus the intercept
        contrib = contributions(model.candidate, features)
        raw = 1.0 / (1.0 + np.exp(-(contrib.to_numpy().sum(axis=1) + model.candidate.intercept_)))
        p = np.clip(model.calibration.predict(raw), 0.0, 1.0)
    else:
        p = np.clip(model.predict(features), 0.0, 1.0)
    if len(features):
        bench = model.stages.predict(features["stage"])
    below = p < bench - margin
    out["p_win"] = p
    out["stage_benchmark"] = bench
    out["below_benchmark"] = below
    out["reasons"] = reasons(model, features, below, contrib=contrib)
    return out
