"""``retain backtest | train | predict | survey-insight | adoption``: prediction from the command line.

Thin adapters over :mod:`retain.models.pipeline` and friends; ``render_section`` prints the prediction section of
``retain run`` (computed by :mod:`retain.jobs.prediction`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer

from retain.cli.clock import chosen_day
from retain.cli.common import (
    AsOfOption,
    OutOption,
    console,
    export,
    one_of,
    show_frame,
    warehouse,
    working,
)
from retain.jobs.prediction import RISKIEST, PredictionSection
from retain.models import pipeline
from retain.models.adoption import AdoptionTiers
from retain.models.dataset import data_start, time_split
from retain.models.frame import ObservationFrequency
from retain.models.survey_insight import referral_timing, score_outcomes
from retain.schema import table as table_spec
from retain.warehouse.names import with_names

ModelDirOption = typer.Option(pipeline.DEFAULT_MODEL_DIR, "--model-dir", help="Where model files are kept.")




def _survey_type(value: str) -> str:
    return one_of(value.lower(), table_spec("survey_responses").column("survey_type").enum or ())


HORIZON_CHOICES = (30, 60, 90, 180, 365)


def _horizon(value: str) -> int:
    return int(one_of(value, [str(h) for h in HORIZON_CHOICES]))


def _frequency(value: str) -> ObservationFrequency:
    return ObservationFrequency(one_of(value.lower(), [f.value for f in ObservationFrequency]))


HorizonOption = typer.Option(None, "--horizon", parser=_horizon, metavar="DAYS",
                             help="Churn horizon in days (30, 60, 90, 180 or 365); default: chosen from the data.")
FrequencyOption = typer.Option(None, "--frequency", parser=_frequency, metavar="week|month",
                               help="How often observations are taken; default: chosen from the data.")


def comparison_table(summary: pd.DataFrame) -> pd.DataFrame:
    """model, AUC [95 % CI], lift@10 % [CI], Brier [CI], chosen — as text cells."""
    def cell(row, m, fmt):
        return f"{row[m]:{fmt}} [{row[m + '_low']:{fmt}}, {row[m + '_high']:{fmt}}]"
    return pd.DataFrame({
        "model": summary["model"],
        "AUC [95 % CI]": [cell(r, "auc", ".3f") for _, r in summary.iterrows()],
        "lift@10 % [CI]": [cell(r, "lift", ".2f") for _, r in summary.iterrows()],
        "Brier [CI]": [cell(r, "brier", ".4f") for _, r in summary.iterrows()],
        "chosen": np.where(summary["chosen"], "<- chosen", ""),
    })


def show_backtest(result) -> None:
    """Every test date with its rows and positives, then the comparison table and the choice."""
    dates = result.test_dates
    span = f"{dates[0]} .. {dates[-1]}" if dates else "none"
    console.print(f"churn within {result.horizon_days} days (outcome source: {result.source}); {result.note}")
    show_frame(result.per_date, title=f"Test dates ({len(dates)}: {span}): rows, positives, AUC per model",
               floatfmt="{:,.3f}", max_rows=200)
    show_frame(comparison_table(result.summary), title=f"Out-of-sample comparison ({result.scheme}, 95 % intervals "
               f"resample accounts); scorecard = {result.scorecard}")
    console.print(f"chosen: [bold]{result.chosen}[/bold] — {result.why}")
    for note in result.notes:
        console.print(f"[dim]{note}[/dim]")


def render_section(section: PredictionSection) -> None:
    """Prediction section of the main job (:mod:`retain.jobs.prediction`): the backtest summary, then the riskiest
    accounts by churn probability with reasons."""
    if section.backtest is not None:
        show_backtest(section.backtest)
    for note in section.notes:
        console.print(f"[dim]{note}[/dim]", highlight=False)
    within = f"within {section.horizon_days} days " if section.horizon_days else ""
    show_frame(section.riskiest, title=f"The {RISKIEST} accounts most likely to churn {within}"
               f"(as of {section.as_of})", floatfmt="{:,.0f}")


def register(app: typer.Typer) -> None:
    @app.command()
    def backtest(
        ctx: typer.Context,
        as_of: str = AsOfOption,
        horizon: int = HorizonOption,
        frequency: ObservationFrequency = FrequencyOption,
        out: Path = OutOption,
    ) -> None:
        """Validate logistic regression, the scorecard and LightGBM on past dates; compare and choose."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        with working("validating the churn models on past dates"):
            result = pipeline.backtest(wh, end=day, horizon_days=horizon, frequency=frequency)
        show_backtest(result)
        export(result.summary, out)

    @app.command()
    def train(ctx: typer.Context, as_of: str = AsOfOption, horizon: int = HorizonOption,
              frequency: ObservationFrequency = FrequencyOption, model_dir: Path = ModelDirOption) -> None:
        """Choose (by validation) and train the churn and upsell models and the adoption tiers; save them."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        with working("validating and training the churn and upsell models"):
            trained = pipeline.train(wh, day, horizon_days=horizon, frequency=frequency)
        paths = pipeline.save(trained, model_dir)
        for model in (trained.churn, trained.upsell):
            if model is not None:
                console.print(f"{model.outcome} within {model.horizon_days} days: {model.kind} on "
                              f"{model.train_rows_:,} rows ({model.summary.get('why', '')})")
        for note in trained.notes:
            console.print(f"[yellow]{note}[/yellow]")
        console.print(f"trained as of {trained.as_of}; saved {', '.join(str(p) for p in paths)}")

    @app.command()
    def predict(ctx: typer.Context, as_of: str = AsOfOption, out: Path = OutOption,
                model_dir: Path = ModelDirOption) -> None:
        """Score every customer with the saved models; store the result for the dashboard."""
        wh = warehouse(ctx)
        day = chosen_day(wh, as_of)
        churn, upsell, tiers = pipeline.load_models(model_dir)
        with working(f"scoring every customer as of {day}"):
            prediction = pipeline.predict(wh, day, churn, upsell, tiers)
        if churn is None:
            console.print("[yellow]no churn model (skipped at training): churn probabilities are empty[/yellow]")
        else:
            riskiest = wh.execute(with_names(wh, pipeline.riskiest(prediction, 20), as_of=day))
            show_frame(riskiest, title=f"Most likely to churn within {churn.horizon_days} days (as of {day})")
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
