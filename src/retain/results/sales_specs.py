"""The sales domain's stored results (:mod:`retain.sales`), declared once like every other result."""

from __future__ import annotations

from retain.results.model import Grain, ResultColumn, ResultSpec
from retain.schema.model import DType

S, I, F, B, D = DType.STRING, DType.INT, DType.FLOAT, DType.BOOL, DType.DATE


def c(name: str, type_: DType, meaning: str, **kw) -> ResultColumn:
    return ResultColumn(name, type_, meaning, **kw)


def k(name: str, type_: DType, meaning: str, **kw) -> ResultColumn:
    return ResultColumn(name, type_, meaning, nullable=False, **kw)


GOAL_COLUMNS = (
    k("goal_id", S, "The goal."),
    c("metric", S, "What is counted (retain.sales.goal_spec.GoalMetric)."),
    c("member_id", S, "Person the goal belongs to (null for a team or the company)."),
    c("team", S, "Team the goal belongs to (null for a person or the company)."),
    c("product_id", S, "Product counted (units and add-on share goals)."),
    c("period_start_on", D, "First day of the goal's period."),
    c("period_end_on", D, "Last day of the goal's period."),
    c("target", F, "Target."),
    c("actual", F, "Reached by `as_of`."),
    c("pace", F, "Where the goal should be by `as_of` (target x share of the period elapsed)."),
    c("attainment", F, "Actual / target."),
    c("projected", F, "Projected value at the period's end at the current rate."),
    c("projected_low", F, "Lower end of the projection's 90 % interval."),
    c("projected_high", F, "Upper end of the projection's 90 % interval."),
    c("projected_attainment", F, "Projected / target."),
    c("description", S, "The goal in words."),
)

SALES = (
    ResultSpec(
        "opportunity_scores", "Each open opportunity's P(win), stage benchmark, below-benchmark flag, reasons and "
        "deal warnings.", Grain.OPPORTUNITY, ("opportunity_id",), "retain.sales.pipeline.score_pipeline", (
            k("opportunity_id", S, "The opportunity."),
            c("account_id", S, "Account (null for a prospect)."),
            c("owner_id", S, "Rep owning the deal."),
            c("name", S, "Deal name."),
            c("opportunity_type", S, "new_business, add_on or renewal."),
            c("product_id", S, "Main product."),
            c("stage", S, "Stage at `as_of` (from the stage history)."),
            c("stage_position", F, "Mean position of the stage in the funnel (0 = first), to tell a regression."),
            c("amount", F, "Deal value at `as_of`."),
            c("close_on", D, "Expected close date as last recorded by `as_of`."),
            c("p_win", F, "Calibrated probability the deal is won."),
            c("crm_probability", F, "The CRM's own probability at `as_of` (null when the export has none)."),
            c("forecast_category", S, "CRM forecast category as known at `as_of` (latest stage-history category, "
                                      "else the opportunity's): commit, best_case, pipeline, omitted, closed; null "
                                      "when the export has none."),
            c("close_date_pushes", F, "Times the expected close date moved later, as known at `as_of`."),
            c("days_pushed", F, "Days those pushes added up to."),
            c("stage_benchmark", F, "Historical win rate of deals in this stage."),
            c("below_benchmark", B, "P(win) under the stage's win rate by more than the margin (10 points)."),
            c("reasons", S, "Why, in plain words (semicolon-separated)."),
            c("warnings", S, "Deal warning codes, comma-separated (retain.sales.warnings.DealWarning)."),
            c("warning_count", I, "How many warnings fire."),
            c("days_in_stage", F, "Days in the current stage."),
            c("typical_days_in_stage", F, "Median days deals stayed in this stage."),
            c("days_since_activity", F, "Days since the last activity on the deal."),
        )),
    ResultSpec(
        "sales_goals", "Each personal goal's progress as of the day: actual, pace, projected attainment with an "
        "interval.", Grain.GROUP, ("goal_id",), "retain.sales.goals.progress", GOAL_COLUMNS),
    ResultSpec(
        "sales_team_goals", "Team and company goals' progress (the seed's product goal among them).", Grain.GROUP,
        ("goal_id",), "retain.sales.goals.progress", GOAL_COLUMNS),
    ResultSpec(
        "sales_bookings", "Won ARR, units and deals per month, rep, team, opportunity type and product.",
        Grain.PERIOD, ("month", "owner_id", "opportunity_type", "product_id"), "retain.sales.bookings.bookings", (
            k("month", S, "Month closed, e.g. `2026-10`."),
            k("owner_id", S, "Rep owning the deals (`unassigned` when none)."),
            c("team", S, "The rep's team."),
            k("opportunity_type", S, "new_business, add_on or renewal."),
            k("product_id", S, "Product."),
            c("arr", F, "ARR won."), c("units", F, "Units won."), c("deals", I, "Deals won."),
        )),
    ResultSpec(
        "sales_deals", "Deals closed in the last 12 months, won and lost: the Sales page's drill-down.",
        Grain.OPPORTUNITY, ("opportunity_id",), "retain.sales.bookings.closed_deals", (
            k("opportunity_id", S, "The deal."), c("account_id", S, "Account (null for a prospect)."),
            c("name", S, "Deal name."), c("opportunity_type", S, "new_business, add_on or renewal."),
            c("loss_reason", S, "Why it was lost."), c("competitor", S, "Main competitor."),
            c("owner_id", S, "Rep."), c("team", S, "Team."), c("product_id", S, "Product."),
            c("month", S, "Month closed."), c("closed_on", D, "Day closed."), c("amount", F, "Amount."),
            c("units", F, "Units."), c("is_won", B, "Won."),
        )),
    ResultSpec(
        "sales_forecast", "Expected bookings per period and team: CRM categories, Σ P(win) x amount with a "
        "simulation interval, slipped deals, coverage against the goal.", Grain.PERIOD,
        ("period", "team"), "retain.sales.forecast.forecast", (
            k("period", S, "Quarter the deals are expected to close in (by close date), e.g. `2026-Q4`."),
            k("team", S, "Team of the deal owners (`all` for the company)."),
            c("open_deals", I, "Open deals."),
            c("pipeline", F, "Open amount."),
            c("commit", F, "Amount in the CRM's commit category as known at `as_of` (null when the export has no "
                           "forecast categories)."),
            c("best_case", F, "Amount in the best-case category."),
            c("pipeline_category", F, "Amount in the pipeline category."),
            c("omitted", F, "Amount omitted from the CRM forecast."),
            c("expected", F, "Model's expected bookings: Σ P(win) x amount."),
            c("expected_low", F, "5th percentile of simulated bookings."),
            c("expected_high", F, "95th percentile of simulated bookings."),
            c("crm_expected", F, "Σ CRM probability x amount (the CRM-weighted forecast)."),
            c("slipped_deals", I, "Open deals whose close date has passed."),
            c("slipped_amount", F, "Their amount."),
            c("goal", F, "ARR goals of the period for the team (null when none)."),
            c("won_to_date", F, "ARR won so far in the period."),
            c("coverage", F, "Open pipeline / (goal - won so far) (null without a goal)."),
        )),
    ResultSpec(
        "sales_backtest", "The forecast as it would have stood at the start of each past quarter against what "
        "was won, beside the CRM-probability-weighted forecast.", Grain.PERIOD, ("period",),
        "retain.sales.forecast.backtest", (
            k("period", S, "Quarter, e.g. `2026-Q1`."),
            c("open_deals", I, "Deals open at the quarter's start."),
            c("actual_won", F, "Amount of those deals that was won."),
            c("model_forecast", F, "Σ P(win) x amount from a model trained on what was known at the start."),
            c("crm_forecast", F, "Σ CRM probability x amount."),
            c("stage_forecast", F, "Σ stage win rate x amount."),
            c("model_error_pct", F, "(model - actual) / actual."),
            c("crm_error_pct", F, "(CRM - actual) / actual."),
            c("stage_error_pct", F, "(stage - actual) / actual."),
        )),
    ResultSpec(
        "sales_model_check", "The opportunity model against the CRM probability and the stage-only baseline on past "
        "quarters: AUC and Brier with 95 % intervals.", Grain.GROUP, ("method",),
        "retain.sales.scores.validate", (
            k("method", S, "model, crm_probability, stage_only (and the candidate not chosen)."),
            c("auc", F, "ROC AUC."), c("auc_low", F, "2.5th percentile."), c("auc_high", F, "97.5th percentile."),
            c("brier", F, "Brier score (lower is better)."), c("brier_low", F, "2.5th percentile."),
            c("brier_high", F, "97.5th percentile."), c("rows", I, "Deal snapshots scored."),
        )),
    ResultSpec(
        "win_loss", "Win rates and loss reasons by dimension (segment, product, type, period, competitor), with "
        "Wilson intervals; renewal outcomes beside churn reasons.", Grain.GROUP,
        ("dimension", "dimension_value", "reason"), "retain.sales.winloss.win_loss", (
            k("dimension", S, "segment, product, opportunity_type, period, competitor, renewal or churn."),
            k("dimension_value", S, "Value of the dimension."),
            k("reason", S, "Loss or churn reason (`all` for the win-rate row)."),
            c("closed", I, "Deals closed (or churn events for `churn`)."),
            c("won", I, "Deals won."),
            c("share", F, "Win rate (reason `all`) or share of losses with this reason."),
            c("share_low", F, "Wilson 95 % interval, low."),
            c("share_high", F, "Wilson 95 % interval, high."),
            c("amount", F, "Amount concerned."),
        )),
    ResultSpec(
        "sales_capacity", "Per team and month: pipeline saturation against historical capacity, conversion, and "
        "the new-vs-existing call.", Grain.PERIOD, ("team", "month"), "retain.sales.capacity.capacity", (
            k("team", S, "Team."), k("month", S, "Month, e.g. `2026-10`."),
            c("reps", I, "Reps with open deals."),
            c("open_deals_per_rep", F, "Open deals per rep at the month's end."),
            c("accounts_per_rep", F, "Accounts owned per rep."),
            c("capacity_per_rep", F, "Historical capacity: the 80th percentile of open deals per rep per month."),
            c("saturation", F, "Open deals per rep / capacity."),
            c("win_rate", F, "Deals won / closed in the last 90 days."),
            c("historical_win_rate", F, "Win rate over the whole history."),
            c("situation", S, "grow_new_business, keep_and_add, protect_existing."),
            c("advice", S, "The call in words with the figures behind it."),
        )),
)
