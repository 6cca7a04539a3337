"""RFM segments: recency, frequency and monetary value scored 1–5 and mapped to named segments by rules.

Purchases are transactions plus subscription service: an account served by a subscription in a month counts one
purchase that month, and a running subscription makes its recency 0. ``frequency`` and ``monetary`` cover the
trailing ``lookback_months``; recency looks at all history. Scores are quantiles (``ntile``) over the accounts;
segments are the first rule (in order) whose score ranges contain the account's scores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field, model_validator

from retain.metrics.dimensions import safe_ratio, subscriptions
from retain.metrics.periods import Grain, period_frame
from retain.metrics.revenue import account_revenue
from retain.specs import load_yaml_spec
from retain.warehouse import AsOf, Warehouse, as_of_date

ACCOUNT_COLUMNS = ["account_id", "recency_days", "frequency", "monetary", "r", "f", "m", "rfm", "segment"]
SEGMENT_COLUMNS = ["segment", "accounts", "share", "monetary", "monetary_share", "avg_recency_days",
                   "avg_frequency", "lookback_months"]


class RFMRule(BaseModel):
    """One segment: inclusive score ranges ``[low, high]`` for R, F and M (left out: any score)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    segment: str = Field(min_length=1)
    r: tuple[int, int] | None = None
    f: tuple[int, int] | None = None
    m: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _ranges(self) -> RFMRule:
        for name in ("r", "f", "m"):
            bounds = getattr(self, name)
            if bounds is not None and bounds[0] > bounds[1]:
                low, high = bounds
                raise ValueError(f"{name}: low {low} is above high {high}")
        return self


DEFAULT_RULES = (
    RFMRule(segment="champions", r=(4, 5), f=(4, 5)),
    RFMRule(segment="loyal", r=(3, 5), f=(3, 5)),
    RFMRule(segment="new", r=(5, 5), f=(1, 1)),
    RFMRule(segment="promising", r=(4, 5), f=(1, 2)),
    RFMRule(segment="needs_attention", r=(3, 3), f=(1, 2)),
    RFMRule(segment="at_risk", r=(1, 2), f=(3, 5)),
    RFMRule(segment="hibernating", r=(2, 2), f=(1, 2)),
    RFMRule(segment="lost", r=(1, 1), f=(1, 2)),
)


class RFMSpec(BaseModel):
    """RFM scoring and segment rules (``rfm.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    lookback_months: int = Field(12, ge=1, le=120)
    bins: int = Field(5, ge=2, le=10)
    segments: tuple[RFMRule, ...] = DEFAULT_RULES
    fallback: str = "others"

    @model_validator(mode="after")
    def _within_bins(self) -> RFMSpec:
        for rule in self.segments:
            for name in ("r", "f", "m"):
                bounds = getattr(rule, name)
                if bounds is not None and (bounds[0] < 1 or bounds[1] > self.bins):
                    raise ValueError(f"segment {rule.segment}: {name} range must be within 1..{self.bins}")
        return self


def load_rfm_spec(path: str | Path | None) -> RFMSpec:
    """Read an RFM spec from YAML (defaults when ``path`` is None), reporting every problem with its key."""
    if path is None:
        return RFMSpec()
    return load_yaml_spec(RFMSpec, path, docs="docs/metrics.md, section RFM")


def rfm_values(wh: Warehouse, as_of: AsOf, lookback_months: int = 12) -> ir.Table:
    """Per account with any purchase by ``as_of``: recency (days), frequency and monetary over the lookback."""
    day = as_of_date(as_of)
    today = ibis.literal(day, type="date")
    subs = subscriptions(wh, day)
    last_served = ibis.least(subs.ended_on.fill_null(today + ibis.interval(days=1)) - ibis.interval(days=1), today)
    sub_last = subs.group_by("account_id").aggregate(last_on=last_served.max())
    trans = wh.as_of("transactions", day)
    trans_last = trans.group_by("account_id").aggregate(last_on=trans.occurred_at.date().max())
    last = sub_last.union(trans_last)
    last = last.group_by("account_id").aggregate(last_on=last.last_on.max())

    frame = period_frame(day, Grain.MONTH, lookback_months)
    months = ibis.memtable(frame[["period_start", "close_day"]], schema={"period_start": "date", "close_day": "date"})
    served = subs.join(months, [subs.started_on <= months.close_day,
                                subs.ended_on.isnull() | (subs.ended_on > months.period_start)])
    served = served.group_by("account_id").aggregate(sub_months=served.period_start.nunique())
    revenue = account_revenue(wh, day, lookback_months)
    out = last.left_join(served, "account_id").drop("account_id_right")
    out = out.left_join(revenue.select("account_id", "revenue", "transactions"), "account_id").drop("account_id_right")
    return out.select(
        "account_id",
        recency_days=today.delta(out.last_on, unit="day"),
        frequency=(out.sub_months.fill_null(0) + out.transactions.fill_null(0)).cast("int64"),
        monetary=out.revenue.fill_null(0.0),
    )


def _in(score: ir.IntegerValue, bounds: tuple[int, int] | None) -> ir.BooleanValue:
    return ibis.literal(True) if bounds is None else score.between(bounds[0], bounds[1])


def _score(order: ir.Value, n: ir.IntegerValue, bins: int) -> ir.IntegerValue:
    """Quantile score 1..bins from the mid-rank of each value (ties share a score, as pandas' average rank)."""
    window = ibis.window(order_by=order)
    below = ibis.rank().over(window).cast("float64") / n  # share strictly worse
    upto = ibis.cume_dist().over(window)  # share worse or tied
    mid = (below + upto) / 2.0
    return ibis.greatest(ibis.least((mid * bins).ceil(), bins), 1).cast("int64")


def rfm_accounts(wh: Warehouse, as_of: AsOf, spec: RFMSpec | None = None) -> ir.Table:
    """Per account: values, 1..bins scores (higher is better) and segment."""
    spec = spec or RFMSpec()
    v = rfm_values(wh, as_of, spec.lookback_months)
    scored = v.mutate(
        r=_score(ibis.desc(v.recency_days), v.count().over(ibis.window()), spec.bins),
        f=_score(v.frequency, v.count().over(ibis.window()), spec.bins),
        m=_score(v.monetary, v.count().over(ibis.window()), spec.bins),
    )
    segment = ibis.cases(
        *[(_in(scored.r, rule.r) & _in(scored.f, rule.f) & _in(scored.m, rule.m), rule.segment)
          for rule in spec.segments],
        else_=spec.fallback,
    ) if spec.segments else ibis.literal(spec.fallback)
    out = scored.mutate(
        segment=segment,
        rfm=scored.r.cast("string").concat(scored.f.cast("string"), scored.m.cast("string")),
    )
    return out.select(*ACCOUNT_COLUMNS)


def rfm_segments(wh: Warehouse, as_of: AsOf, spec: RFMSpec | None = None) -> ir.Table:
    """Accounts and value per segment (stored as ``rfm_segments``)."""
    spec = spec or RFMSpec()
    a = rfm_accounts(wh, as_of, spec)
    agg = a.group_by("segment").aggregate(
        accounts=a.count(), monetary=a.monetary.sum(),
        avg_recency_days=a.recency_days.mean(), avg_frequency=a.frequency.mean(),
    )
    everyone = ibis.window()
    out = agg.mutate(
        share=safe_ratio(agg.accounts, agg.accounts.sum().over(everyone)),
        monetary_share=safe_ratio(agg.monetary, agg.monetary.sum().over(everyone)),
        lookback_months=ibis.literal(spec.lookback_months, type="int64"),
    )
    return out.select(*SEGMENT_COLUMNS).order_by(ibis.desc("monetary"))

