"""The sales section of the main job: goal attainment, the scored pipeline, the forecast and its backtest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from retain.sales.bookings import bookings, closed_deals
from retain.sales.capacity import capacity
from retain.sales.forecast import backtest, forecast, mean_abs_error
from retain.sales.goal_spec import GoalMetric
from retain.sales.goals import all_goals, progress
from retain.sales.pipeline import ScoredPipeline, score_pipeline, store
from retain.sales.scores import ScoreSettings
from retain.sales.winloss import attributes, win_loss
from retain.warehouse import Warehouse


@dataclass(frozen=True)
class SalesSection:
    """What the sales section found as of a day (empty frames when the warehouse holds no opportunities)."""

    as_of: dt.date
    goals: pd.DataFrame
    open_deals: int = 0
    below: pd.DataFrame = field(default_factory=pd.DataFrame)
    model_check: pd.DataFrame = field(default_factory=pd.DataFrame)
    forecast: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest_error: dict[str, float] = field(default_factory=dict)
    capacity: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()

    @property
    def product_goals(self) -> pd.DataFrame:
        """Goals on a product's units and add-on share (the seed's example in the demo)."""
        keep = self.goals["metric"].isin([GoalMetric.UNITS.value, GoalMetric.ADD_ON_SHARE.value])
        return self.goals[keep]

    @property
    def current_goals(self) -> pd.DataFrame:
        """Goals whose period contains the day."""
        g = self.goals
        return g[(pd.to_datetime(g["period_end_on"]).dt.date >= self.as_of)]


def teams(wh: Warehouse) -> dict[str, str]:
    frame = wh.execute(wh.raw("team_members").select("member_id", "team"))
    return dict(zip(frame["member_id"], frame["team"].fillna("unassigned"), strict=True))


def won_deals(wh: Warehouse, day: dt.date) -> pd.DataFrame:
    o = wh.as_of("opportunities", day)
    o = o.filter(o.is_won.fill_null(False))
    return wh.execute(o.select("owner_id", "amount", closed_on=o.closed_at.date()))


def store_goals(wh: Warehouse, goals: pd.DataFrame, day: dt.date) -> None:
    """Personal goals (``sales_goals``, read by their owner's scope) apart from team and company goals
    (``sales_team_goals``, read by everyone)."""
    personal = goals["member_id"].notna()
    wh.store_result("sales_goals", goals[personal], day)
    wh.store_result("sales_team_goals", goals[~personal], day)


def score_deals(wh: Warehouse, day: dt.date, settings: ScoreSettings = ScoreSettings()) -> ScoredPipeline:
    """Score the open pipeline as of ``day`` (no validation: ``retain deals`` is quick) and store
    ``opportunity_scores``, which the ``deal_below_benchmark`` rule reads."""
    scored = score_pipeline(wh, day, settings, validate_model=False)
    store(wh, scored)
    return scored


def sales_section(wh: Warehouse, day: dt.date, settings: ScoreSettings = ScoreSettings()) -> SalesSection:
    """Score the open pipeline, track the goals and forecast as of ``day``; store every result."""
    goal_list, notes = all_goals(wh)
    goals = progress(wh, day, goal_list)
    store_goals(wh, goals, day)
    wh.store_result("sales_bookings", bookings(wh, day), day)
    wh.store_result("sales_deals", closed_deals(wh, day), day)
    if wh.count("opportunities") == 0:
        return SalesSection(day, goals, notes=(*notes, "no opportunities loaded: nothing to score"))
    scored: ScoredPipeline = score_pipeline(wh, day, settings)
    store(wh, scored)
    team_of = teams(wh)
    fc = forecast(scored.scores, day, team_of, goals, won_deals(wh, day), seed=settings.seed)
    wh.store_result("sales_forecast", fc, day)
    bt = backtest(scored.validation) if scored.validation is not None else pd.DataFrame()
    if len(bt):
        wh.store_result("sales_backtest", bt, day)
    if scored.note:
        notes.append(scored.note)
    check = scored.validation.table if scored.validation is not None else pd.DataFrame()
    wl = pd.concat([win_loss(wh, day), attributes(scored.history)], ignore_index=True)
    wh.store_result("win_loss", wl, day)
    cap = capacity(wh, day)
    if len(cap):
        wh.store_result("sales_capacity", cap, day)
    return SalesSection(day, goals, len(scored.scores), scored.below, check, fc, bt, mean_abs_error(bt), cap,
                        tuple(notes))
