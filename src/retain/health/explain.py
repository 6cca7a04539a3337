"""Why a score changed and what would improve it.

**Why it changed.** The total is a sum of contributions, ``points = weight_pct / 100 * score`` per component
(and per measure inside it, which sum to the component's points), plus the effect of critical caps. Between two
dates each contribution's change is split into a *score effect* (mean weight x score change) and a *weight effect*
(mean score x weight change, e.g. a measure that became not applicable re-weights the others). The parts sum
exactly to the change of the total.

**What to improve.** For each component: the total if that component alone reached a target (by default the
75th percentile of peers on the same scorecard), keeping the others and the critical caps; best gain first.

**One definition for every face.** A date that has stored scores is read from them (the stored result is the truth
of that date); other dates are scored now. ``retain explain``, the published Account 360 page and the API all use
:func:`component_changes` and :func:`improvements` below, so they give the same changes and the same ranking.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from difflib import get_close_matches

import numpy as np
import pandas as pd

from retain.errors import NotFoundError, RetainError
from retain.health.history import SCHEMAS, resolve, score
from retain.health.scoring import HealthResult, churn_probability
from retain.warehouse import AsOf, Warehouse, as_of_date


@dataclass
class Change:
    """The change of one account's total between two dates, attributed to components, measures and caps."""

    account_id: str
    before: dict
    after: dict
    components: pd.DataFrame
    measures: pd.DataFrame
    critical_effect: float

    @property
    def total_change(self) -> float:
        return float(self.after["total"] - self.before["total"])


def _decompose(frame: pd.DataFrame) -> pd.DataFrame:
    s0, s1 = frame["score_before"], frame["score_after"]
    w0, w1 = frame["weight_pct_before"].fillna(0.0), frame["weight_pct_after"].fillna(0.0)
    p0 = (w0 * s0.fillna(0.0) / 100).where(s0.notna(), 0.0)
    p1 = (w1 * s1.fillna(0.0) / 100).where(s1.notna(), 0.0)
    both = s0.notna() & s1.notna()
    out = frame.assign(points_before=p0, points_after=p1, change=p1 - p0)
    out["score_effect"] = np.where(both, (w0 + w1) / 2 * (s1 - s0) / 100, 0.0)
    out["weight_effect"] = out["change"] - out["score_effect"]
    return out


def _pick(frame: pd.DataFrame, account_id: str, keys: list[str]) -> pd.DataFrame:
    return frame.loc[frame["account_id"] == account_id, [*keys, "score", "weight_pct"]]


def component_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per account and component: score and weight at both dates and the change of its points, split into score
    and weight effects (see module docs); biggest change first within each account.

    ``before`` / ``after``: components (``account_id, component, score, weight_pct``). Only accounts with
    components at both dates are attributed: a date without any is unknown, not "every component was 0".
    """
    keys = ["account_id", "component"]
    cols = [*keys, "score", "weight_pct"]
    both = set(before["account_id"]) & set(after["account_id"])
    b, a = (f.loc[f["account_id"].isin(both), cols] for f in (before, after))
    out = _decompose(b.merge(a, on=keys, how="outer", suffixes=("_before", "_after")))
    out = out.assign(_size=out["change"].abs()).sort_values(["account_id", "_size"], ascending=[True, False])
    return out.drop(columns="_size").reset_index(drop=True)


def attribute_change(before: HealthResult, after: HealthResult, account_id: str) -> Change:
    """Attribute the change of ``account_id``'s total from ``before`` to ``after`` (see module docs)."""
    rows = []
    for result in (before, after):
        hit = result.scores.loc[result.scores["account_id"] == account_id]
        if hit.empty:
            day = result.scores["as_of"].iloc[0] if len(result.scores) else "that date"
            raise NotFoundError(f"account '{account_id}' has no health score as of {day}",
                                hint="it held no running subscription then; pick a later --since / --as-of")
        rows.append(hit.iloc[0].to_dict())
    suffixes = ("_before", "_after")
    comps = component_changes(*(r.components.loc[r.components["account_id"] == account_id] for r in (before, after)))
    comps = comps.drop(columns="account_id")
    meas = _pick(before.measures, account_id, ["component", "measure"]).merge(
        _pick(after.measures, account_id, ["component", "measure"]), on=["component", "measure"], how="outer",
        suffixes=suffixes)
    critical = (rows[1]["total"] - rows[1]["raw_total"]) - (rows[0]["total"] - rows[0]["raw_total"])
    meas = _decompose(meas).sort_values("change", key=np.abs, ascending=False, ignore_index=True)
    return Change(account_id, rows[0], rows[1], comps, meas, float(np.nan_to_num(critical)))


def require_account(wh: Warehouse, account_id: str) -> None:
    """A :class:`NotFoundError` naming the closest ids when no account ``account_id`` was ever loaded."""
    accounts = wh.raw("accounts")
    if wh.execute(accounts.filter(accounts.account_id == account_id).count()):
        return
    ids = wh.execute(accounts.select("account_id"))["account_id"].astype(str).tolist()  # only on this error path
    close = get_close_matches(account_id, ids, n=3, cutoff=0.6)
    hint = f"closest ids: {', '.join(close)}" if close else "check the id (`retain score` lists accounts)"
    raise NotFoundError(f"no account '{account_id}'", hint=hint)


def _stored(wh: Warehouse, name: str, day: dt.date) -> pd.DataFrame:
    """The stored result ``name`` of exactly ``day`` with its declared columns (a missing one filled with NaN)."""
    try:
        t = wh.raw_result(name)
    except RetainError:
        return pd.DataFrame(columns=SCHEMAS[name].names)
    frame = wh.execute(t.filter(t.as_of.cast("date") == day))
    return frame.reindex(columns=[c for c in SCHEMAS[name].names])


def stored_result(wh: Warehouse, day: AsOf, *, measures: bool = True) -> HealthResult | None:
    """The health result stored for ``day`` (scores and components; measures too when stored), or None."""
    day = as_of_date(day)
    scores = _stored(wh, "health_scores", day)
    if scores.empty:
        return None
    scores["raw_total"] = scores["raw_total"].fillna(scores["total"])
    comps = _stored(wh, "health_components", day)
    meas = _stored(wh, "health_measures", day) if measures else pd.DataFrame(columns=SCHEMAS["health_measures"].names)
    return HealthResult(scores=scores, components=comps, measures=meas)


def result_at(wh: Warehouse, day: AsOf, scorecards=None, *, stored: bool | None = None) -> HealthResult:
    """The health of a date: the stored result when that date was stored (by the scorecards given, when
    ``stored``; by default only without ``scorecards``), else scored now.

    Measures missing from a stored date (backfills skip them) are scored now, for the measure-level attribution;
    a stored result carries the calibrations of ``scorecards`` (a fitted scorecard's churn probability).
    """
    spec = resolve(scorecards)
    found = stored_result(wh, day) if (scorecards is None if stored is None else stored) else None
    names = {card.name for card in spec.scorecards}
    if found is not None and scorecards is not None and not set(found.scores["scorecard"].dropna()) <= names:
        found = None  # stored by another scorecard: score now with the one asked for
    if found is None:
        return score(wh, as_of_date(day), spec)
    if found.measures.empty:
        found.measures = score(wh, as_of_date(day), spec).measures
    found.calibrations = {c.name: c.calibration for c in spec.scorecards if c.calibration is not None}
    return found


def explain_change(wh: Warehouse, account_id: str, since: AsOf, as_of: AsOf, scorecards=None, *,
                   stored: bool | None = None) -> Change:
    """Why ``account_id``'s total changed between ``since`` and ``as_of`` (each date as :func:`result_at`)."""
    require_account(wh, account_id)
    return attribute_change(result_at(wh, since, scorecards, stored=stored),
                            result_at(wh, as_of, scorecards, stored=stored), account_id)


def peer_targets(result: HealthResult, quantile: float = 0.75) -> pd.DataFrame:
    """Per scorecard and component, the score peers reach (the ``quantile`` of applicable component scores)."""
    comps = result.components.dropna(subset=["score"])
    return comps.groupby(["scorecard", "component"], as_index=False, dropna=False)["score"].quantile(quantile).rename(
        columns={"score": "target"})


IMPROVE_COLUMNS = ("account_id", "component", "score", "target", "weight_pct", "total_now", "total_if",
                   "uncapped_if", "gain")


def improvements(result: HealthResult, target: float | None = None) -> pd.DataFrame:
    """Every account's components below target with the total if each alone reached it (caps kept); within an
    account best gain first, then the larger uncapped total, then the lower score. Targets: ``target``, else the
    peers' 75th percentile per scorecard and component (:func:`peer_targets`)."""
    comps = result.components.dropna(subset=["score"])
    if target is None:
        comps = comps.merge(peer_targets(result), on=["scorecard", "component"], how="left")
    else:
        comps = comps.assign(target=float(target))
    comps = comps.loc[comps["target"] > comps["score"]]
    totals = result.scores[["account_id", "total", "raw_total", "cap"]].drop_duplicates("account_id")
    comps = comps.merge(totals, on="account_id", how="inner")
    raw_if = comps["raw_total"] + comps["weight_pct"] / 100 * (comps["target"] - comps["score"])
    comps = comps.assign(total_now=comps["total"], total_if=np.minimum(raw_if, comps["cap"].fillna(np.inf)),
                         uncapped_if=raw_if)  # uncapped_if: the total once the critical factor is resolved
    comps["gain"] = comps["total_if"] - comps["total_now"]
    cols = list(IMPROVE_COLUMNS)
    if result.calibrations:  # a fitted scorecard: the churn probability now and once the component improves, in %
        comps["churn_pct_now"] = _churn_pct(comps, "total_now", result.calibrations)
        comps["churn_pct_if"] = _churn_pct(comps, "total_if", result.calibrations)
        cols += ["churn_pct_now", "churn_pct_if"]
    return comps.sort_values(["account_id", "gain", "uncapped_if", "score"], ascending=[True, False, False, True],
                             ignore_index=True)[cols]


def _churn_pct(frame: pd.DataFrame, column: str, calibrations: dict) -> np.ndarray:
    out = np.full(len(frame), np.nan)
    for name, calibration in calibrations.items():
        mine = (frame["scorecard"] == name).to_numpy()
        out[mine] = 100.0 * churn_probability(frame.loc[mine, column].to_numpy(dtype="float64"), calibration)
    return out


def what_to_improve(result: HealthResult, account_id: str, target: float | None = None) -> pd.DataFrame:
    """Per component below target: the total if it alone reached the target (caps kept), best gain first."""
    hit = result.scores.loc[result.scores["account_id"] == account_id]
    if hit.empty:
        raise NotFoundError(f"account '{account_id}' has no health score", hint="check the account id and --as-of")
    mine = result.components.loc[result.components["account_id"] == account_id]
    if target is not None:
        comps = improvements(HealthResult(hit, mine, result.measures, result.calibrations), target)
    else:
        comps = improvements(result).query("account_id == @account_id")
    comps = comps.merge(_weakest_measures(result, account_id), on="component", how="left")
    return comps.drop(columns="account_id").reset_index(drop=True)


def _weakest_measures(result: HealthResult, account_id: str) -> pd.DataFrame:
    m = result.measures.loc[(result.measures["account_id"] == account_id)].dropna(subset=["score"])
    m = m.sort_values("score").drop_duplicates("component")
    return m.assign(weakest_measure=m["measure"])[["component", "weakest_measure"]]


def reasons(result: HealthResult, account_ids, *, below: float = 50.0, per_account: int = 2,
            critical_reasons: dict[str, str] | None = None) -> pd.Series:
    """A short text per account: the critical factor fired, then its weakest components below ``below``."""
    ids = pd.Index(account_ids)
    comps = result.components.loc[result.components["account_id"].isin(ids) & (result.components["score"] < below)]
    comps = comps.sort_values(["account_id", "score"]).groupby("account_id").head(per_account)
    weak = (comps["component"] + " " + comps["score"].round().astype(int).astype(str)).groupby(
        comps["account_id"]).agg(", ".join)
    crit = result.scores.set_index("account_id")["critical_factor"].reindex(ids)
    if critical_reasons:
        crit = crit.map(critical_reasons).fillna(crit)
    weak = weak.reindex(ids)
    text = crit.fillna("").str.cat(weak.fillna(""), sep="; ").str.strip("; ")
    return text.rename("reasons")


def critical_reasons(spec) -> dict[str, str]:
    """Name -> reason text of every critical factor of a scorecard set."""
    return {c.name: c.reason or c.name for card in spec.scorecards for c in card.critical}


def riskiest(result: HealthResult, spec, n: int = 10) -> pd.DataFrame:
    """The ``n`` accounts with the lowest totals (ARR breaks ties), with their main reasons (and ``churn_pct``, the
    calibrated probability of churn within the horizon in %, when the scorecard has a calibration)."""
    top = result.scores.dropna(subset=["total"]).sort_values(["total", "arr"], ascending=[True, False]).head(n)
    why = reasons(result, top["account_id"], critical_reasons=critical_reasons(spec))
    cols = ["account_id", "segment", "arr", "total", "grade"]
    out = top[cols].reset_index(drop=True)
    if "churn_probability" in top and top["churn_probability"].notna().any():  # a calibrated (fitted) scorecard
        out["churn_pct"] = 100.0 * top["churn_probability"].to_numpy(dtype="float64")
    return out.assign(reasons=why.to_numpy())


def grade_distribution(result: HealthResult) -> pd.DataFrame:
    """Accounts, share and ARR per grade."""
    s = result.scores.assign(grade=result.scores["grade"].fillna("n/a"))
    out = s.groupby("grade", as_index=False).agg(accounts=("account_id", "size"), arr=("arr", "sum"),
                                                 avg_total=("total", "mean"))
    out["share_pct"] = 100 * out["accounts"] / max(len(s), 1)
    order = {"red": 0, "yellow": 1, "green": 2}
    return out.sort_values("grade", key=lambda g: g.map(order).fillna(3), ignore_index=True)
