"""Holdout check: purchases a fitted model predicts for the holdout period vs what customers actually did."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retain.errors import ModelError


def holdout_check(model, summary: pd.DataFrame, *, max_bucket: int = 7) -> pd.DataFrame:
    """Mean predicted vs actual holdout purchases by calibration frequency (0, 1, ..., ``max_bucket``+).

    ``summary`` is an ``rfm_summary(..., calibration_end=...)`` result, with ``frequency_holdout`` and
    ``duration_holdout``; ``model`` was fitted on its calibration columns.
    """
    needed = ("frequency", "recency", "T", "frequency_holdout", "duration_holdout")
    missing = [c for c in needed if c not in summary.columns]
    if missing:
        raise ModelError(f"the summary has no column '{missing[0]}'",
                         hint="compute it with rfm_summary(..., calibration_end=<end of the calibration period>)")
    x = summary["frequency"].to_numpy(float)
    predicted = model.conditional_expected_number_of_purchases_up_to_time(
        summary["duration_holdout"].to_numpy(float), x, summary["recency"].to_numpy(float), summary["T"].to_numpy(float)
    )
    bucket = np.minimum(x, max_bucket).astype(int)
    frame = pd.DataFrame({"bucket": bucket, "actual": summary["frequency_holdout"].to_numpy(float),
                          "predicted": predicted})
    table = frame.groupby("bucket").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                        predicted=("predicted", "mean")).reset_index()
    table["frequency"] = table["bucket"].astype(str)
    table.loc[table["bucket"] == max_bucket, "frequency"] = f"{max_bucket}+"
    total = pd.DataFrame({"frequency": ["all"], "customers": [len(frame)], "actual": [frame["actual"].mean()],
                          "predicted": [frame["predicted"].mean()]})
    table = pd.concat([table.drop(columns="bucket"), total], ignore_index=True)
    table["error"] = table["predicted"] - table["actual"]
    return table[["frequency", "customers", "actual", "predicted", "error"]]
