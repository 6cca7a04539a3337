"""``retain health fit``: propose a scorecard learned from this company's own outcomes, saved as editable YAML.

A thin adapter over :func:`retain.health.fit.fit_scorecard`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from retain.cli.clock import chosen_day
from retain.cli.common import AsOfOption, console, show_frame, warehouse, working
from retain.health.fit import FittedScorecard, fit_scorecard
from retain.health.spec import CategoriesRule
from retain.models.outcomes import HORIZONS

health_app = typer.Typer(help="Health scorecards fitted to your outcomes.", no_args_is_help=True)


def _horizon(value: int | None) -> int | None:
    if value is not None and value not in HORIZONS:
        raise typer.BadParameter(f"{value} is not one of {', '.join(map(str, HORIZONS))} (days)")
    return value


def _points(scoring) -> str:
    """A measure's learned points in one line: bands ``<5: 0 | 5-9: 40 | >=9: 100`` or categories
    ``Month-to-month: 0 | One year: 71 | other: 40``."""
    if isinstance(scoring, CategoriesRule):
        parts = [f"{value}: {points:g}" for value, points in scoring.points.items()]
        return " | ".join([*parts, *([f"other: {scoring.other:g}"] if scoring.other is not None else [])])
    return _bands(scoring.bands)


def _bands(bands) -> str:
    parts = []
    for b in bands:
        lo = "" if b.min is None else f"{b.min:g}"
        hi = "" if b.max is None else f"{b.max:g}"
        where = f"<{hi}" if not lo else (f">={lo}" if not hi else f"{lo}-{hi}")
        parts.append(f"{where}: {b.score:g}")
    return " | ".join(parts)


def components_frame(fitted: FittedScorecard) -> pd.DataFrame:
    """One row per measure: component, measure, its share of the total (%) and its points per band or value."""
    total = sum(m.weight for c in fitted.card.components for m in c.measures) or 1.0
    return pd.DataFrame([{
        "component": c.name, "measure": m.name, "weight_pct": 100.0 * m.weight / total,
        "points": _points(m.scoring)} for c in fitted.card.components for m in c.measures])


def show_fit(fitted: FittedScorecard) -> None:
    """Print what was learned: observations, points and weights, calibration, grades, validation."""
    card, obs, v = fitted.card, fitted.observations, fitted.validation
    console.print(f"fitted on {fitted.rows:,} observations of customers at {len(obs.dates)} date(s), "
                  f"{obs.churned_accounts} churned accounts, churn within {obs.horizon_days} days "
                  f"(outcomes from {', '.join(obs.source) or 'none'}; {obs.reason})", highlight=False)
    show_frame(components_frame(fitted), title="Points per band or value and weight (% of the total)",
               floatfmt="{:,.1f}")
    points = [(p.total, p.probability) for p in card.calibration.points]
    console.print(f"health total -> probability of churn within {obs.horizon_days} days: "
                  + ", ".join(f"{t:g}: {100 * q:.1f}%" for t, q in points), highlight=False)
    red, green = card.grades.red_below, card.grades.green_from
    console.print(f"grades: red below {red:g} (churn probability at least twice the average), green from {green:g} "
                  f"(below the average: {100 * fitted.rows_churn_rate:.1f}%)", highlight=False)
    line = (f"out-of-sample ({v.design}; {v.rows:,} rows, {v.positives} churned): AUC {v.auc:.3f} "
            f"[{v.auc_ci[0]:.3f}, {v.auc_ci[1]:.3f}] vs plain logistic regression {v.auc_logistic:.3f} "
            f"[{v.auc_logistic_ci[0]:.3f}, {v.auc_logistic_ci[1]:.3f}]")
    style = "yellow" if v.gap > 0.03 else "green"
    console.print(f"[{style}]{line}[/{style}]", highlight=False, soft_wrap=True)
    if v.gap > 0.03:
        console.print("[yellow]the scorecard ranks more than 0.03 AUC below the logistic regression: its bands are "
                      "coarser than this data allows; consider `retain train` for predictions[/yellow]")


@health_app.command("fit")
def fit_cmd(ctx: typer.Context, as_of: str = AsOfOption,
            horizon: int = typer.Option(None, "--horizon", callback=_horizon,
                                        help="Days the churn outcome looks ahead: 30, 60, 90, 180 or 365 "
                                             "(default: chosen from the data's span)."),
            out: Path = typer.Option(Path("fitted_scorecard.yaml"), "--out", "-o",
                                     help="Where to write the scorecard YAML.")) -> None:
    """Learn a health scorecard from your outcomes: monotone points per band, weights, calibration, grades."""
    wh = warehouse(ctx)
    day = chosen_day(wh, as_of)
    with working(f"fitting a health scorecard to the outcomes as of {day}"):
        fitted = fit_scorecard(wh, day, horizon)
    show_fit(fitted)
    out.write_text(fitted.to_yaml(), encoding="utf-8")
    console.print(f"wrote {out}: check it with `retain validate {out}`, score with "
                  f"`retain score --scorecard {out}`", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(health_app, name="health")
