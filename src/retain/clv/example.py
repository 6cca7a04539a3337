"""The CDNOW example: fit BG/NBD, Pareto/NBD and Gamma-Gamma on the shipped sample; ours beside the papers."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from retain.clv.beta_geo import BetaGeoFitter
from retain.clv.datasets import CDNOW_PUBLISHED, CDNOW_PUBLISHED_LL, cdnow_summary
from retain.clv.gamma_gamma import GammaGammaFitter
from retain.clv.holdout import holdout_check
from retain.clv.pareto_nbd import ParetoNBDFitter


@dataclass
class CdnowExample:
    summary: pd.DataFrame
    models: dict
    comparison: pd.DataFrame
    holdout: pd.DataFrame


def cdnow_example() -> CdnowExample:
    """Fit the three models on CDNOW (calibration 1997-01-01..1997-09-30, weeks) and compare with the papers."""
    summary = cdnow_summary().execute().sort_values("customer_id").reset_index(drop=True)
    models = {
        "bgnbd": BetaGeoFitter().fit(summary),
        "pareto": ParetoNBDFitter().fit(summary),
        "gamma_gamma": GammaGammaFitter().fit(summary[summary["frequency"] > 0]),
    }
    rows = []
    for name, model in models.items():
        for param, paper in CDNOW_PUBLISHED[name].items():
            ours = float(model.params_[param])
            rows.append({"model": name, "param": param, "ours": ours, "se": float(model.standard_errors_[param]),
                         "paper": paper, "rel_diff": ours / paper - 1})
        if name in CDNOW_PUBLISHED_LL:
            paper = CDNOW_PUBLISHED_LL[name]
            rows.append({"model": name, "param": "log-likelihood", "ours": model.log_likelihood_, "se": float("nan"),
                         "paper": paper, "rel_diff": model.log_likelihood_ / paper - 1})
    holdout = holdout_check(models["bgnbd"], summary).rename(columns={"predicted": "predicted_bgnbd"})
    holdout["predicted_pareto"] = holdout_check(models["pareto"], summary)["predicted"]
    return CdnowExample(summary, models, pd.DataFrame(rows), holdout.drop(columns="error"))


def params_table(models: dict) -> pd.DataFrame:
    """One row per (model, parameter): estimate, standard error and 95% interval, plus the log-likelihood."""
    frames = []
    for name, model in models.items():
        summary = model.summary.reset_index()
        summary.columns = ["param", "coef", "se", "lower", "upper"]
        summary.insert(0, "model", name)
        summary["log_likelihood"] = model.log_likelihood_
        frames.append(summary)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
