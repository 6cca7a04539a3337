"""Kaplan–Meier survival of account lifetime, with Greenwood confidence bands and median lifetime.

The lifetime of an account is its *first* spell (first subscription to the first day with none), censored at
``as_of`` while it runs. The engine reduces accounts to ``(group, duration, event) -> count``; the estimator runs on
that compact summary with numpy, vectorised per group (no row loops).

Bands use the exponential Greenwood (log(-log)) transform, as lifelines does by default, so they stay in [0, 1].
"""

from __future__ import annotations

import datetime as dt
from statistics import NormalDist

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from retain.errors import RetainError
from retain.metrics.dimensions import By, Dimension, as_int, attach_dimension, resolve_dimension
from retain.metrics.periods import Grain
from retain.metrics.spells import spells
from retain.warehouse import AsOf, Warehouse, as_of_date

DAYS_PER_MONTH = 365.25 / 12
COLUMNS = [
    "dimension", "dimension_value", "time_days", "time_months", "at_risk", "events", "censored",
    "survival", "ci_lower", "ci_upper",
]


def lifetimes(wh: Warehouse, as_of: AsOf, by: str | By | None = None, *, include_trials: bool = False) -> ir.Table:
    """One row per account: ``duration_days`` of its first spell and ``event`` (1 = churned, 0 = still a customer).

    Trial periods are left out unless ``include_trials`` (a lifetime starts with the first paid period).
    """
    day = as_of_date(as_of)
    dim = resolve_dimension(wh, day, by)
    if dim is Dimension.PRODUCT:
        raise RetainError("survival is of accounts, not products", hint="use --by segment, region, owner...")
    first = spells(wh, day, include_trials=include_trials)
    first = first.filter(first.spell_no == 1)
    censor = ibis.literal(day + dt.timedelta(days=1), type="date")
    end = first.spell_end.fill_null(censor)
    out = first.mutate(
        first_started_on=first.spell_start,
        duration_days=end.delta(first.spell_start, unit="day"),
        event=as_int(first.spell_end.notnull()),
    )
    out = attach_dimension(out, wh, day, dim, grain=Grain.YEAR)
    return out.select("account_id", "dimension", "dimension_value", "spell_start", "duration_days", "event")


def lifetime_summary(
    wh: Warehouse, as_of: AsOf, by: str | By | None = None, *, include_trials: bool = False,
) -> ir.Table:
    """The compact summary the estimator needs: accounts per (group, duration, event)."""
    t = lifetimes(wh, as_of, by, include_trials=include_trials)
    return t.group_by(["dimension", "dimension_value", "duration_days", "event"]).aggregate(accounts=t.count())


def kaplan_meier(summary: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan–Meier curve per group from a ``(dimension, dimension_value, duration_days, event, accounts)`` frame.

    One row per group and distinct duration (plus time 0), with number at risk, events, censored, survival and a
    ``1 - alpha`` confidence band.
    """
    if summary.empty:
        return _empty_curve()
    keys = ["dimension", "dimension_value"]
    s = summary.assign(
        ev=summary["accounts"] * summary["event"], ce=summary["accounts"] * (1 - summary["event"]),
    )
    by_time = s.groupby([*keys, "duration_days"], as_index=False).agg(events=("ev", "sum"), censored=("ce", "sum"))
    by_time = by_time.sort_values([*keys, "duration_days"], ignore_index=True)
    removed = by_time["events"] + by_time["censored"]
    totals = removed.groupby([by_time[k] for k in keys]).transform("sum")
    removed_before = removed.groupby([by_time[k] for k in keys]).cumsum() - removed
    at_risk = totals - removed_before
    d, n = by_time["events"].to_numpy(float), at_risk.to_numpy(float)
    factor = 1.0 - d / n
    group_id = by_time.groupby(keys, sort=False).ngroup().to_numpy()
    log_factor = np.log(np.where(factor > 0, factor, 1.0))
    zero = pd.Series(factor <= 0).groupby(group_id).cummax().to_numpy()
    log_s = pd.Series(log_factor).groupby(group_id).cumsum().to_numpy()
    surv = np.where(zero, 0.0, np.exp(log_s))
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n - d > 0, d / (n * (n - d)), 0.0)
    greenwood = pd.Series(term).groupby(group_id).cumsum().to_numpy()
    z = NormalDist().inv_cdf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_surv = np.log(surv)
        sd = np.sqrt(greenwood) / np.abs(log_surv)
        loglog = np.log(-log_surv)
        lower = np.exp(-np.exp(loglog + z * sd))
        upper = np.exp(-np.exp(loglog - z * sd))
    certain = (surv >= 1.0) | (surv <= 0.0) | ~np.isfinite(sd)
    curve = by_time.assign(
        at_risk=at_risk.astype("int64"), survival=surv,
        ci_lower=np.where(certain, surv, lower), ci_upper=np.where(certain, surv, upper),
    )
    starts = curve.groupby(keys, as_index=False).agg(at_risk=("at_risk", "max")).assign(
        duration_days=0, events=0, censored=0, survival=1.0, ci_lower=1.0, ci_upper=1.0,
    )
    curve = curve[curve["duration_days"] > 0]
    out = pd.concat([starts, curve], ignore_index=True).sort_values([*keys, "duration_days"], ignore_index=True)
    out = out.rename(columns={"duration_days": "time_days"})
    out["time_months"] = out["time_days"] / DAYS_PER_MONTH
    out[["events", "censored"]] = out[["events", "censored"]].astype("int64")
    return out[COLUMNS]


def _empty_curve() -> pd.DataFrame:
    dtypes = {"dimension": "object", "dimension_value": "object", "time_days": "int64", "time_months": "float64",
              "at_risk": "int64", "events": "int64", "censored": "int64", "survival": "float64",
              "ci_lower": "float64", "ci_upper": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in COLUMNS})


def median_lifetime(curve: pd.DataFrame) -> pd.DataFrame:
    """Median lifetime per group: the first time survival falls to 0.5 or below (NaN when it never does)."""
    keys = ["dimension", "dimension_value"]
    groups = curve[keys].drop_duplicates()
    below = curve[curve["survival"] <= 0.5].groupby(keys, as_index=False).agg(median_days=("time_days", "min"))
    out = groups.merge(below, on=keys, how="left")
    accounts = curve.groupby(keys, as_index=False).agg(accounts=("at_risk", "max"))
    last = curve.sort_values("time_days").groupby(keys, as_index=False).agg(final_survival=("survival", "last"))
    out = out.merge(accounts, on=keys).merge(last, on=keys)
    out["median_months"] = out["median_days"] / DAYS_PER_MONTH
    return out[[*keys, "accounts", "median_days", "median_months", "final_survival"]]


def survival(
    wh: Warehouse, as_of: AsOf, by: str | By | None = None, alpha: float = 0.05, *, include_trials: bool = False,
) -> pd.DataFrame:
    """Kaplan–Meier curves of account lifetime as of ``as_of`` (stored as ``survival``)."""
    return kaplan_meier(wh.execute(lifetime_summary(wh, as_of, by, include_trials=include_trials)), alpha)


def survival_at(curve: pd.DataFrame, months: tuple[float, ...] = (6, 12, 24, 36)) -> pd.DataFrame:
    """Survival (and band) per group at fixed ages in months; NaN beyond the last observed time."""
    keys = ["dimension", "dimension_value"]
    groups = curve[keys].drop_duplicates()
    grid = groups.merge(pd.DataFrame({"months": list(months)}), how="cross")
    grid["time_months"] = grid["months"].astype(float)
    ordered = curve.sort_values("time_months")
    last = curve.groupby(keys, as_index=False).agg(_last=("time_months", "max"))
    merged = pd.merge_asof(
        grid.sort_values("time_months"), ordered[[*keys, "time_months", "survival", "ci_lower", "ci_upper"]],
        on="time_months", by=keys, direction="backward",
    ).merge(last, on=keys)
    beyond = merged["time_months"] > merged["_last"]
    merged.loc[beyond, ["survival", "ci_lower", "ci_upper"]] = np.nan
    return merged[[*keys, "months", "survival", "ci_lower", "ci_upper"]].sort_values([*keys, "months"],
                                                                                      ignore_index=True)
