"""The survey domain's stored results (:mod:`retain.surveys`), declared once like every other result.

All three are company-wide aggregates (no account, no person), published for the Surveys page.
"""

from __future__ import annotations

from retain.results.model import Grain, ResultColumn, ResultSpec
from retain.schema.model import DType

S, I, F, T = DType.STRING, DType.INT, DType.FLOAT, DType.TIMESTAMP


def c(name: str, type_: DType, meaning: str, **kw) -> ResultColumn:
    return ResultColumn(name, type_, meaning, **kw)


def k(name: str, type_: DType, meaning: str, **kw) -> ResultColumn:
    return ResultColumn(name, type_, meaning, nullable=False, **kw)


SURVEY_TYPE = k("survey_type", S, "nps, csat or ces.")

SURVEYS = (
    ResultSpec(
        "survey_trends", "NPS, CSAT and CES per month with 95 % intervals, from every answer in the warehouse "
        "(Retain's own and imported).", Grain.PERIOD, ("survey_type", "period"), "retain.surveys.analytics.trends", (
            SURVEY_TYPE,
            k("period", S, "Month, e.g. `2026-03`."),
            ResultColumn("period_start", T, "First day of the month.", zoned=False),
            c("responses", I, "Answers in the month."),
            c("promoters", I, "NPS 9-10, CSAT 4-5, CES 6-7."),
            c("detractors", I, "NPS 0-6, CSAT 1-2, CES 1-3."),
            c("mean_score", F, "Mean score."),
            c("score", F, "NPS in points (-100..100); for CSAT and CES the percent of promoters."),
            c("score_lo", F, "Lower bound of the 95 % interval of `score`."),
            c("score_hi", F, "Upper bound of the 95 % interval of `score`."),
        )),
    ResultSpec(
        "survey_outcomes", "Per NPS score: later churn (90 days) and expansion (180 days) rates with 95 % intervals "
        "(the survey-insight analysis).", Grain.GROUP, ("survey_type", "score"),
        "retain.models.survey_insight.score_outcomes", (
            SURVEY_TYPE,
            k("score", I, "Score given."),
            c("responses", I, "Answers whose windows are complete."),
            c("churn_90d", F, "Share whose account churned within 90 days."),
            c("churn_90d_lo", F, "Lower 95 % bound."), c("churn_90d_hi", F, "Upper 95 % bound."),
            c("expansion_180d", F, "Share whose account expanded within 180 days."),
            c("expansion_180d_lo", F, "Lower 95 % bound."), c("expansion_180d_hi", F, "Upper 95 % bound."),
            c("new_product_180d", F, "Share whose account bought a new product within 180 days."),
            c("new_product_180d_lo", F, "Lower 95 % bound."), c("new_product_180d_hi", F, "Upper 95 % bound."),
        )),
    ResultSpec(
        "survey_themes", "Recurring words of survey comments per language (English, Chinese) with their sentiment.",
        Grain.GROUP, ("language", "theme"), "retain.surveys.analytics.themes", (
            k("language", S, "en or zh."),
            k("theme", S, "The word (the usual form of its stem in English)."),
            c("mentions", I, "Comments that use it."),
            c("sentiment", F, "Mean sentiment of those comments, -1..1."),
            c("detractor_share", F, "Share of those comments from detractors."),
        )),
)
