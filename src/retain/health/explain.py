"""Why a score changed and what would improve it.

**Why it changed.** The total is a sum of contributions, ``points = weight_pct / 100 * score`` per component
(and per measure inside it, which sum to the component's points), plus the effect of critical caps. Between two
dates each contribution's change is split into a *score effect* (mean weight x score change) and a *weight effect*
(mean score x weight change, e.g. a measure that became not applicable re-weights the others). The parts sum
exactly to the change of the total.

**What to improve.** For each component: the total if that component alone reached a target (by default the
75th percentile of peers on the same scorecard), keeping the others and the critical caps.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches

import numpy as np
import pandas as pd

from retain.errors import NotFoundError
from retain.health.history import resolve, score
from retain.health.scoring import HealthResult
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
    comps = _pick(before.components, account_id, ["component"]).merge(
        _pick(after.components, account_id, ["component"]), on="component", how="outer", suffixes=suffixes)
    meas = _pick(before.measures, account_id, ["component", "measure"]).merge(
        _pick(after.measures, account_id, ["component", "measure"]), on=["component", "measure"], how="outer",
        suffixes=suffixes)
    critical = (rows[1]["total"] - rows[1]["raw_total"]) - (rows[0]["total"] - rows[0]["raw_total"])
    comps = _decompose(comps).sort_values("change", key=np.abs, ascending=False, ignore_index=True)
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


def explain_change(wh: Warehouse, account_id: str, since: AsOf, as_of: AsOf, scorecards=None) -> Change:
    """Why ``account_id``'s total changed between ``since`` and ``as_of`` (both computed point in time)."""
    require_account(wh, account_id)
    spec = resolve(scorecards)
    return attribute_change(score(wh, as_of_date(since), spec), score(wh, as_of_date(as_of), spec), account_id)


def peer_targets(result: HealthResult, quantile: float = 0.75) -> pd.DataFrame:
    """Per scorecard and component, the score peers reach (the ``quantile`` of applicable component scores)."""
    comps = result.components.dropna(subset=["score"])
    return comps.groupby(["scorecard", "component"], as_index=False)["score"].quantile(quantile).rename(
        columns={"score": "target"})


def what_to_improve(result: HealthResult, account_id: str, target: float | None = None) -> pd.DataFrame:
    """Per component below target: the total if it alone reached the target (caps kept), best gain first."""
    hit = result.scores.loc[result.scores["account_id"] == account_id]
    if hit.empty:
        raise NotFoundError(f"account '{account_id}' has no health score", hint="check the account id and --as-of")
    row = hit.iloc[0]
    comps = result.components.loc[result.components["account_id"] == account_id].dropna(subset=["score"])
    if target is None:
        comps = comps.merge(peer_targets(result), on=["scorecard", "component"], how="left")
    else:
        comps = comps.assign(target=float(target))
    comps = comps.loc[comps["target"] > comps["score"]].copy()
    raw_if = row["raw_total"] + comps["weight_pct"] / 100 * (comps["target"] - comps["score"])
    cap = row["cap"] if pd.notna(row["cap"]) else np.inf
    comps["total_now"] = row["total"]
    comps["total_if"] = np.minimum(raw_if, cap)
    comps["uncapped_if"] = raw_if  # what the total would become once the critical factor is resolved
    comps["gain"] = comps["total_if"] - comps["total_now"]
    weakest = _weakest_measures(result, account_id)
    comps = comps.merge(weakest, on="component", how="left")
    cols = ["component", "score", "target", "weight_pct", "total_now", "total_if", "uncapped_if", "gain",
            "weakest_measure"]
    return comps.sort_values(["gain", "uncapped_if", "score"], ascending=[False, False, True], ignore_index=True)[cols]


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
    """The ``n`` accounts with the lowest totals (ARR breaks ties), with their main reasons."""
    top = result.scores.dropna(subset=["total"]).sort_values(["total", "arr"], ascending=[True, False]).head(n)
    why = reasons(result, top["account_id"], critical_reasons=critical_reasons(spec))
    cols = ["account_id", "segment", "arr", "total", "grade"]
    return top[cols].reset_index(drop=True).assign(reasons=why.to_numpy())


def grade_distribution(result: HealthResult) -> pd.DataFrame:
    """Accounts, share and ARR per grade."""
    s = result.scores.assign(grade=result.scores["grade"].fillna("n/a"))
    out = s.groupby("grade", as_index=False).agg(accounts=("account_id", "size"), arr=("arr", "sum"),
                                                 avg_total=("total", "mean"))
    out["share_pct"] = 100 * out["accounts"] / max(len(s), 1)
    order = {"red": 0, "yellow": 1, "green": 2}
    return out.sort_values("grade", key=lambda g: g.map(order).fillna(3), ignore_index=True)
