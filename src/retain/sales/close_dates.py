"""Close-date pushes and CRM forecast categories as they stood at the end of each snapshot day.

A CRM writes a stage-history row whenever the stage, amount, probability or expected close date changes
(Salesforce OpportunityHistory; HubSpot's deal property history). From the ``close_on`` of those rows:

- ``close_date_pushes``: rows known by the day whose expected close date is later than the previous row's (a
  moved-earlier date is not a push; a row without a date neither moves it nor resets it);
- ``days_pushed``: the days those pushes added up to;
- ``close_on``: the expected close date as last recorded by the day, else the opportunity's own ``close_on`` while
  the deal is still open today (a closed deal's export holds the date it actually closed: using it for an earlier
  snapshot would leak the outcome's timing);
- ``close_date_passed``: 1 when that date is before the day.

``forecast_category`` is the latest stage-history category by the day, else the opportunity's exported category
(revealed only once the deal closed or while it is still open, like its stage).

An export without these columns, or without stage history at all, yields 0 pushes and null dates and categories:
deal scores still train on the rest. Every expression is plain Ibis (window values are computed by a ``mutate``
and filtered afterwards) so DuckDB, PostgreSQL and Spark run the same query.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from retain.warehouse import Warehouse

FEATURES = ("close_date_pushes", "days_pushed", "close_date_passed")


def _history(wh: Warehouse) -> ir.Table:
    """The stage history with ``close_on`` and ``forecast_category`` (null columns when the table predates them)."""
    s = wh.raw("opportunity_stages")
    extra = {}
    if "close_on" not in s.columns:
        extra["close_on"] = ibis.null("date")
    if "forecast_category" not in s.columns:
        extra["forecast_category"] = ibis.null("string")
    return s.mutate(**extra) if extra else s


def pushes(wh: Warehouse) -> ir.Table:
    """The stage history with ``push`` (1 on a row whose expected close date is later than the previous dated
    row's) and ``pushed_days`` (by how much). The previous date is looked up among dated rows only (the window is
    partitioned by whether a row has a date), so a row without one neither moves the date nor resets it."""
    s = _history(wh)
    s = s.mutate(has_date=s.close_on.notnull())
    w = ibis.window(group_by=[s.opportunity_id, s.has_date], order_by=s.entered_at)
    s = s.mutate(previous_close_on=s.close_on.lag().over(w))  # a column first, then compared: portable
    later = s.has_date & s.previous_close_on.notnull() & (s.close_on > s.previous_close_on)
    return s.mutate(
        push=ibis.ifelse(later, 1, 0),
        pushed_days=ibis.ifelse(later, s.close_on.delta(s.previous_close_on, unit="day"), 0),
    )


def history_facts(wh: Warehouse, deals: ir.Table) -> ir.Table:
    """Per (as_of, opportunity), from the history rows known by the end of the day: pushes, days pushed, the
    expected close date last recorded (``h_close_on``) and the forecast category last recorded
    (``h_forecast_category``). One join of the deals with the history, one aggregation."""
    p = pushes(wh).select("opportunity_id", "entered_at", "close_on", "forecast_category", "push", "pushed_days")
    j = deals.select("as_of", "day_end", "opportunity_id").inner_join(p, "opportunity_id")
    j = j.filter(j.entered_at < j.day_end)
    return j.group_by(["as_of", "opportunity_id"]).aggregate(
        close_date_pushes=j.push.sum(),
        days_pushed=j.pushed_days.sum(),
        h_close_on=j.close_on.argmax(j.entered_at, where=j.close_on.notnull()),
        h_forecast_category=j.forecast_category.argmax(j.entered_at, where=j.forecast_category.notnull()),
    )


def with_close_dates(wh: Warehouse, deals: ir.Table) -> ir.Table:
    """``deals`` (from :func:`retain.sales.features.open_deals`) with point-in-time ``close_on``,
    ``close_date_pushes``, ``days_pushed``, ``close_date_passed`` and ``forecast_category``."""
    t = deals.left_join(history_facts(wh, deals), ["as_of", "opportunity_id"])
    t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    t = t.left_join(_exported_categories(wh), "opportunity_id")
    t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    open_now = ~t.is_closed_now  # the export's own values are today's: usable only for a deal still open today
    close_on = t.h_close_on.fill_null(ibis.ifelse(open_now, t.close_on.cast("date"), ibis.null("date")))
    exported = ibis.ifelse(open_now, t.export_category, ibis.null("string"))
    t = t.mutate(
        close_on=close_on,
        forecast_category=t.h_forecast_category.fill_null(exported),
        close_date_pushes=t.close_date_pushes.fill_null(0).cast("float64"),
        days_pushed=t.days_pushed.fill_null(0).cast("float64"),
    )
    passed = ibis.ifelse(t.close_on.notnull() & (t.close_on < t.as_of), 1.0, 0.0)
    return t.mutate(close_date_passed=passed).drop("h_close_on", "h_forecast_category", "export_category")


def _exported_categories(wh: Warehouse) -> ir.Table:
    """Per opportunity: the category the export holds today (null everywhere when the table predates the column)."""
    o = wh.raw("opportunities")
    category = o.forecast_category if "forecast_category" in o.columns else ibis.null("string")
    return o.select("opportunity_id", export_category=category)
