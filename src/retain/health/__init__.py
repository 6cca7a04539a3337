"""Customer health: configurable scorecards, critical-risk overrides, history, explanations and owners' books.

Stable API (used by ``retain.models`` and the web dashboard):

- :func:`load_scorecard` (``None`` = the shipped default) -> :class:`ScorecardSet`
- :func:`score_accounts`, :func:`component_scores`, :func:`measure_scores` -> pandas frames as of a date
- :func:`score` -> all three at once (:class:`HealthResult`); :func:`store` saves them to the warehouse
- :func:`measure_values` (raw values, also model features), :func:`backfill` (weekly history)
- ``retain.health.fit``: :func:`~retain.health.fit.fit_scorecard` (a scorecard learned from the company's outcomes)
  and :func:`~retain.health.fit.choose_scorecard` (fitted, or the shipped default with a warning); imported from
  there, not here, so that scoring does not load scikit-learn
"""

from __future__ import annotations

import pandas as pd

from retain.health.books import books
from retain.health.explain import explain_change, what_to_improve
from retain.health.history import backfill, score, scores_at, store, stored_scores
from retain.health.measures import MEASURES, measure_values, measure_values_expr
from retain.health.outcomes import churn_by_grade, graded_outcomes
from retain.health.scoring import HealthResult, score_frame
from retain.health.spec import ScorecardSet, ScorecardSetSpec, ScorecardSpec
from retain.health.validate import Issue, load_scorecard, validate_file, validate_text
from retain.warehouse import AsOf, Warehouse


def score_accounts(wh: Warehouse, as_of: AsOf, scorecards=None) -> pd.DataFrame:
    """One row per scored account: account_id, as_of, scorecard, total, raw_total, cap, grade, critical_factor..."""
    return score(wh, as_of, scorecards).scores


def component_scores(wh: Warehouse, as_of: AsOf, scorecards=None) -> pd.DataFrame:
    """Long format: account_id, as_of, scorecard, component, score, weight_pct, nominal_weight_pct."""
    return score(wh, as_of, scorecards).components


def measure_scores(wh: Warehouse, as_of: AsOf, scorecards=None) -> pd.DataFrame:
    """Long format: account_id, as_of, scorecard, component, measure, key, value, score, weight_pct..."""
    return score(wh, as_of, scorecards).measures


__all__ = [
    "MEASURES", "HealthResult", "Issue", "ScorecardSet", "ScorecardSetSpec", "ScorecardSpec", "backfill", "books",
    "churn_by_grade", "component_scores", "explain_change", "graded_outcomes", "load_scorecard", "measure_scores",
    "measure_values", "measure_values_expr", "score", "score_accounts", "score_frame", "scores_at", "store",
    "stored_scores", "validate_file", "validate_text", "what_to_improve",
]
