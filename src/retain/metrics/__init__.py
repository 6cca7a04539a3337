"""Retention and revenue metrics: decomposed logo retention, MRR movements, cohorts, survival and more.

Every function takes a :class:`~retain.warehouse.Warehouse` and ``as_of`` and returns an unexecuted Ibis
expression (or, for the few statistics computed on compact summaries, a small DataFrame).
"""

from retain.metrics.dimensions import Dimension, parse_dimension
from retain.metrics.periods import Grain, parse_grain, scale_churn_rate
from retain.metrics.retention import decomposition, logo_retention, revenue_retention, unit_periods

__all__ = [
    "Dimension", "Grain", "decomposition", "logo_retention", "parse_dimension", "parse_grain",
    "revenue_retention", "scale_churn_rate", "unit_periods",
]
