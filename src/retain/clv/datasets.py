"""Example data shipped with Retain: the CDNOW sample (see ``data/README.md`` for provenance)."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import ibis
import ibis.expr.types as ir
import pandas as pd

from retain.clv.rfm import rfm_summary

CDNOW_CALIBRATION_END = dt.date(1997, 9, 30)
CDNOW_OBSERVATION_END = dt.date(1998, 6, 30)

#: Published estimates (Fader, Hardie & Lee 2005a/b) on CDNOW, calibration 1997-01-01..1997-09-30, weeks.
CDNOW_PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "pareto": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
CDNOW_PUBLISHED_LL = {"bgnbd": -9582.4, "pareto": -9595.0}


def load_cdnow() -> pd.DataFrame:
    """The 6,919 purchase records of CDNOW's 2,357-customer sample: customer_id, date, cds, amount."""
    path = resources.files("retain.clv") / "data" / "cdnow_sample.txt"
    with resources.as_file(path) as file:
        frame = pd.read_csv(
            file, sep=r"\s+", header=None, names=["original_id", "customer_id", "date", "cds", "amount"],
            dtype={"original_id": int, "customer_id": int, "date": str, "cds": int, "amount": float},
        )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame[["customer_id", "date", "cds", "amount"]]


def cdnow_summary(*, holdout: bool = True) -> ir.Table:
    """CDNOW RFM summary in weeks (daily purchases, 7-day unit), as in the papers; with holdout columns by default."""
    table = ibis.memtable(load_cdnow())
    return rfm_summary(table, "customer_id", "date", "amount", observation_end=CDNOW_OBSERVATION_END, freq="D",
                       freq_multiplier=7, calibration_end=CDNOW_CALIBRATION_END if holdout else None)
