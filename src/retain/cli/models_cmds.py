"""``retain backtest | train | predict | survey-insight | adoption``: prediction from the command line.

Thin adapters over :mod:`retain.models.pipeline` and friends; ``main_job`` is the prediction section of
``retain run``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from retain.cli.clock import chosen_day
from retain.cli.common import (
    AsOfOption,
    OutOption,
    console,
    export,
    one_of,
    parse_day,
    show_frame,
    warehouse,
    working,
)
from retain.models import pipeline
from retain.models.adoption import AdoptionTiers
from retain.models.dataset import data_start, time_split
from retain.models.survey_insight import referral_timing, score_outcomes
from retain.schema import table as table_spec
from retain.warehouse import Warehouse, as_of_date
from retain.warehouse.names import with_names

MAIN_JOB_STEP_DAYS = 60  # snapshots every 60 days keep the main job quick; `retain backtest` uses 30
ModelDirOption = typer.Option(pipeline.DEFAULT_MODEL_DIR, "--model-dir", help="Where model files are kept.")




def _survey_type(value: str) -> str:
    return one_of(value.lower(), table_spec("survey_responses").column("survey_type").enum or ())


def show_backtest(result) -> None:
    show_frame(result.summary, title=f"Backtest on {len(result.test_dates)} held-back dates "
               f"({result.test_dates[0]} .. {result.test_dates[-1]}), churn within 90 days; "
               f"scorecard = {result.scorecard}", floatfmt="{:,.3f}")


def main_job(wh: Warehouse, as_of: dt.date) -> None:
    """Prediction section: backtest summary, then the 10 riskiest accounts by churn probability with reasons."""
    console.rule("[bold]Prediction: churn and upsell propensity[/bold]")
    cache = pipeline.FrameCache(wh, as_of)
    result = pipeline.backtest(wh, end=as_of, cache=cache, step_days=MAIN_JOB_STEP_DAYS)
    show_backtest(result)
    trained = pipeline.train(wh, as_of, cache=cache, step_days=MAIN_JOB_STEP_DAYS)
    prediction = pipeline.predict(wh, as_of, trained.churn, trained.upsell, trained.tiers)
    show_frame(pipeline.riskiest(prediction), title=f"The 10 accounts most likely to churn within 90 days "
               f"(as of {as_of})", floatfmt="{:,.0f}")


def register(app: typer.Typer) -> None:
    @app.command()
    def backtest(
        ctx: typer.Context,
        dates: list[str] = typer.Option(None, "--dates", help="Test dates (YYYY-MM-DD); default: the final year.",
                                        parser=parse_day, metavar="YYYY-MM-DD"),
        test_days: int = typer.Option(365, "--test-days", help="Days held back at the end (without --dates)."),
        out: Path = OutOption,
        reliability: bool = typer.Option(True, help="Show the reliability tables."),
    ) -> None:
        """Scorecard vs learned weights vs propensity model on past dates: AUC, lift, Brier, reliability."""
        wh = warehouse(ctx)
        with working("fitting and scoring the models on past dates"):
            result = pipeline.backtest(wh, end=chosen_day(wh, None), test_days=test_days,
                                       test_dates=[as_of_date(d) for d in dates] if dates else None)
        show_backtest(result)
        show_frame(result.weights, title=f"Suggested scorecard weights (AUC gain {result.auc_gain:+.3f})",
                   floatfmt="{:,.1f}")
        if result.calibration is not None:
            show_frame(result.calibration, title="Health score → probability (logistic, on the backtest dates)",
                       floatfmt="{:,.2f}")
        if reliability:
            for name, part in result.reliability.groupby("scorer", sort=False):
                show_frame(part.drop(columns="scorer"), title=f"Reliability: {name}", floatfmt="{:,.3f}")
        export(result.summary, out)

    @app.command()
    def train(ctx: typer.Context, as_of: str = AsOfOption, model_dir: Path = ModelDirOption) -> None:
        """Train the churn and upsell models and the adoption tiers on history up to a date; save them."""
        wh = warehouse(ctx)
        with working("training the churn and upsell models"):
            trained = pipeline.train(wh, chosen_day(wh, as_of))
        paths = pipeline.save(trained, model_dir)
        console.print(f"trained as of {trained.as_of} on {trained.churn.train_rows_:,} churn rows and "
                      f"{trained.upsell.train_rows_:,} upsell rows (spec {trained.churn.spec.hash}); "
                      f"saved {', '.join(str(p) for p in paths)}")

    @app.command()
    def predict(ctx: typer.Context, as_of: str = AsOfOption, out: Path = OutOption,
                model_dir: Path = ModelDirOption) -> None:
        """Score every customer with the saved models; store the result for the dashboard."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        churn, upsell, tiers = pipeline.load_models(model_dir)
        with working(f"scoring every customer as of {day}"):
            prediction = pipeline.predict(wh, day, churn, upsell, tiers)
        riskiest = wh.execute(with_names(wh, pipeline.riskiest(prediction, 20), as_of=day))
        show_frame(riskiest, title=f"Most likely to churn within 90 days (as of {day})")
        export(prediction, out)

    @app.command("survey-insight")
    def survey_insight(ctx: typer.Context, as_of: str = AsOfOption,
                       survey_type: str = typer.Option("nps", parser=_survey_type, help="nps, csat or ces."),
                       out: Path = OutOption) -> None:
        """What each survey score meant later: churn, expansion and extra purchases; when promoters refer."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        with working(f"following {survey_type.upper()} responses to their outcomes"):
            table = score_outcomes(wh, day, survey_type)
        show_frame(table, title=f"{survey_type.upper()} score → later outcomes (95% intervals)", floatfmt="{:,.3f}")
        if survey_type == "nps":
            show_frame(referral_timing(wh, day), title="When promoters refer (days after the survey)",
                       floatfmt="{:,.3f}")
        export(table, out)

    @app.command()
    def adoption(ctx: typer.Context, as_of: str = AsOfOption, out: Path = OutOption) -> None:
        """Adoption tiers with thresholds learned from retention, and each tier's retention rate."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        split = time_split(data_start(wh), day, horizon_days=90, test_days=0)
        with working("learning adoption tiers from retention"):
            frame = pipeline.FrameCache(wh, day).get(split.train + split.validation)
            tiers = AdoptionTiers().fit(frame)
        table = tiers.table(frame)
        show_frame(table, title=f"Adoption tiers (index cut points {tiers.cuts_[0]:.0f} and {tiers.cuts_[1]:.0f})",
                   floatfmt="{:,.3f}")
        export(table, out)
