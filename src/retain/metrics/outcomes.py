"""Churn recorded apart from subscriptions: ``churn_events`` and ``accounts.churned_at`` as outcome data.

Many exports say that a customer left in a column or a file of their own while the subscription rows stay open
(the billing system was never told, or the export is a snapshot). Retention, survival, cohorts, churn reasons and
products held all read subscriptions through :func:`~retain.metrics.dimensions.subscriptions`, which cuts the
periods at the recorded churn so every metric agrees. The precedence:

1. A churn day ``d`` comes from a ``churn_events`` row of type ``churn`` (``occurred_on``) or from
   ``accounts.churned_at`` (its UTC day). ``d`` is the first day without service, like ``subscriptions.ended_on``.
   An event with a ``product_id`` concerns that product only; without one (and ``churned_at``) the whole account.
2. A subscription period that started before ``d`` and is still in service on ``d`` ends on ``d`` (its own end is
   replaced): the recorded churn wins over an open or later end in the subscription rows.
3. A period that ended before ``d`` keeps its own end (the customer had no service already); a period starting on or
   after ``d`` is untouched (the customer came back: a reactivation).
4. The period's ``cancel_reason`` is kept when given, else the churn event's ``reason``.

Both sources are point in time: an event is known from ``occurred_on``, ``churned_at`` once reached (its
``revealed_by`` rule), so a churn recorded after ``as_of`` changes nothing as of ``as_of``.
``outcome_labels`` (a churned yes/no per snapshot) are labels for the models, not dated churns: retention does not
read them. Other event types (upgrade, downgrade, reactivation) do not change subscriptions either.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from retain.warehouse import AsOf, Warehouse

CHURN = "churn"


def _has(wh: Warehouse, table: str, column: str | None = None) -> bool:
    """Whether the warehouse has ``table`` (and ``column``): warehouses made before the outcome tables lack them."""
    try:
        return column is None or column in wh.raw(table).columns
    except Exception:  # noqa: BLE001 - a missing table is simply "no outcome data"
        return False


def recorded_churns(wh: Warehouse, as_of: AsOf) -> ir.Table | None:
    """``(account_id, product_id, churn_on, reason)`` known at ``as_of``; ``product_id`` null for a whole account.

    ``None`` when the warehouse has neither outcome source.
    """
    parts: list[ir.Table] = []
    if _has(wh, "churn_events"):
        e = wh.as_of("churn_events", as_of)
        e = e.filter(e.event_type == CHURN)
        parts.append(e.select(
            account_id=e.account_id, product_id=e.product_id.cast("string"), churn_on=e.occurred_on.cast("date"),
            reason=e.reason.cast("string"),
        ))
    if _has(wh, "accounts", "churned_at"):
        a = wh.as_of("accounts", as_of)
        a = a.filter(a.churned_at.notnull())
        parts.append(a.select(
            account_id=a.account_id, product_id=ibis.null("string"), churn_on=a.churned_at.date(),
            reason=ibis.null("string"),
        ))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


def cut_at_churn(subs: ir.Table, churns: ir.Table | None) -> ir.Table:
    """``subs`` with each period ended at the first recorded churn after its start (see the module rules)."""
    if churns is None:
        return subs
    c = churns.select(_acc="account_id", _prod="product_id", _on="churn_on")
    applies = (subs.account_id == c._acc) & (c._prod.isnull() | (c._prod == subs.product_id)) & (
        c._on > subs.started_on)
    first = subs.select("subscription_id", "account_id", "started_on", "product_id").join(c, applies)
    first = first.group_by("subscription_id").aggregate(_cut=first._on.min(), _acc=first.account_id.max())
    reasons = churns.group_by(["account_id", "churn_on"]).aggregate(_reason=churns.reason.max())
    first = first.left_join(reasons, [first._acc == reasons.account_id, first._cut == reasons.churn_on])
    first = first.select("subscription_id", "_cut", "_reason")
    joined = subs.left_join(first, "subscription_id").drop("subscription_id_right")
    cut = joined._cut.notnull() & (joined.ended_on.isnull() | (joined._cut < joined.ended_on))
    return joined.mutate(
        ended_on=ibis.ifelse(cut, joined._cut, joined.ended_on),
        cancel_reason=ibis.ifelse(cut, ibis.coalesce(joined.cancel_reason, joined._reason), joined.cancel_reason),
    ).drop("_cut", "_reason")
