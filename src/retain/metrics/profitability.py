"""Profitability per customer: revenue minus the cost to serve it, with rates a user sets in YAML.

``profit = revenue - discounts - support cost - cost of revenue`` over a trailing window, where support cost is
tickets × cost per ticket (by priority when given, plus a surcharge per escalation) and cost of revenue is the
transactions' own ``cost_amount`` plus a share of revenue (hosting, payment fees...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field

from retain.metrics.dimensions import count_if, safe_ratio
from retain.metrics.periods import window_start
from retain.metrics.revenue import account_revenue
from retain.specs import load_yaml_spec
from retain.warehouse import AsOf, Warehouse, as_of_date

Priority = Literal["low", "normal", "high", "urgent"]

COLUMNS = [
    "account_id", "name", "segment", "revenue", "subscription_revenue", "transaction_revenue", "discounts",
    "tickets", "support_cost", "cost_of_revenue", "cost_to_serve", "profit", "margin", "loses_money",
]


class ProfitabilitySpec(BaseModel):
    """Cost-to-serve rates (``profitability.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    window_months: int = Field(12, ge=1, le=120, description="Trailing window, months.")
    cost_per_ticket: float = Field(25.0, ge=0, description="Cost of handling one support ticket.")
    ticket_cost_by_priority: dict[Priority, float] = Field(
        default_factory=dict, description="Cost per ticket by priority; others use cost_per_ticket.",
    )
    escalation_cost: float = Field(0.0, ge=0, description="Extra cost of each escalated ticket.")
    subtract_discounts: bool = Field(True, description="Count discounts granted as a cost.")
    cost_of_revenue_rate: float = Field(0.0, ge=0, le=1, description="Share of revenue spent to deliver it.")
    include_transaction_costs: bool = Field(True, description="Subtract transactions' cost_amount.")


def load_profitability_spec(path: str | Path | None) -> ProfitabilitySpec:
    """Read a spec from YAML (defaults when ``path`` is None); every problem is reported with its key."""
    if path is None:
        return ProfitabilitySpec()
    return load_yaml_spec(ProfitabilitySpec, path, docs="docs/metrics.md, section Profitability")


def support_costs(wh: Warehouse, as_of: AsOf, spec: ProfitabilitySpec) -> ir.Table:
    """Per account: tickets opened in the window and their cost."""
    day = as_of_date(as_of)
    t = wh.as_of("support_tickets", day)
    t = t.filter(t.opened_at.date() >= ibis.literal(window_start(day, spec.window_months), type="date"))
    rate = ibis.literal(spec.cost_per_ticket)
    if spec.ticket_cost_by_priority:
        rate = ibis.cases(
            *[(t.priority == p, ibis.literal(c)) for p, c in spec.ticket_cost_by_priority.items()],
            else_=ibis.literal(spec.cost_per_ticket),
        )
    cost = rate + ibis.ifelse(t.escalated.fill_null(False), spec.escalation_cost, 0.0)
    return t.group_by("account_id").aggregate(tickets=t.count(), support_cost=cost.sum())


def profitability(wh: Warehouse, as_of: AsOf, spec: ProfitabilitySpec | None = None) -> ir.Table:
    """Revenue, cost to serve and profit per account over the spec's window (stored as ``profitability``)."""
    spec = spec or ProfitabilitySpec()
    day = as_of_date(as_of)
    revenue = account_revenue(wh, day, spec.window_months)
    support = support_costs(wh, day, spec)
    joined = revenue.outer_join(support, revenue.account_id == support.account_id)
    base = joined.select(
        account_id=ibis.coalesce(joined.account_id, joined.account_id_right),
        revenue=joined.revenue.fill_null(0.0),
        subscription_revenue=joined.subscription_revenue.fill_null(0.0),
        transaction_revenue=joined.transaction_revenue.fill_null(0.0),
        discounts=joined.discounts.fill_null(0.0) if spec.subtract_discounts else ibis.literal(0.0),
        transaction_costs=joined.transaction_costs.fill_null(0.0),
        tickets=joined.tickets.fill_null(0),
        support_cost=joined.support_cost.fill_null(0.0),
    )
    base = base.filter((base.revenue != 0) | (base.tickets > 0))  # customers active in the window
    cost_of_revenue = base.revenue * spec.cost_of_revenue_rate
    if spec.include_transaction_costs:
        cost_of_revenue = cost_of_revenue + base.transaction_costs
    base = base.mutate(cost_of_revenue=cost_of_revenue)
    base = base.mutate(cost_to_serve=base.discounts + base.support_cost + base.cost_of_revenue)
    base = base.mutate(profit=base.revenue - base.cost_to_serve)
    accounts = wh.as_of("accounts", day).select("account_id", "name", "segment")
    out = base.left_join(accounts, "account_id").drop("account_id_right")
    out = out.mutate(margin=safe_ratio(out.profit, out.revenue), loses_money=out.profit < 0)
    return out.select(*COLUMNS).order_by("profit")


def profitability_summary(wh: Warehouse, as_of: AsOf, spec: ProfitabilitySpec | None = None) -> ir.Table:
    """Totals: customers, how many lose money, revenue, cost to serve and profit."""
    p = profitability(wh, as_of, spec)
    return p.aggregate(
        customers=p.count(),
        loss_making=count_if(p.loses_money),
        revenue=p.revenue.sum(),
        cost_to_serve=p.cost_to_serve.sum(),
        profit=p.profit.sum(),
        lost_by_loss_makers=ibis.ifelse(p.loses_money, -p.profit, 0.0).sum(),
    )
