"""The prediction workflow the faces call: train, predict (and store for the dashboard), backtest.

Every step is a function of the warehouse and a date; the CLI only formats what these return. Training data is a
:class:`~retain.models.frame.ModelFrame` per outcome (churn, expansion) from ``retain.models.dataset``; each is
validated and a model chosen by :mod:`retain.models.selection`. A model whose outcome never occurs or whose data
does not meet the requirements (:func:`retain.models.validation.requirements`) is *skipped with a note*; the other
still trains, predicts and stores.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from retain.errors import ModelError
from retain.models.adoption import ADOPTION_FEATURES, AdoptionTiers
from retain.models.backtest import BacktestResult, backtest_result
from retain.models.candidates import HEALTH_COLUMN, Kind
from retain.models.features import CATEGORICAL, FEATURES
from retain.models.frame import ModelFrame, ObservationFrequency, OutcomeSource
from retain.models.labels import CHURN_DAYS, EXPANSION_DAYS, churn_labels, expansion_labels
from retain.models.next_product import next_products
from retain.models.propensity import ChosenModel, ModelMismatchError
from retain.models.selection import Selection, select
from retain.warehouse import AsOf, Warehouse, as_of_date, as_of_day

DEFAULT_MODEL_DIR = Path("retain-models")
RESULT = "propensity"
RESULT_COLUMNS = ("account_id", "churn_probability", "upsell_probability", "reasons", "next_product",
                  "adoption_tier")


class Outcome(StrEnum):
    CHURN = "churn"
    EXPANSION = "expansion"

    @property
    def file(self) -> str:
        return "churn.json" if self is Outcome.CHURN else "upsell.json"

    @property
    def default_horizon(self) -> int:
        return CHURN_DAYS if self is Outcome.CHURN else EXPANSION_DAYS


@dataclass(frozen=True)
class FrameOptions:
    """What training data is built: the horizon (None: the builder's default from the data's span) and frequency."""

    horizon_days: int | None = None
    frequency: ObservationFrequency | None = None
    step_days: int = 30  # the fallback builder's grid when no frequency is given


class FrameCache:
    """Model frames and the health totals per date, built once per run.

    A frame is keyed by what it is built from: the outcome, the day and the *resolved* horizon and frequency (an
    option left to the data's default and the same value given explicitly are one frame), so the frames
    validated in :func:`train` are the ones :func:`predict` scores from. The features do not depend on the outcome:
    the second outcome's frame at a key is the first one's with its own label (:func:`relabel`), one feature build
    for churn and expansion."""

    def __init__(self, wh: Warehouse, end: dt.date) -> None:
        self.wh, self.end = wh, end
        self._frames: dict[tuple, ModelFrame] = {}
        self._with_health: dict[tuple, ModelFrame] = {}
        self._health: dict[dt.date, pd.DataFrame | None] = {}
        self._defaults: dict[dt.date, tuple[int, ObservationFrequency]] = {}
        self.notes: list[str] = []

    def resolved(self, as_of: dt.date, options: FrameOptions) -> tuple[int | None, ObservationFrequency | None]:
        """The horizon and frequency a build with ``options`` uses (the data's defaults where not given; as given
        when the data has none, and the build then says why)."""
        if (options.horizon_days is not None and options.frequency is not None) or self.wh is None:
            return options.horizon_days, options.frequency
        if as_of not in self._defaults:
            from retain.models.outcomes import choose_defaults

            try:
                horizon, frequency, _ = choose_defaults(self.wh, as_of)
            except ModelError:
                return options.horizon_days, options.frequency
            self._defaults[as_of] = (horizon, frequency)
        horizon, frequency = self._defaults[as_of]
        return options.horizon_days or horizon, options.frequency or frequency

    def model_frame(self, outcome: Outcome, as_of: dt.date, options: FrameOptions, *,
                    health: bool = True) -> ModelFrame:
        """The frame (with the health total at every date when ``health``), built once per key."""
        grid = (as_of, *self.resolved(as_of, options))
        key = (outcome, *grid)
        if key not in self._frames:
            other = next((mf for (o, *g), mf in self._frames.items() if g == list(grid) and o != outcome
                          and self.wh is not None and None not in grid), None)
            self._frames[key] = (relabel(self.wh, other, outcome, as_of, grid[2]) if other is not None
                                 else build(self.wh, outcome, as_of, options, self.notes))
        if not health:
            return self._frames[key]
        if key not in self._with_health:
            self._with_health[key] = with_health(self, self._frames[key])
        return self._with_health[key]

    def health(self, day: dt.date) -> pd.DataFrame | None:
        return self.health_at([day])[day]

    def health_at(self, days) -> dict[dt.date, pd.DataFrame | None]:
        """The health totals at each of ``days``; the ones not yet known scored together (one compile)."""
        missing = sorted({d for d in days if d not in self._health})
        if missing:
            self._health.update(health_totals(self.wh, missing))
        return {d: self._health[d] for d in days}

    def get(self, dates) -> pd.DataFrame:
        """The fixed-feature frame of the earlier pipeline at ``dates`` (kept for the calibration benchmark)."""
        from retain.models.dataset import build_frame

        return build_frame(self.wh, sorted(set(dates)), end=self.end)


# -- training data --------------------------------------------------------------------------------------------


def build(wh: Warehouse, outcome: Outcome, as_of: dt.date, options: FrameOptions,
          notes: list[str] | None = None) -> ModelFrame:
    """The model frame from :func:`retain.models.dataset.build_model_frame`: features generated from whatever the
    data has, outcomes from every source. A :class:`ModelError` (e.g. the outcome never occurs) is the answer and
    propagates, as does a bug: the main job degrades on the first, never hides the second."""
    from retain.models.dataset import build_model_frame

    return build_model_frame(wh, as_of=as_of, horizon_days=options.horizon_days, frequency=options.frequency,
                             outcome=outcome.value)


def relabel(wh: Warehouse, mf: ModelFrame, outcome: Outcome, as_of: dt.date,
            frequency: ObservationFrequency) -> ModelFrame:
    """``mf`` (built by :func:`build` for another outcome at the same day, horizon and frequency) with
    ``outcome``'s label instead: the same observations and features, the label computed on the same population in
    the same order (what :func:`retain.models.dataset.build_model_frame` would give, without building the features
    again). Raises :class:`~retain.models.outcomes.OutcomeNeverOccurs` as the builder does."""
    from retain.models.generated import numbered
    from retain.models.outcomes import OutcomeKind, OutcomeNeverOccurs, observation_grid, outcome_table, population
    from retain.models.outcomes import sources as outcome_sources

    kind = OutcomeKind(outcome.value)
    grid = observation_grid(wh, as_of, horizon_days=mf.horizon_days, frequency=frequency)
    pop = numbered(population(wh, grid))
    keyed = pop.select("rid", "account_id", "as_of")
    t = outcome_table(wh, grid, horizon_days=mf.horizon_days, kind=kind, pop=pop).view()
    j = keyed.left_join(t, [keyed.account_id == t.account_id, keyed.as_of == t.as_of])
    labels = wh.execute(j.select(keyed.rid, t[kind.label], t.outcome_source).order_by("rid"))
    if len(labels) != len(mf.frame):  # never expected: the population is the frame's; build it the long way
        return build(wh, outcome, as_of, FrameOptions(mf.horizon_days, frequency))
    label = labels[kind.label].astype("float64").to_numpy()
    known = ~np.isnan(label)
    if not known.any():
        return build(wh, outcome, as_of, FrameOptions(mf.horizon_days, frequency))  # the builder's own message
    if np.nansum(label) == 0:
        raise OutcomeNeverOccurs(kind, int(known.sum()))
    frame = mf.frame.drop(columns=[mf.label, "outcome_source"])
    frame[kind.label] = label
    frame["outcome_source"] = labels["outcome_source"].to_numpy()
    found = outcome_sources(wh, as_of, kind)
    source = found[0] if found else OutcomeSource.SUBSCRIPTIONS
    return ModelFrame(frame, mf.features, kind.label, mf.horizon_days, source, mf.categorical, mf.groups,
                      mf.transforms, mf.notes)


def fixed_frame(wh: Warehouse, outcome: Outcome, as_of: dt.date, options: FrameOptions,
                since: dt.date | None = None, *, usage_only: bool = False) -> ModelFrame:
    """The fixed features (``features.FEATURES``; only the contract and usage ones when ``usage_only``) every
    ``step_days`` back from ``as_of`` (to ``since``, else to 90 days after the data starts), with subscription-end
    labels read as known at ``as_of`` (missing when the window reaches past it)."""
    from retain.models.dataset import data_start, snapshot_dates
    from retain.models.features import USAGE_FEATURES, feature_frame, usage_feature_frame

    horizon = options.horizon_days or outcome.default_horizon
    step = options.frequency.days if options.frequency else options.step_days
    labels = churn_labels if outcome is Outcome.CHURN else expansion_labels
    label = "churned" if outcome is Outcome.CHURN else "expanded"
    parts = []
    first = data_start(wh) + dt.timedelta(days=90)
    for day in snapshot_dates(max(first, since) if since else first, as_of, step):
        feats = usage_feature_frame(wh, day) if usage_only else feature_frame(wh, day)
        if day + dt.timedelta(days=horizon) <= as_of:
            feats = feats.merge(wh.execute(labels(wh, day, horizon))[["account_id", label]], on="account_id",
                                how="left")
        else:
            feats[label] = np.nan
        feats["as_of"] = day
        parts.append(feats)
    frame = pd.concat(parts, ignore_index=True)
    frame[label] = frame[label].astype("float64")
    features, categorical = (USAGE_FEATURES, ()) if usage_only else (tuple(FEATURES), CATEGORICAL)
    return ModelFrame(frame, features, label, horizon, OutcomeSource.SUBSCRIPTIONS, categorical, {})


def health_totals(wh: Warehouse, days: list[dt.date]) -> dict[dt.date, pd.DataFrame | None]:
    """The health total per account at each of ``days`` (mean over scorecards); None where the scorecard cannot
    run (or scores no one)."""
    from retain.health.history import score_batches

    totals: dict[dt.date, pd.DataFrame | None] = {}
    try:  # a dozen dates' full results in memory at a time, only the totals kept
        for day, r in score_batches(wh, days, detail=False):
            totals[day] = (None if r.scores.empty else r.scores.groupby("account_id", as_index=False)["total"].mean()
                           .rename(columns={"total": HEALTH_COLUMN}))
    except Exception:  # noqa: BLE001 -- the scorecard is one candidate: it sits out, the others still run
        return dict.fromkeys(days)
    return totals


def with_health(cache: FrameCache, mf: ModelFrame) -> ModelFrame:
    """``mf`` with the scorecard's total at each observation date (``HEALTH_COLUMN``), when health can score."""
    if HEALTH_COLUMN in mf.frame.columns:
        return mf
    days = {pd.Timestamp(day).date(): day for day in mf.dates}
    parts = [totals.assign(as_of=days[d]) for d, totals in cache.health_at(list(days)).items() if totals is not None]
    if not parts:
        return mf
    totals = pd.concat(parts, ignore_index=True)
    frame = mf.frame.merge(totals, on=["account_id", "as_of"], how="left")
    return ModelFrame(frame, mf.features, mf.label, mf.horizon_days, mf.source, mf.categorical, mf.groups)


# -- train / predict -----------------------------------------------------------------------------------------------


@dataclass
class Trained:
    churn: ChosenModel | None
    upsell: ChosenModel | None
    tiers: AdoptionTiers | None
    as_of: dt.date
    selections: dict[Outcome, Selection] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _options(horizon_days: int | None, frequency: ObservationFrequency | None, step_days: int,
             outcome: Outcome) -> FrameOptions:
    # --horizon is the churn horizon; expansion keeps its own default
    return FrameOptions(horizon_days if outcome is Outcome.CHURN else None, frequency, step_days)


def fit_outcome(cache: FrameCache, outcome: Outcome, as_of: dt.date, options: FrameOptions, *,
                seed: int = 0, max_folds: int | None = None) -> tuple[ChosenModel | None, Selection | None, str | None]:
    """Validate, choose and refit one outcome's model; (None, None, note) when it is skipped. ``max_folds``: at
    most this many fits per candidate (consecutive test dates share one; see :func:`retain.models.selection.select`).
    """
    try:
        mf = cache.model_frame(outcome, as_of, options)
        selection = select(mf, seed=seed, max_folds=max_folds)
    except ModelError as exc:
        return None, None, f"{outcome} model skipped: {exc.args[0] if exc.args else exc}"
    model = ChosenModel.fit(mf, selection, outcome=outcome.value, seed=seed)
    model.summary["frequency"] = options.frequency.value if options.frequency else None
    return model, selection, None


def train(wh: Warehouse, as_of: AsOf | None = None, *, horizon_days: int | None = None,
          frequency: ObservationFrequency | None = None, cache: FrameCache | None = None,
          step_days: int = 30, max_folds: int | None = None) -> Trained:
    """Choose and fit the churn and upsell models (and adoption tiers) on history up to ``as_of``.

    Raises :class:`ModelError` only when neither model can be trained."""
    end = as_of_day(wh, as_of).day
    cache = cache or FrameCache(wh, end)
    models, selections, notes = {}, {}, []
    for outcome in Outcome:
        model, selection, note = fit_outcome(cache, outcome, end, _options(horizon_days, frequency, step_days,
                                                                          outcome), max_folds=max_folds)
        models[outcome] = model
        if selection is not None:
            selections[outcome] = selection
        if note:
            notes.append(note)
    if not any(models.values()):
        raise ModelError("no model could be trained: " + "; ".join(notes), hint="run `retain doctor`")
    tiers = _tiers(cache, end, _options(horizon_days, frequency, step_days, Outcome.CHURN), notes)
    notes = list(dict.fromkeys(cache.notes + notes))
    return Trained(models[Outcome.CHURN], models[Outcome.EXPANSION], tiers, end, selections, notes)


TIERS_STEP_DAYS = 90  # the adoption tiers' own snapshots when the model frame lacks the adoption features
TIERS_HISTORY_DAYS = 365  # ... over the last year: adoption as it is now, not as it was at launch


def _tiers(cache: FrameCache, end: dt.date, options: FrameOptions, notes: list[str]) -> AdoptionTiers | None:
    """Adoption tiers from the churn frame, or from the fixed features every 90 days of the last year when
    the generated features do not include licence use, feature breadth and depth."""
    try:
        frame = cache.model_frame(Outcome.CHURN, end, options, health=False).labelled().frame
        if not set(ADOPTION_FEATURES) <= set(frame.columns) or "churned" not in frame.columns:
            fixed = fixed_frame(cache.wh, Outcome.CHURN, end, FrameOptions(CHURN_DAYS, None, TIERS_STEP_DAYS),
                                since=end - dt.timedelta(days=TIERS_HISTORY_DAYS), usage_only=True)
            frame = fixed.labelled().frame
        return AdoptionTiers().fit(frame)
    except (ModelError, ValueError) as exc:
        notes.append(f"adoption tiers skipped: {exc.args[0] if exc.args else exc}")
        return None


def adoption_rows(wh: Warehouse, day: dt.date, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with the adoption features (from the fixed features at ``day`` when the model frame lacks them)."""
    if set(ADOPTION_FEATURES) <= set(rows.columns):
        return rows
    from retain.models.features import usage_feature_frame

    feats = usage_feature_frame(wh, day)[["account_id", *ADOPTION_FEATURES]]
    return rows[["account_id"]].merge(feats, on="account_id", how="left")


def save(trained: Trained, model_dir: Path = DEFAULT_MODEL_DIR) -> list[Path]:
    """Write the trained models; a skipped model's old file is removed so it is never scored by mistake."""
    paths = []
    for outcome, model in ((Outcome.CHURN, trained.churn), (Outcome.EXPANSION, trained.upsell)):
        path = model_dir / outcome.file
        if model is not None:
            paths.append(model.save(path))
        elif path.exists():
            path.unlink()
    tiers_path = model_dir / "adoption.json"
    if trained.tiers is not None:
        paths.append(trained.tiers.save(tiers_path))
    elif tiers_path.exists():
        tiers_path.unlink()
    return paths


def load_models(model_dir: Path = DEFAULT_MODEL_DIR) -> tuple[ChosenModel | None, ChosenModel | None,
                                                              AdoptionTiers | None]:
    """Load the model files; none at all, or a file of another format, raises a :class:`ModelError`."""
    paths = {o: model_dir / o.file for o in Outcome}
    if not any(p.exists() for p in paths.values()):
        raise ModelError(f"no trained models in {model_dir}", hint="run `retain train` first")
    churn, upsell = (ChosenModel.load(paths[o]) if paths[o].exists() else None for o in Outcome)
    tiers_path = model_dir / "adoption.json"
    return churn, upsell, AdoptionTiers.load(tiers_path) if tiers_path.exists() else None


def scoring_rows(wh: Warehouse, model: ChosenModel, day: dt.date, cache: FrameCache | None = None) -> pd.DataFrame:
    """Each customer's features at ``day`` built the way ``model`` was trained (with the health total at ``day``
    when the model is the scorecard)."""
    cache = cache or FrameCache(wh, day)
    frequency = model.summary.get("frequency")
    options = FrameOptions(model.horizon_days, ObservationFrequency(frequency) if frequency else None, 30)
    frame = cache.model_frame(Outcome(model.outcome), day, options, health=False).frame
    rows = frame[pd.to_datetime(frame["as_of"]).dt.date == day].reset_index(drop=True)
    if model.kind == Kind.SCORECARD.value and HEALTH_COLUMN not in rows.columns:
        totals = cache.health(day)
        rows = rows.merge(totals, on="account_id", how="left") if totals is not None else rows.assign(
            **{HEALTH_COLUMN: np.nan})
    return rows


def predict(wh: Warehouse, as_of: AsOf, churn: ChosenModel | None, upsell: ChosenModel | None,
            tiers: AdoptionTiers | None = None, *, store: bool = True, cache: FrameCache | None = None) -> pd.DataFrame:
    """Score every customer at ``as_of``: probabilities, reasons, next product, adoption tier; stored as the
    ``propensity`` result (one row per account) when ``store``. A missing model leaves its column empty."""
    day = as_of_date(as_of)
    cache = cache or FrameCache(wh, day)
    main = churn or upsell
    if main is None:
        raise ModelError("no trained model to score with", hint="run `retain train`")
    rows = scoring_rows(wh, main, day, cache)
    if rows.empty:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    out = rows[["account_id"]].copy()
    raw = churn.raw_score(rows) if churn is not None else np.zeros(len(rows))
    out["churn_probability"] = churn.calibration_.predict(raw) if churn is not None else np.nan
    out["reasons"] = churn.reasons(rows) if churn is not None else "[]"
    if upsell is not None:
        up_rows = rows if upsell is main else scoring_rows(wh, upsell, day, cache)
        up = pd.DataFrame({"account_id": up_rows["account_id"], "upsell_probability": upsell.predict_proba(up_rows)})
        out = out.merge(up, on="account_id", how="left")
    else:
        out["upsell_probability"] = np.nan
    nxt = next_products(wh, day)
    out = out.merge(nxt[["account_id", "next_product"]], on="account_id", how="left")
    out["adoption_tier"] = tiers.assign(adoption_rows(wh, day, rows)) if tiers is not None else None
    # Calibrated probabilities keep the raw score's order; the raw score breaks exact ties.
    out["_raw"] = raw
    out = out.sort_values(["churn_probability", "_raw"], ascending=False, kind="stable")
    out = out[list(RESULT_COLUMNS)].reset_index(drop=True)
    if store:
        wh.store_result(RESULT, out.astype({"next_product": "object", "adoption_tier": "object"}), day)
    return out


def train_or_load(wh: Warehouse, as_of: dt.date, model_dir: Path | None, cache: FrameCache | None = None):
    """Reuse saved models when they exist and match this Retain, else train (and save when a dir is given)."""
    if model_dir is not None:
        try:
            return load_models(model_dir)
        except ModelMismatchError:
            pass  # trained by another version: retrain below
        except ModelError:
            pass  # no model yet
    trained = train(wh, as_of, cache=cache)
    if model_dir is not None:
        save(trained, model_dir)
    return trained.churn, trained.upsell, trained.tiers


def backtest(wh: Warehouse, *, end: AsOf | None = None, horizon_days: int | None = None,
             frequency: ObservationFrequency | None = None, cache: FrameCache | None = None,
             step_days: int = 30, seed: int = 0) -> BacktestResult:
    """Validate the candidates for churn on history up to ``end``: every test date, the comparison, the choice."""
    last = as_of_day(wh, end).day
    cache = cache or FrameCache(wh, last)
    options = _options(horizon_days, frequency, step_days, Outcome.CHURN)
    mf = cache.model_frame(Outcome.CHURN, last, options)
    selection = select(mf, seed=seed)
    from retain.models.scorecard import scorecard_source

    return backtest_result(mf, selection, scorecard_source().name, tuple(cache.notes))


def backtest_of(trained: Trained, cache: FrameCache, options: FrameOptions) -> BacktestResult | None:
    """The churn model's validation from a :func:`train` run (no refit): what the main job shows."""
    selection = trained.selections.get(Outcome.CHURN)
    if selection is None:
        return None
    mf = cache.model_frame(Outcome.CHURN, trained.as_of, options)
    from retain.models.scorecard import scorecard_source

    return backtest_result(mf, selection, scorecard_source().name, tuple(cache.notes))


def riskiest(prediction: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` accounts most likely to churn with their top reasons as one readable string."""
    top = prediction.head(n).copy()
    top["top_reasons"] = ["; ".join([r["phrase"] for r in json.loads(text)
                                      if r.get("direction", "raises") == "raises"][:3]) for text in top["reasons"]]
    top["churn_pct"] = (top["churn_probability"] * 100).round(0)
    return top[["account_id", "churn_pct", "adoption_tier", "next_product", "top_reasons"]]
