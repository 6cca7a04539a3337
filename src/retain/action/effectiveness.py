"""Playbook effectiveness: for each play, what happened afterwards, against comparable accounts that got no play.

**Episodes.** An episode is a rule firing on an account on a day, for a rule with a playbook. It comes from one of
two places (:class:`EpisodeSource`):

- ``ctas``: the CTAs in the application database old enough to judge (opened ``days`` or more before the end). The
  play *ran* (treated) when at least one of its playbook tasks was checked off; the CTAs of the same rule whose
  tasks were all left undone (or that were dismissed) are the untreated.
- ``backtest``: the rules replayed monthly over the past (:mod:`retain.action.backtest`), a new firing per
  episode; treated when the team touched the account (a call, meeting, QBR, executive meeting or training, not
  internal) within ``act_days`` after the firing, untreated otherwise. For a short live history.

**Comparable accounts.** Exact matching on strata fixed at the firing day: the same rule (the same signal), the
health band at firing (below 40, 40-70, 70 and above, unknown) and the ARR tertile of the episodes. Only strata
with both treated and untreated episodes are kept; untreated rates are weighted by the treated count of each
stratum, so the difference is the effect on the treated (ATT).

**Landmark.** A play can only be run on an account still there, so both groups are measured from the same
landmark: episodes whose account was out of service at ``day + act_days`` are dropped from both (otherwise the
treated would look better just for having survived long enough to be treated).

**Outcomes** as of ``day + days``, computed in the engine from what was known by then (one query for all
episodes): ``churned`` (in service at firing, not at ``day + days``), ``renewed`` (a contract term ending within the
window, and still in service at its end; only for episodes with such a term), ``health_recovered`` (health below
:data:`RECOVERED_AT` at firing, at or above it at ``day + days``; churn counts as not recovered; only for
episodes with health below it at firing).

**Intervals.** Each group's rate with a Wilson 95 % interval; the difference (treated - untreated, stratified)
with a 95 % percentile interval from a seeded stratified bootstrap (a resample of ``n`` binary outcomes with ``k``
ones is Binomial(n, k/n), drawn per stratum, so it is exact and vectorised). Fewer than :data:`MIN_PER_GROUP`
matched episodes in either group: *too few to tell*, whatever the numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from retain.action import spec as s
from retain.errors import ArgumentError, WarehouseError
from retain.metrics.dimensions import active_on, subscriptions
from retain.state.actions import Cta, CtaTask, TaskStatus
from retain.warehouse import Warehouse

MIN_PER_GROUP = 20
RECOVERED_AT = 70.0  # health total of a green account
HEALTH_BANDS = (40.0, 70.0)
HEALTH_MAX_AGE_DAYS = 35
TOUCH_TYPES = ("call", "meeting", "qbr", "executive_meeting", "training")
BOOTSTRAP = 2000
Z95 = 1.959963984540054
EPISODE_COLUMNS = ("account_id", "day", "rule", "playbook", "treated")
COLUMNS = ("playbook", "outcome", "treated", "treated_rate", "treated_low", "treated_high", "untreated",
           "untreated_rate", "difference", "difference_low", "difference_high", "strata", "verdict")


class EpisodeSource(StrEnum):
    AUTO = "auto"  # the CTAs when enough are old enough to judge, else the backtest
    CTAS = "ctas"
    BACKTEST = "backtest"


class Outcome(StrEnum):
    """What happened within the window, and whether more of it is good."""

    HEALTH_RECOVERED = "health_recovered"
    RENEWED = "renewed"
    CHURNED = "churned"

    @property
    def good_when_higher(self) -> bool:
        return self is not Outcome.CHURNED


class Verdict(StrEnum):
    HELPS = "helps"
    HURTS = "hurts"
    NO_CLEAR_DIFFERENCE = "no clear difference"
    TOO_FEW = "too few to tell"


@dataclass(frozen=True)
class Effectiveness:
    """Per playbook and outcome, the treated and untreated rates and their difference (:data:`COLUMNS`); the
    episodes with their strata and outcomes; notes on the source and what was dropped."""

    source: EpisodeSource
    days: int
    table: pd.DataFrame
    episodes: pd.DataFrame
    notes: list[str] = field(default_factory=list)


# -- intervals ----------------------------------------------------------------------------------------------------

def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (nan, nan when n is 0)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def stratified_difference(strata: pd.DataFrame, *, seed: int = 0, draws: int = BOOTSTRAP
                          ) -> tuple[float, float, float]:
    """The treated-weighted difference of rates over strata (columns ``nt, kt, nc, kc``) and its 95 % bootstrap
    percentile interval (per stratum, treated and untreated counts redrawn as binomials)."""
    nt, kt = strata["nt"].to_numpy(int), strata["kt"].to_numpy(int)
    nc, kc = strata["nc"].to_numpy(int), strata["kc"].to_numpy(int)
    w = nt / nt.sum()
    point = float(np.sum(w * (kt / nt - kc / nc)))
    rng = np.random.default_rng(seed)
    bt = rng.binomial(nt, kt / nt, size=(draws, len(nt))) / nt
    bc = rng.binomial(nc, kc / nc, size=(draws, len(nc))) / nc
    diffs = (bt - bc) @ w
    low, high = np.quantile(diffs, [0.025, 0.975])
    return point, float(low), float(high)


def verdict(outcome: Outcome, treated: int, untreated: int, low: float, high: float) -> Verdict:
    if treated < MIN_PER_GROUP or untreated < MIN_PER_GROUP:
        return Verdict.TOO_FEW
    if low > 0:
        return Verdict.HELPS if outcome.good_when_higher else Verdict.HURTS
    if high < 0:
        return Verdict.HURTS if outcome.good_when_higher else Verdict.HELPS
    return Verdict.NO_CLEAR_DIFFERENCE


# -- episodes -----------------------------------------------------------------------------------------------------

def episodes_from_ctas(db: Session, end: dt.date, days: int) -> pd.DataFrame:
    """CTAs with a playbook opened ``days`` or more before ``end``; treated when a task of theirs was done."""
    done = (select(CtaTask.cta_id, func.count().label("done")).where(CtaTask.status == TaskStatus.DONE.value)
            .group_by(CtaTask.cta_id).subquery())
    rows = db.execute(select(Cta.account_id, Cta.opened_on, Cta.rule, Cta.playbook, done.c.done)
                      .outerjoin(done, done.c.cta_id == Cta.id)
                      .where(Cta.playbook.is_not(None), Cta.opened_on <= end - dt.timedelta(days=days))).all()
    frame = pd.DataFrame(rows, columns=["account_id", "day", "rule", "playbook", "done"])
    frame["treated"] = frame["done"].fillna(0).astype(int) > 0
    return frame[list(EPISODE_COLUMNS)]


def episodes_from_backtest(wh: Warehouse, end: dt.date, days: int, *, months: int = 12, act_days: int = 14,
                           config: s.ActionConfig | str | Path | None = None) -> pd.DataFrame:
    """New firings of rules with a playbook in the replay, judged ones only; treated when touched within
    ``act_days`` (one engine query for the touches)."""
    from retain.action.backtest import backtest

    if not isinstance(config, s.ActionConfig):
        config = s.load_rules(config)
    plays = {r.name: r.playbook for r in config.rules.enabled if r.playbook}
    fired = backtest(wh, end, config, months=months).fired
    fired = fired[fired["new"] & fired["rule"].isin(list(plays))
                  & (pd.to_datetime(fired["day"]) <= pd.Timestamp(end - dt.timedelta(days=days)))]
    frame = fired[["account_id", "day", "rule"]].assign(playbook=fired["rule"].map(plays)).reset_index(drop=True)
    if frame.empty:
        return frame.assign(treated=pd.Series(dtype=bool))[list(EPISODE_COLUMNS)]
    touched = touched_within(wh, frame, act_days)
    frame["treated"] = frame.index.isin(touched)
    return frame[list(EPISODE_COLUMNS)]


def _episode_table(frame: pd.DataFrame, **offsets: int) -> ir.Table:
    """The episodes as a small engine table: ``episode`` (row number), ``account_id``, ``day`` and one date column
    per offset (``name=days`` after the day)."""
    day = pd.to_datetime(frame["day"])
    data = {"episode": np.arange(len(frame), dtype="int64"), "account_id": frame["account_id"].astype(str),
            "day": day.dt.date}
    data |= {name: (day + pd.Timedelta(days=n)).dt.date for name, n in offsets.items()}
    schema = {"episode": "int64", "account_id": "string", "day": "date"} | {name: "date" for name in offsets}
    return ibis.memtable(pd.DataFrame(data), schema=schema)


def touched_within(wh: Warehouse, frame: pd.DataFrame, act_days: int) -> set[int]:
    """Row numbers of the episodes whose account the team touched within ``act_days`` after the day."""
    ep = _episode_table(frame, until=act_days)
    a = wh.raw("activities")
    a = a.filter(a.account_id.notnull() & a.activity_type.isin(list(TOUCH_TYPES))
                 & (a.direction.isnull() | (a.direction != "internal")))
    j = ep.join(a, "account_id")
    on = j.occurred_at.date()
    j = j.filter((on > j.day) & (on <= j.until))
    return set(wh.execute(j.select("episode").distinct())["episode"].astype(int))


# -- outcomes -----------------------------------------------------------------------------------------------------

def _health_at(wh: Warehouse, ep: ir.Table, column: str, name: str) -> ir.Table | None:
    """Per episode, the stored health total at its latest date within ``HEALTH_MAX_AGE_DAYS`` before ``column``."""
    try:
        h = wh.raw_result("health_scores")
    except WarehouseError:
        return None
    h = h.select(account_id=h.account_id.cast("string"), h_on=h.as_of.cast("date"), total=h.total.cast("float64"))
    j = ep.join(h, "account_id")
    j = j.filter((j.h_on <= j[column]) & (j.h_on >= j[column] - ibis.interval(days=HEALTH_MAX_AGE_DAYS)))
    return j.group_by("episode").aggregate(**{name: j.total.argmax(j.h_on)})


def outcome_frame(wh: Warehouse, episodes: pd.DataFrame, end: dt.date, days: int, act_days: int) -> pd.DataFrame:
    """The episodes with ``in_service``, ``kept`` (in service at the landmark), ``health_before``, ``arr`` and the
    three outcomes (nullable where undefined), from one engine query."""
    ep = _episode_table(episodes, landmark=act_days, later=days)
    subs = subscriptions(wh, end)  # facts dated by ``later`` are known by then: point in time at every date used
    j = ep.join(subs, "account_id")
    now, mark, later = (active_on(j.started_on, j.ended_on, j[c]) for c in ("day", "landmark", "later"))
    held = j.group_by("episode").aggregate(arr=(j.mrr.sum(where=now) * 12).fill_null(0.0),
                                           held_now=now.any(), held_mark=mark.any(), held_later=later.any())
    raw = wh.raw("subscriptions")
    r = ep.join(raw, "account_id")
    due = (active_on(r.started_on, r.ended_on, r.day) & (r.term_end_on > r.day) & (r.term_end_on <= r.later))
    renewal = r.filter(due).group_by("episode").aggregate(renewal_due=ibis.literal(True))
    out = ep.left_join(held, "episode").select(ep, "arr", "held_now", "held_mark", "held_later")
    out = out.left_join(renewal, "episode").select(out, "renewal_due")
    for column, name in (("day", "health_before"), ("later", "health_after")):
        part = _health_at(wh, ep, column, name)
        if part is not None:
            out = out.left_join(part, "episode").select(out, name)
    frame = wh.execute(out).sort_values("episode").reset_index(drop=True)
    for name in ("health_before", "health_after"):
        if name not in frame:
            frame[name] = np.nan
    result = episodes.reset_index(drop=True).copy()
    flags = {c: frame[c].astype("boolean").fillna(False).astype(bool)
             for c in ("held_now", "held_mark", "held_later", "renewal_due")}
    result["arr"] = frame["arr"].fillna(0.0).to_numpy()
    result["in_service"], result["kept"] = flags["held_now"].to_numpy(), flags["held_mark"].to_numpy()
    result["health_before"] = frame["health_before"].astype(float).to_numpy()
    churned = flags["held_now"] & ~flags["held_later"]
    result[Outcome.CHURNED.value] = pd.array(churned.to_numpy(), dtype="boolean")
    result[Outcome.RENEWED.value] = pd.array(np.where(flags["renewal_due"], flags["held_later"], pd.NA),
                                             dtype="boolean")
    low = frame["health_before"].astype(float) < RECOVERED_AT
    after = frame["health_after"].astype(float)
    recovered = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    recovered[low & after.notna()] = after[low & after.notna()] >= RECOVERED_AT
    recovered[low & churned] = False
    result[Outcome.HEALTH_RECOVERED.value] = recovered.to_numpy()
    return result


def strata(frame: pd.DataFrame) -> pd.Series:
    """The stratum of each episode: rule, health band at firing, ARR tertile."""
    health = pd.cut(frame["health_before"], [-np.inf, *HEALTH_BANDS, np.inf], right=False,
                    labels=["red", "yellow", "green"]).astype(object).where(frame["health_before"].notna(), "unknown")
    cuts = np.unique(np.quantile(frame["arr"], [1 / 3, 2 / 3])) if len(frame) else []
    arr = np.searchsorted(cuts, frame["arr"].to_numpy(), side="right") if len(frame) else []
    return frame["rule"].astype(str) + "|" + health.astype(str) + "|arr" + pd.Series(arr, index=frame.index
                                                                                          ).astype(str)


# -- the measure ----------------------------------------------------------------------------------------------

def measure(wh: Warehouse, episodes: pd.DataFrame, end: dt.date, *, days: int = 90, act_days: int = 14,
            seed: int = 0, source: EpisodeSource = EpisodeSource.CTAS) -> Effectiveness:
    """Compare treated with untreated episodes per playbook and outcome (see the module docstring)."""
    notes: list[str] = []
    if episodes.empty:
        return Effectiveness(source, days, pd.DataFrame(columns=list(COLUMNS)), episodes,
                             [f"no episode old enough to judge ({days} days before {end})"])
    frame = outcome_frame(wh, episodes, end, days, act_days)
    n = len(frame)
    frame = frame[frame["in_service"] & frame["kept"]].copy()
    if len(frame) < n:
        notes.append(f"{n - len(frame):,} of {n:,} episodes dropped: out of service at firing or within "
                     f"{act_days} days (the landmark)")
    frame["stratum"] = strata(frame)
    rows = []
    for playbook, group in frame.groupby("playbook", sort=True):
        for outcome in Outcome:
            rows.append(_row(str(playbook), outcome, group, seed))
    return Effectiveness(source, days, pd.DataFrame(rows, columns=list(COLUMNS)), frame, notes)


def _row(playbook: str, outcome: Outcome, group: pd.DataFrame, seed: int) -> dict:
    defined = group[group[outcome.value].notna()]
    y, t = defined[outcome.value].astype(bool), defined["treated"].astype(bool)
    counts = pd.DataFrame({"stratum": defined["stratum"], "nt": t.astype(int), "kt": (y & t).astype(int),
                           "nc": (~t).astype(int), "kc": (y & ~t).astype(int)}).groupby("stratum").sum()
    matched = counts[(counts["nt"] > 0) & (counts["nc"] > 0)]
    row: dict = {"playbook": playbook, "outcome": outcome.value}
    nt, nc = int(matched["nt"].sum()), int(matched["nc"].sum())
    row |= {"treated": nt, "untreated": nc, "strata": len(matched)}
    if nt and nc:
        kt = int(matched["kt"].sum())
        w = matched["nt"] / nt
        row["treated_rate"] = kt / nt
        row["treated_low"], row["treated_high"] = wilson(kt, nt)
        row["untreated_rate"] = float((w * matched["kc"] / matched["nc"]).sum())
        row["difference"], row["difference_low"], row["difference_high"] = stratified_difference(matched, seed=seed)
        row["verdict"] = verdict(outcome, nt, nc, row["difference_low"], row["difference_high"]).value
    else:
        row["verdict"] = Verdict.TOO_FEW.value
    return row


def playbook_effectiveness(wh: Warehouse, db: Session | None, end: dt.date, *, days: int = 90,
                           source: EpisodeSource = EpisodeSource.AUTO, months: int = 12, act_days: int = 14,
                           rules: str | Path | None = None, seed: int = 0) -> Effectiveness:
    """:func:`measure` on the episodes of ``source`` (``auto``: the CTAs when each group has enough, else the
    backtest)."""
    if days < 7 or days > 730:
        raise ArgumentError(f"--days {days} is out of range", hint="judge outcomes 7 to 730 days after the firing")
    notes = []
    if source is not EpisodeSource.BACKTEST:
        if db is None:
            raise ArgumentError("the CTA source needs the application database")
        live = episodes_from_ctas(db, end, days)
        enough = live["treated"].sum() >= MIN_PER_GROUP and (~live["treated"]).sum() >= MIN_PER_GROUP
        if source is EpisodeSource.CTAS or enough:
            result = measure(wh, live, end, days=days, act_days=act_days, seed=seed, source=EpisodeSource.CTAS)
            return _with_notes(result, [f"episodes: {len(live):,} CTAs with a playbook opened by "
                                        f"{end - dt.timedelta(days=days)} (treated: a task done)"])
        notes.append(f"only {int(live['treated'].sum())} treated and {int((~live['treated']).sum())} untreated CTAs "
                     f"old enough to judge: using the backtest's replayed firings instead")
    episodes = episodes_from_backtest(wh, end, days, months=months, act_days=act_days, config=rules)
    notes.append(f"episodes: {len(episodes):,} new firings replayed over {months} months (treated: touched within "
                 f"{act_days} days)")
    result = measure(wh, episodes, end, days=days, act_days=act_days, seed=seed, source=EpisodeSource.BACKTEST)
    return _with_notes(result, notes)


def _with_notes(result: Effectiveness, notes: list[str]) -> Effectiveness:
    return Effectiveness(result.source, result.days, result.table, result.episodes, notes + result.notes)
