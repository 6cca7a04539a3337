"""Win/loss: why deals are won and lost, which deal attributes go with winning, why customers stay or leave.

Counted in the engine over the deals closed by the day (``opportunities`` as of the day), then given Wilson 95 %
intervals (:func:`wilson`): per dimension value (segment, product, opportunity type, quarter closed, competitor,
rep) the win rate (reason ``all``) and the share of losses per loss reason. Renewals (won = renewed) sit beside
churn events by reason (dimension ``churn``), so why customers stay and why they leave read side by side.
Attributes: for each point-in-time deal feature, the win rate of deals above and at-or-below its median at their
last monthly snapshot before closing (dimension ``attribute``).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from retain.metrics.dimensions import as_int
from retain.sales.features import NUMERIC
from retain.warehouse import Warehouse

DIMENSIONS = ("segment", "product", "opportunity_type", "period", "competitor", "rep")
Z = 1.96


def wilson(k: np.ndarray, n: np.ndarray, z: float = Z) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of k successes in n trials (nan where n = 0)."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def closed_deals(wh: Warehouse, day: dt.date) -> ir.Table:
    """Deals closed by ``day`` with the dimensions win/loss is split by."""
    o = wh.as_of("opportunities", day)
    o = o.filter(o.closed_at.notnull() & o.is_won.notnull())
    acc = wh.as_of("accounts", day).select("account_id", "segment")
    t = o.left_join(acc, "account_id")
    year = t.closed_at.year().cast("string")
    quarter = ((t.closed_at.month() - 1) // 3 + 1).cast("string")
    return t.select(
        won=as_int(t.is_won), amount=t.amount.fill_null(0.0),
        loss_reason=t.loss_reason.fill_null("unknown"),
        segment=t.segment.fill_null("prospect"), product=t.product_id.fill_null("unknown"),
        opportunity_type=t.opportunity_type, period=year + "-Q" + quarter,
        competitor=t.competitor.fill_null("none"), rep=t.owner_id.fill_null("unassigned"))


def _rates(t: ir.Table, dim: str) -> ir.Table:
    g = t.group_by(t[dim].name("dimension_value")).aggregate(closed=t.count(), won=t.won.sum(),
                                                              amount=t.amount.sum())
    return g.mutate(dimension=ibis.literal(dim), reason=ibis.literal("all"))


def _reasons(t: ir.Table, dim: str) -> ir.Table:
    lost = t.filter(t.won == 0)
    g = lost.group_by([lost[dim].name("dimension_value"), lost.loss_reason.name("reason")]).aggregate(
        closed=lost.count(), amount=lost.amount.sum())
    total = lost.group_by(lost[dim].name("dimension_value")).aggregate(lost_total=lost.count())
    g = g.inner_join(total, "dimension_value")
    return g.select("dimension_value", "reason", "amount", dimension=ibis.literal(dim), closed=g.lost_total,
                    won=g.closed)  # ``won`` holds the losses with this reason: the share's numerator


def churn_reasons(wh: Warehouse, day: dt.date) -> ir.Table:
    """Churn events by reason, the leaving side beside renewals."""
    c = wh.as_of("churn_events", day)
    c = c.filter(c.event_type == "churn")
    total = c.aggregate(closed=c.count())
    g = c.group_by(c.reason.fill_null("unknown").name("reason")).aggregate(
        won=c.count(), amount=(-c.mrr_change.fill_null(0.0) * 12).sum())
    return g.cross_join(total).mutate(dimension=ibis.literal("churn"), dimension_value=ibis.literal("all"))


def win_loss(wh: Warehouse, day: dt.date, *, with_rep: bool = False) -> pd.DataFrame:
    """Win rates and loss-reason shares per dimension value with Wilson intervals, renewals and churn reasons;
    ``with_rep``: also per rep (not published company-wide: its values name team members)."""
    t = closed_deals(wh, day)
    dims = [d for d in DIMENSIONS if with_rep or d != "rep"]
    parts = [_rates(t, d) for d in dims] + [_reasons(t, d) for d in dims]
    ren = t.filter(t.opportunity_type == "renewal")
    parts += [_rates(ren.mutate(renewal=ibis.literal("all")), "renewal"),
              _reasons(ren.mutate(renewal=ibis.literal("all")), "renewal"), churn_reasons(wh, day)]
    cols = ["dimension", "dimension_value", "reason", "closed", "won", "amount"]
    numeric = ("closed", "won", "amount")
    frame = wh.execute(ibis.union(*[p.select(**{c: p[c].cast("float64" if c in numeric else "string")
                                                for c in cols}) for p in parts]))
    frame["share"] = frame["won"] / frame["closed"].where(frame["closed"] > 0)
    frame["share_low"], frame["share_high"] = wilson(frame["won"], frame["closed"])
    frame[["closed", "won"]] = frame[["closed", "won"]].astype("int64")
    return frame.sort_values(["dimension", "dimension_value", "reason"]).reset_index(drop=True)


def attributes(history: pd.DataFrame) -> pd.DataFrame:
    """Per deal feature: the win rate of closed deals above its median vs at or below, at each deal's last
    monthly snapshot (``history``: :func:`retain.sales.scores.history`)."""
    closed = history[history["won"].notna()].sort_values("as_of").drop_duplicates("opportunity_id", keep="last")
    rows = []
    for feature in NUMERIC:
        values = closed[feature]
        if values.notna().sum() < 10 or values.nunique() < 2:
            continue
        cut = float(values.median())
        for label, mask in ((f"above {cut:,.2f}", values > cut), (f"at or below {cut:,.2f}", values <= cut)):
            y = closed.loc[mask, "won"]
            rows.append({"dimension": "attribute", "dimension_value": f"{feature} {label}", "reason": "all",
                         "closed": len(y), "won": int(y.sum()), "amount": float(closed.loc[mask, "amount"].sum())})
    frame = pd.DataFrame(rows, columns=["dimension", "dimension_value", "reason", "closed", "won", "amount"])
    frame["share"] = frame["won"] / frame["closed"].where(frame["closed"] > 0)
    frame["share_low"], frame["share_high"] = wilson(frame["won"], frame["closed"])
    return frame
