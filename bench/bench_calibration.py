"""Calibration on held-out dates: the logistic (Platt) map Retain uses vs the isotonic map it replaced.

    retain --db /tmp/cal/retain.duckdb demo --accounts 1000 --no-serve
    python bench/bench_calibration.py --db /tmp/cal/retain.duckdb

The split is the backtest's (final year held back, a label horizon between parts). The churn and upsell boosters
are fitted on the training dates; both calibrations on the validation dates; everything is measured on the test
dates, beside a plain logistic regression on the standardised features of the same rows (fitted on the training
dates). The health score's map (hand-weighted scorecard total → churn) is compared the same way. Intervals:
95 % bootstrap resampling accounts. "distinct in top decile" counts distinct probabilities among the 10 % riskiest
held-out rows (the raw score's own count beside it).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from retain.models import metrics
from retain.models.calibration import binned_isotonic, score_calibration
from retain.models.dataset import data_start, time_split
from retain.models.features import FEATURES
from retain.models.pipeline import FrameCache
from retain.models.propensity import ChurnModel, UpsellModel
from retain.models.scorecard import scorecard_source
from retain.warehouse import Warehouse, as_of_day


def _row(name: str, y: np.ndarray, p: np.ndarray, groups: np.ndarray, ref: np.ndarray | None) -> dict:
    a = metrics.bootstrap(metrics.auc, y, p, groups=groups)
    b = metrics.bootstrap(metrics.brier, y, p, groups=groups)
    top = np.argsort(-p, kind="stable")[: max(1, len(p) // 10)]
    out = {"scorer": name, "auc": f"{a[0]:.3f} [{a[1]:.3f}, {a[2]:.3f}]",
           "brier": f"{b[0]:.4f} [{b[1]:.4f}, {b[2]:.4f}]",
           "largest decile gap": round(float(metrics.reliability(y, p)["gap"].max()), 3),
           "lift": round(metrics.top_decile_lift(y, p), 2), "distinct in top decile": len(np.unique(p[top]))}
    if ref is not None:
        d = metrics.bootstrap(lambda yy, pp, rr: metrics.brier(yy, pp) - metrics.brier(yy, rr), y, p, ref,
                              groups=groups)
        out["brier − isotonic"] = f"{d[0]:+.4f} [{d[1]:+.4f}, {d[2]:+.4f}]"
    return out


def _baseline(train: pd.DataFrame, test: pd.DataFrame, target: str) -> np.ndarray:
    """Plain logistic regression on standardised features (median-filled), fitted on the training dates."""
    cols = list(FEATURES)
    med = train[cols].astype(float).median().fillna(0.0)
    scaler = StandardScaler().fit(train[cols].astype(float).fillna(med))
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(train[cols].astype(float).fillna(med)),
                                                       train[target].astype(int))
    return lr.predict_proba(scaler.transform(test[cols].astype(float).fillna(med)))[:, 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--test-days", type=int, default=365)
    args = parser.parse_args()
    wh = Warehouse.open(args.db, create=False)
    end, start = as_of_day(wh).day, data_start(wh)
    cache = FrameCache(wh, end)
    pd.set_option("display.width", 200)
    for cls in (ChurnModel, UpsellModel):
        target = cls.target
        split = time_split(start, end, horizon_days=cls.horizon_days, test_days=args.test_days)
        frame = cache.get(split.train + split.validation + split.test)
        frame = frame[frame[target].notna()].reset_index(drop=True)
        parts = {k: frame[frame["as_of"].isin(getattr(split, k))].reset_index(drop=True)
                 for k in ("train", "validation", "test")}
        model = cls().fit(parts["train"], parts["validation"])
        test, val = parts["test"], parts["validation"]
        y, groups = test[target].astype(int).to_numpy(), test["account_id"].to_numpy()
        raw = model.raw_score(test)
        p_iso = binned_isotonic(model.raw_score(val), val[target].astype(int)).predict(raw)
        top = np.argsort(-raw, kind="stable")[: max(1, len(raw) // 10)]
        rows = [_row("booster, isotonic (before)", y, p_iso, groups, None),
                _row("booster, logistic (now)", y, model.predict_proba(test), groups, p_iso),
                _row("plain logistic regression", y, _baseline(parts["train"], test, target), groups, p_iso)]
        print(f"\n{target} within {cls.horizon_days} d: {len(test):,} held-out rows on {len(split.test)} dates "
              f"({y.sum():,} positives); calibrated on {len(val):,} rows; raw score distinct in top decile: "
              f"{len(np.unique(raw[top]))}")
        print(pd.DataFrame(rows).to_string(index=False))
        if target == "churned":
            source = scorecard_source()
            totals = {k: pd.concat([source.score(wh, d, g).total for d, g in parts[k].groupby("as_of", sort=True)])
                      .reindex(parts[k].index).fillna(50.0).to_numpy() for k in ("validation", "test")}
            y_val = val[target].astype(int).to_numpy()
            h_iso = binned_isotonic(totals["validation"], y_val, increasing=False).predict(totals["test"])
            h_log = score_calibration(totals["validation"], y_val, increasing=False).predict(totals["test"])
            print("\nhealth score (hand weights) → P(churn 90 d), same rows:")
            print(pd.DataFrame([_row("health, isotonic (before)", y, h_iso, groups, None),
                                _row("health, logistic (now)", y, h_log, groups, h_iso)]).to_string(index=False))


if __name__ == "__main__":
    main()
