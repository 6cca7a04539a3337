"""Bookings per month, rep, team, opportunity type and product (ARR and units), and the closed deals behind them.

What the Sales page charts (new business vs add-on vs renewal per month) and drills down to: both from the deals
closed by the day, as the export showed them then (``opportunities`` as of the day).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from retain.sales.goals import with_units
from retain.sales.scores import add_months
from retain.warehouse import Warehouse

UNASSIGNED = "unassigned"


def closed_since(wh: Warehouse, day: dt.date, months: int) -> ir.Table:
    """Deals closed in the ``months`` months up to ``day`` with their month, team and units."""
    first = add_months(dt.date(day.year, day.month, 1), 1 - months)
    o = with_units(wh, wh.as_of("opportunities", day))
    o = o.filter(o.closed_at.notnull() & o.is_won.notnull() & (o.closed_at.date() >= first))
    team = wh.raw("team_members").select("member_id", "team")
    o = o.left_join(team, o.owner_id == team.member_id)
    return o.select(
        "opportunity_id", "account_id", "name", "opportunity_type", "loss_reason", "competitor",
        owner_id=o.owner_id.fill_null(UNASSIGNED), team=o.team.fill_null(UNASSIGNED),
        product_id=o.product_id.fill_null("unknown"), month=o.closed_at.strftime("%Y-%m"),
        closed_on=o.closed_at.date(), amount=o.amount.fill_null(0.0), units=o.units, is_won=o.is_won)


def bookings(wh: Warehouse, day: dt.date, months: int = 12) -> ir.Table:
    """Won ARR, units and deals per month, owner, team, opportunity type and product."""
    t = closed_since(wh, day, months)
    won = t.filter(t.is_won)
    return won.group_by(["month", "owner_id", "team", "opportunity_type", "product_id"]).aggregate(
        arr=won.amount.sum(), units=won.units.sum(), deals=won.count()).order_by(["month", "owner_id"])


def closed_deals(wh: Warehouse, day: dt.date, months: int = 12) -> ir.Table:
    """The deals closed in the last ``months`` months (won and lost), newest first: the drill-down."""
    return closed_since(wh, day, months).order_by(ibis.desc("closed_on"))
