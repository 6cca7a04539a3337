"""The prediction workflow the faces call: train, predict (and store for the dashboard), backtest.

Every step is a function of the warehouse and a date; the CLI only formats what these return.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from retain.errors import ModelError
from retain.models.adoption import AdoptionTiers
from retain.models.backtest import BacktestResult, run_backtest
from retain.models.dataset import TimeSplit, build_frame, data_start, time_split
from retain.models.features import account_features
from retain.models.next_product import next_products
from retain.models.propensity import ChurnModel, ModelMismatchError, UpsellModel
from retain.models.scorecard import scorecard_source
from retain.warehouse import AsOf, Warehouse, as_of_date, as_of_day

DEFAULT_MODEL_DIR = Path("retain-models")
RESULT = "propensity"
RESULT_COLUMNS = ("account_id", "churn_probability", "upsell_probability", "reasons", "next_product",
                  "adoption_tier")


@dataclass
class Trained:
    churn: ChurnModel
    upsell: UpsellModel
    tiers: AdoptionTiers
    as_of: dt.date
    churn_split: TimeSplit
    upsell_split: TimeSplit


class FrameCache:
    """Feature + label frames per date, built once per run (dates on a shared grid)."""

    def __init__(self, wh: Warehouse, end: dt.date) -> None:
        self.wh, self.end, self._frames = wh, end, {}

    def get(self, dates) -> pd.DataFrame:
        missing = sorted(set(dates) - set(self._frames))
        if missing:
            built = build_frame(self.wh, missing, end=self.end)
            for day, part in built.groupby("as_of"):
                self._frames[day] = part
            for day in missing:
                self._frames.setdefault(day, built.iloc[0:0])
        parts = [self._frames[d] for d in sorted(set(dates))]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def train(wh: Warehouse, as_of: AsOf | None = None, *, cache: FrameCache | None = None,
          step_days: int = 30) -> Trained:
    """Fit churn and upsell models and adoption tiers on history up to ``as_of`` (default: end of data)."""
    end = as_of_day(wh, as_of).day
    start = data_start(wh)
    cache = cache or FrameCache(wh, end)
    csplit = time_split(start, end, horizon_days=ChurnModel.horizon_days, test_days=0, step_days=step_days)
    usplit = time_split(start, end, horizon_days=UpsellModel.horizon_days, test_days=0, step_days=step_days)
    cfit = cache.get(csplit.train + csplit.validation)
    churn = ChurnModel().fit(cfit[cfit["as_of"].isin(csplit.train)], cfit[cfit["as_of"].isin(csplit.validation)])
    ufit = cache.get(usplit.train + usplit.validation)
    upsell = UpsellModel().fit(ufit[ufit["as_of"].isin(usplit.train)], ufit[ufit["as_of"].isin(usplit.validation)])
    tiers = AdoptionTiers().fit(cfit)
    return Trained(churn, upsell, tiers, end, csplit, usplit)


def save(trained: Trained, model_dir: Path = DEFAULT_MODEL_DIR) -> list[Path]:
    return [trained.churn.save(model_dir / "churn.json"), trained.upsell.save(model_dir / "upsell.json"),
            trained.tiers.save(model_dir / "adoption.json")]


def load_models(model_dir: Path = DEFAULT_MODEL_DIR) -> tuple[ChurnModel, UpsellModel, AdoptionTiers]:
    """Load the model files; a missing file or a spec mismatch raises a :class:`ModelError`."""
    paths = [model_dir / name for name in ("churn.json", "upsell.json", "adoption.json")]
    if not all(p.exists() for p in paths):
        raise ModelError(f"no trained models in {model_dir}", hint="run `retain train` first")
    return ChurnModel.load(paths[0]), UpsellModel.load(paths[1]), AdoptionTiers.load(paths[2])


def predict(wh: Warehouse, as_of: AsOf, churn: ChurnModel, upsell: UpsellModel, tiers: AdoptionTiers | None = None,
            *, store: bool = True) -> pd.DataFrame:
    """Score every customer at ``as_of``: probabilities, reasons, next product, adoption tier; stored as the
    ``propensity`` result (one row per account) when ``store``."""
    day = as_of_date(as_of)
    feats = wh.execute(account_features(wh, day))
    if feats.empty:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    out = feats[["account_id"]].copy()
    raw = churn.raw_score(feats)
    out["churn_probability"] = churn.calibration_.predict(raw)
    out["upsell_probability"] = upsell.predict_proba(feats)
    out["reasons"] = churn.reasons(feats)
    nxt = next_products(wh, day)
    out = out.merge(nxt[["account_id", "next_product"]], on="account_id", how="left")
    out["adoption_tier"] = tiers.assign(feats) if tiers is not None else None
    # Calibrated probabilities tie within a calibration bin: the booster's own score breaks the ties.
    out["_raw"] = raw
    out = out.sort_values(["churn_probability", "_raw"], ascending=False, kind="stable")
    out = out[list(RESULT_COLUMNS)].reset_index(drop=True)
    if store:
        wh.store_result(RESULT, out.astype({"next_product": "object", "adoption_tier": "object"}), day)
    return out


def train_or_load(wh: Warehouse, as_of: dt.date, model_dir: Path | None, cache: FrameCache | None = None):
    """Reuse saved models when they exist and match this Retain's spec, else train (and save when a dir is given)."""
    if model_dir is not None:
        try:
            return load_models(model_dir)
        except ModelMismatchError:
            pass  # trained on another spec: retrain below
        except ModelError:
            pass  # no model yet
    trained = train(wh, as_of, cache=cache)
    if model_dir is not None:
        save(trained, model_dir)
    return trained.churn, trained.upsell, trained.tiers


def backtest(wh: Warehouse, *, end: AsOf | None = None, test_dates: list[dt.date] | None = None,
             test_days: int = 365, cache: FrameCache | None = None, step_days: int = 30) -> BacktestResult:
    """Hold back the final ``test_days`` (or the given ``test_dates``); fit on what came before; compare."""
    last = as_of_day(wh, end).day
    start = data_start(wh)
    horizon = ChurnModel.horizon_days
    if test_dates:
        tests = tuple(sorted(as_of_date(d) for d in test_dates))
        too_late = [d for d in tests if d > last - dt.timedelta(days=horizon)]
        if too_late:
            raise ModelError(f"{too_late[0]} is too recent: its 90-day outcome is not known yet",
                             hint=f"use dates up to {last - dt.timedelta(days=horizon)}")
        fit = time_split(start, tests[0], horizon_days=horizon, test_days=0, step_days=step_days)
        split = TimeSplit(fit.train, fit.validation, tests, horizon)
        split.check()
    else:
        split = time_split(start, last, horizon_days=horizon, test_days=test_days, step_days=step_days)
    cache = cache or FrameCache(wh, last)
    frame = cache.get(split.train + split.validation + split.test)
    model = ChurnModel().fit(frame[frame["as_of"].isin(split.train)], frame[frame["as_of"].isin(split.validation)])
    return run_backtest(wh, frame, split, scorecard_source(), model)


def riskiest(prediction: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` accounts most likely to churn with their top reasons as one readable string."""
    top = prediction.head(n).copy()
    top["top_reasons"] = ["; ".join([r["phrase"] for r in json.loads(text)
                                      if r.get("direction", "raises") == "raises"][:3]) for text in top["reasons"]]
    top["churn_pct"] = (top["churn_probability"] * 100).round(0)
    return top[["account_id", "churn_pct", "adoption_tier", "next_product", "top_reasons"]]


