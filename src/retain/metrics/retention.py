"""Logo and revenue retention with the decomposition the headline ratio hides.

For each period, every unit (an account; an account × product when split by product) that was a customer at some
point of it gets a status:

- ``retained``: customer at the open and at the close;
- ``churned``: customer at the open, not at the close;
- ``new``: customer at the close, not at the open, and never a customer before the period;
- ``reactivated``: customer at the close, not at the open, but a customer at some time before the period;
- ``came_and_went``: customer only inside the period (not at either snapshot).

So ``end = start - churned + new + reactivated`` and ``retained = start - churned``. Logo retention is
``retained / start`` (the share of the opening customers still customers at the close); ``end / start`` mixes in the
gains and is kept apart as ``net_logo_change``. Revenue follows the same statuses:
``end_mrr = start_mrr + new + reactivated + expansion - contraction - churned``;
GRR = ``(start - churned - contraction) / start``, NRR = ``(start - churned - contraction + expansion) / start``.

Annualised rates compound the period's own rate: ``rate ** periods_per_year`` (``^12`` for a month, ``^4`` for a
quarter, ``^1`` for a year; a partial period by its elapsed days, see :func:`~retain.metrics.periods.period_frame`).
Each row then stands alone (no need for a year of history before the first period shown), and it is the same
convention as ``annualized_churn_rate = 1 - logo_retention ** periods_per_year``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir

from retain.metrics.dimensions import (
    By,
    Dimension,
    account_dimensions,
    active_on,
    attach_dimension,
    count_if,
    first_started,
    is_account_level,
    resolve_dimension,
    safe_ratio,
    subscriptions,
    unit_columns,
)
from retain.metrics.periods import Grain, parse_grain, period_grid, periods_grid
from retain.warehouse import AsOf, Warehouse

STATUSES = ("retained", "churned", "new", "reactivated", "came_and_went")

LOGO_COLUMNS = [
    "period", "period_start", "complete", "dimension", "dimension_value",
    "start", "churned", "retained", "new", "reactivated", "end", "came_and_went",
    "logo_retention", "net_logo_change", "churn_rate", "annualized_churn_rate",
]
REVENUE_COLUMNS = [
    "period", "period_start", "complete", "dimension", "dimension_value",
    "start_mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivated_mrr", "end_mrr",
    "end_arr", "grr", "nrr", "annualized_grr", "annualized_nrr",
]


def _unit_periods(wh: Warehouse, as_of: AsOf, grid: ir.Table, unit: list[str], include_trials: bool) -> ir.Table:
    """Per unit, grain and period it touched: open/close flags and MRR, first start and status."""
    subs = subscriptions(wh, as_of, include_trials=include_trials)
    overlap = subs.join(
        grid, [subs.started_on <= grid.close_day, subs.ended_on.isnull() | (subs.ended_on > grid.open_day)],
    )
    at_open = active_on(overlap.started_on, overlap.ended_on, overlap.open_day)
    at_close = active_on(overlap.started_on, overlap.ended_on, overlap.close_day)
    per = overlap.group_by([*unit, "grain", "period", "period_start", "complete", "periods_per_year"]).aggregate(
        at_open=at_open.any(),
        at_close=at_close.any(),
        start_mrr=ibis.ifelse(at_open, overlap.mrr, 0.0).sum(),
        end_mrr=ibis.ifelse(at_close, overlap.mrr, 0.0).sum(),
    )
    per = per.join(first_started(subs, unit), unit)
    status = ibis.cases(
        (per.at_open & per.at_close, "retained"),
        (per.at_open, "churned"),
        (per.at_close & (per.first_started_on >= per.period_start), "new"),
        (per.at_close, "reactivated"),
        else_="came_and_went",
    )
    return per.mutate(status=status)


def _with_dimensions(
    wh: Warehouse, as_of: AsOf, grid: ir.Table, dims: Sequence[By], include_trials: bool = False,
) -> ir.Table:
    """Unit-period rows once per requested dimension (stacked), each with its ``dimension_value``.

    Account-level dimensions share one computation of the unit periods, split by a join to a long
    (account, dimension, value) table; ``product`` and ``signup_cohort`` are stacked on.
    """
    dims = list(dict.fromkeys(dims))
    parts = []
    by_account = [d for d in dims if d is Dimension.ALL or is_account_level(d)]
    if any(d is not Dimension.PRODUCT for d in dims):
        units = _unit_periods(wh, as_of, grid, unit_columns(Dimension.ALL), include_trials)
        units = units.mutate(product_id=ibis.null("string"))
        if by_account:
            long = account_dimensions(wh, as_of, units.select("account_id").distinct(), by_account)
            parts.append(units.join(long, "account_id").select(*UNIT_COLUMNS))
        if Dimension.SIGNUP_COHORT in dims:
            parts.append(attach_dimension(units, wh, as_of, Dimension.SIGNUP_COHORT).select(*UNIT_COLUMNS))
    if Dimension.PRODUCT in dims:
        units = _unit_periods(wh, as_of, grid, unit_columns(Dimension.PRODUCT), include_trials)
        parts.append(attach_dimension(units, wh, as_of, Dimension.PRODUCT).select(*UNIT_COLUMNS))
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


UNIT_COLUMNS = ["account_id", "product_id", "grain", "period", "period_start", "complete", "periods_per_year",
                "at_open", "at_close", "start_mrr", "end_mrr", "first_started_on", "status", "dimension",
                "dimension_value"]


def unit_periods(
    wh: Warehouse, as_of: AsOf, grain: Grain | str = Grain.QUARTER, periods: int = 4, by: str | By | None = None,
    *, include_trials: bool = False,
) -> ir.Table:
    """One row per unit and period it touched: open/close flags and MRR, its status and its dimension value.

    Trial periods (``status = 'trial'``) count only with ``include_trials``.
    """
    dims = [resolve_dimension(wh, as_of, by)]
    return _with_dimensions(wh, as_of, period_grid(as_of, grain, periods), dims, include_trials)


def _decompose(u: ir.Table) -> ir.Table:
    def count(status: str) -> ir.IntegerScalar:
        return count_if(u.status == status)

    def mrr(status: str, column: ir.Column) -> ir.FloatingScalar:
        return ibis.ifelse(u.status == status, column, 0.0).sum()

    delta = u.end_mrr - u.start_mrr
    keys = ["grain", "period", "period_start", "complete", "periods_per_year", "dimension", "dimension_value"]
    agg = u.group_by(keys).aggregate(
        start=count_if(u.at_open),
        churned=count("churned"),
        new=count("new"),
        reactivated=count("reactivated"),
        end=count_if(u.at_close),
        came_and_went=count("came_and_went"),
        start_mrr=u.start_mrr.sum(),
        new_mrr=mrr("new", u.end_mrr),
        expansion_mrr=ibis.ifelse((u.status == "retained") & (delta > 0), delta, 0.0).sum(),
        contraction_mrr=ibis.ifelse((u.status == "retained") & (delta < 0), -delta, 0.0).sum(),
        churned_mrr=mrr("churned", u.start_mrr),
        reactivated_mrr=mrr("reactivated", u.end_mrr),
        end_mrr=u.end_mrr.sum(),
    )
    retained = agg.start - agg.churned
    logo_retention = safe_ratio(retained, agg.start)
    kept = agg.start_mrr - agg.churned_mrr - agg.contraction_mrr
    grr = safe_ratio(kept, agg.start_mrr)
    nrr = safe_ratio(kept + agg.expansion_mrr, agg.start_mrr)
    per_year = agg.periods_per_year
    out = agg.mutate(
        retained=retained,
        logo_retention=logo_retention,
        net_logo_change=safe_ratio(agg.end, agg.start),
        churn_rate=safe_ratio(agg.churned, agg.start),
        annualized_churn_rate=1.0 - logo_retention**per_year,
        end_arr=agg.end_mrr * 12.0,
        grr=grr,
        nrr=nrr,
        annualized_grr=grr**per_year,
        annualized_nrr=nrr**per_year,
    )
    return out.select("grain", *dict.fromkeys(LOGO_COLUMNS + REVENUE_COLUMNS))


def decomposition(
    wh: Warehouse, as_of: AsOf, grain: Grain | str = Grain.QUARTER, periods: int = 4, by: str | By | None = None,
    *, include_trials: bool = False,
) -> ir.Table:
    """Logo and revenue decomposition per period (and dimension value): counts, MRR movements and ratios."""
    u = unit_periods(wh, as_of, grain, periods, by, include_trials=include_trials)
    return _decompose(u).drop("grain").order_by(["dimension_value", "period_start"])


def decomposition_many(
    wh: Warehouse, as_of: AsOf, grains: Mapping[Grain | str, int], dims: Sequence[str | By],
    *, include_trials: bool = False,
) -> ir.Table:
    """:func:`decomposition` for several grains (``{grain: periods}``) and dimensions in one query."""
    grid = periods_grid(as_of, {parse_grain(g): n for g, n in grains.items()})
    u = _with_dimensions(wh, as_of, grid, [resolve_dimension(wh, as_of, d) for d in dims], include_trials)
    return _decompose(u).order_by(["grain", "dimension", "dimension_value", "period_start"])


def logo_retention(
    wh: Warehouse, as_of: AsOf, grain: Grain | str = Grain.QUARTER, periods: int = 4, by: str | By | None = None,
    *, include_trials: bool = False,
) -> ir.Table:
    """``retained / start`` (and ``end / start`` as net change) beside the counts (stored as ``retention``)."""
    return decomposition(wh, as_of, grain, periods, by, include_trials=include_trials).select(*LOGO_COLUMNS)


def revenue_retention(
    wh: Warehouse, as_of: AsOf, grain: Grain | str = Grain.QUARTER, periods: int = 4, by: str | By | None = None,
    *, include_trials: bool = False,
) -> ir.Table:
    """MRR movements, GRR and NRR per period and annualised (stored as ``revenue_retention``)."""
    return decomposition(wh, as_of, grain, periods, by, include_trials=include_trials).select(*REVENUE_COLUMNS)
