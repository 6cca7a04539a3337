"""Monthly signup cohorts × months since start: logo and revenue retention matrices (long format).

An account's cohort is the month of its first subscription. Cell ``(cohort, k)`` counts the cohort's accounts that
are customers at the close of month ``cohort + k`` (capped at ``as_of`` for the running month) and their MRR then.
Logo retention divides by the cohort's size, revenue retention by its *starting* MRR (MRR held on the first day).
``complete`` is false for the cells of the running month (measured at ``as_of``, before the month's end).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from retain.errors import RetainError
from retain.metrics.dimensions import (
    By,
    Dimension,
    active_on,
    attach_dimension,
    first_started,
    period_label_expr,
    resolve_dimension,
    safe_ratio,
    subscriptions,
)
from retain.metrics.periods import Grain, add_months, month_grid, period_floor
from retain.warehouse import AsOf, Warehouse, as_of_date

COLUMNS = [
    "dimension", "dimension_value", "cohort", "cohort_start", "months_since_start", "month_start", "complete",
    "accounts", "active", "logo_retention", "start_mrr", "mrr", "revenue_retention",
]


def _months_between(later: ir.DateValue, earlier: ir.DateValue) -> ir.IntegerValue:
    return (later.year() - earlier.year()) * 12 + later.month() - earlier.month()


def cohorts(
    wh: Warehouse, as_of: AsOf, cohorts: int = 24, by: str | By | None = None, *, include_trials: bool = False,
) -> ir.Table:
    """The last ``cohorts`` monthly signup cohorts, one row per cohort (and dimension value) and month since start.

    Trial periods are left out unless ``include_trials`` (the cohort is the month of the first paid period).
    """
    dim = resolve_dimension(wh, as_of, by)
    if dim is Dimension.PRODUCT:
        raise RetainError("cohorts are of accounts, not products", hint="use --by segment, region, owner...")
    day = as_of_date(as_of)
    first_month = add_months(period_floor(day, Grain.MONTH), -(cohorts - 1))
    grid = month_grid(first_month, day)
    subs = subscriptions(wh, as_of, include_trials=include_trials)

    first = first_started(subs, ["account_id"])
    first = first.mutate(cohort_start=first.first_started_on.truncate("M"))
    first = first.filter(first.cohort_start >= ibis.literal(first_month, type="date"))
    opening = subs.join(first, [subs.account_id == first.account_id, subs.started_on == first.first_started_on])
    opening_mrr = opening.group_by(subs.account_id).aggregate(start_mrr=opening.mrr.sum())
    members = first.join(opening_mrr, "account_id")
    members = attach_dimension(members, wh, day, dim, grain=Grain.MONTH)

    live = subs.join(grid, active_on(subs.started_on, subs.ended_on, grid.close_day))
    live = live.group_by(["account_id", "month_start"]).aggregate(mrr=live.mrr.sum())
    live = live.join(members.select("account_id", "cohort_start", "dimension", "dimension_value"), "account_id")
    cell_keys = ["dimension", "dimension_value", "cohort_start", "month_start"]
    cells = live.group_by(cell_keys).aggregate(active=live.account_id.nunique(), mrr=live.mrr.sum())

    sizes = members.group_by(["dimension", "dimension_value", "cohort_start"]).aggregate(
        accounts=members.account_id.nunique(), start_mrr=members.start_mrr.sum(),
    )
    frame = sizes.cross_join(grid.select("month_start", "complete")).filter(lambda t: t.month_start >= t.cohort_start)
    frame = frame.left_join(cells, cell_keys).select(
        *[frame[c] for c in ["dimension", "dimension_value", "cohort_start", "month_start", "complete", "accounts",
                             "start_mrr"]],
        active=ibis.coalesce(cells.active, 0),
        mrr=ibis.coalesce(cells.mrr, 0.0),
    )
    out = frame.mutate(
        cohort=period_label_expr(frame.cohort_start, Grain.MONTH),
        months_since_start=_months_between(frame.month_start, frame.cohort_start),
        logo_retention=safe_ratio(frame.active, frame.accounts),
        revenue_retention=safe_ratio(frame.mrr, frame.start_mrr),
    )
    return out.select(*COLUMNS).order_by(["dimension_value", "cohort_start", "months_since_start"])


def cohort_matrix(frame, value: str = "logo_retention"):
    """Pivot an executed :func:`cohorts` frame to cohorts × months since start (for display and heatmaps)."""
    return frame.pivot_table(index="cohort", columns="months_since_start", values=value, aggfunc="first")


