"""What a survey score means on your own data: later churn, expansion and extra purchases per score value,
and when promoters refer.

Every response old enough for its windows to be complete at ``as_of`` is followed forward through the
subscriptions known at ``as_of``: churn within 90 days (a customer on the response day with nothing in service
90 days later), expansion within 180 days (higher MRR or a new product) and a new product within 180 days.
Rates come with Wilson 95 % intervals.

Answers Retain collected itself (:mod:`retain.surveys`, ``response_id`` starting ``rs_``) and answers imported from
other tools are read alike; ``source`` keeps one kind only, to compare them.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import ibis
import numpy as np
import pandas as pd

from retain.metrics.dimensions import as_int
from retain.models.labels import CHURN_DAYS, EXPANSION_DAYS
from retain.warehouse import AsOf, Warehouse, as_of_date

REFERRAL_BUCKETS = (0, 30, 60, 90, 180, 365)
RETAIN_RESPONSE_PREFIX = "rs_"  # response_id of the answers Retain's own survey page collected


class ResponseSource(StrEnum):
    ALL = "all"
    RETAIN = "retain"  # collected by Retain's survey programmes
    IMPORTED = "imported"  # loaded from another tool's export


def _from(s, source: ResponseSource):
    if source is ResponseSource.ALL:
        return s
    ours = s.response_id.startswith(RETAIN_RESPONSE_PREFIX)
    return s.filter(ours if source is ResponseSource.RETAIN else ~ours)


def wilson(successes: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for binomial rates (vectorised)."""
    n = np.asarray(n, dtype=float)
    p = np.divide(successes, n, out=np.zeros_like(n), where=n > 0)
    denom = 1 + z**2 / np.maximum(n, 1)
    centre = (p + z**2 / (2 * np.maximum(n, 1))) / denom
    half = z * np.sqrt(p * (1 - p) / np.maximum(n, 1) + z**2 / (4 * np.maximum(n, 1) ** 2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def response_outcomes(wh: Warehouse, as_of: AsOf, survey_type: str = "nps",
                      source: ResponseSource = ResponseSource.ALL):
    """One row per complete response: account_id, score, responded_on, churned_90d, expanded_180d, new_product_180d."""
    day = as_of_date(as_of)
    cutoff = ibis.literal(day - dt.timedelta(days=EXPANSION_DAYS), type="date")
    s = _from(wh.as_of("survey_responses", day), ResponseSource(source))
    s = s.filter(s.survey_type == survey_type).mutate(on=s.responded_at.date())
    s = s.filter(s.on <= cutoff).select("response_id", "account_id", "score", "on")
    subs = wh.as_of("subscriptions", day)
    j = s.join(subs, s.account_id == subs.account_id)

    def running(at):
        return (j.started_on <= at) & (j.ended_on.isnull() | (j.ended_on > at))

    d0, d90, d180 = j.on, j.on + ibis.interval(days=CHURN_DAYS), j.on + ibis.interval(days=EXPANSION_DAYS)
    per = j.group_by(["response_id", "account_id", "score", "on"]).aggregate(
        live0=running(d0).any(),
        live90=running(d90).any(),
        mrr0=ibis.ifelse(running(d0), j.mrr, 0.0).sum(),
        mrr180=ibis.ifelse(running(d180), j.mrr, 0.0).sum(),
    )
    held0 = j.filter(running(d0)).select("response_id", "product_id").distinct()
    started = j.filter((j.started_on > d0) & (j.started_on <= d180)).select("response_id", "product_id").distinct()
    fresh = started.anti_join(held0, ["response_id", "product_id"])
    fresh = fresh.group_by("response_id").aggregate(new_products=fresh.count())
    per = per.filter(per.live0)
    per = per.left_join(fresh, per.response_id == fresh.response_id).select(per, fresh.new_products)
    new_product = per.new_products.fill_null(0) > 0
    return per.select(
        "account_id", "score", responded_on=per.on,
        churned_90d=as_int(~per.live90).cast("int8"),  # not bool.cast: PostgreSQL casts booleans only to int
        expanded_180d=as_int((per.mrr180 > per.mrr0 + 0.005) | new_product).cast("int8"),
        new_product_180d=as_int(new_product).cast("int8"),
    )


def score_outcomes(wh: Warehouse, as_of: AsOf, survey_type: str = "nps",
                   source: ResponseSource = ResponseSource.ALL) -> pd.DataFrame:
    """Per score value: responses, and the rate (with 95 % interval) of each later outcome."""
    r = response_outcomes(wh, as_of, survey_type, source)
    agg = wh.execute(
        r.group_by("score").aggregate(
            responses=r.count(), churned=r.churned_90d.sum(), expanded=r.expanded_180d.sum(),
            new_product=r.new_product_180d.sum(),
        ).order_by("score")
    )
    n = agg["responses"].to_numpy(dtype=float)
    for col, name in (("churned", "churn_90d"), ("expanded", "expansion_180d"), ("new_product", "new_product_180d")):
        k = agg.pop(col).to_numpy(dtype=float)
        lo, hi = wilson(k, n)
        agg[name] = k / np.maximum(n, 1)
        agg[f"{name}_lo"] = lo
        agg[f"{name}_hi"] = hi
    return agg


def referral_timing(wh: Warehouse, as_of: AsOf, *, promoter_min: int = 9, window_days: int = 365) -> pd.DataFrame:
    """For promoters (NPS ≥ ``promoter_min``) whose window is complete: share whose account referred a lead
    (``leads.source = referral`` with ``referring_account_id``) within each band of days after the survey."""
    day = as_of_date(as_of)
    s = wh.as_of("survey_responses", day)
    s = s.filter((s.survey_type == "nps") & (s.score >= promoter_min)).mutate(on=s.responded_at.date())
    s = s.filter(s.on <= ibis.literal(day - dt.timedelta(days=window_days), type="date"))
    leads = wh.as_of("leads", day)
    leads = leads.filter((leads.source == "referral") & leads.referring_account_id.notnull())
    leads = leads.select(ref_account="referring_account_id", lead_on=leads.created_at.date())
    j = s.left_join(leads, (s.account_id == leads.ref_account) & (leads.lead_on >= s.on)
                    & (leads.lead_on <= s.on + ibis.interval(days=window_days)))
    first = j.group_by("response_id").aggregate(days=j.lead_on.min().delta(j.on.min(), unit="day"))
    frame = wh.execute(first)
    total = len(frame)
    edges = list(REFERRAL_BUCKETS)
    labels = [f"{a + (1 if a else 0)}-{b} days" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    bands = pd.cut(frame["days"].astype(float), bins=[-1, *edges[1:]], labels=labels)
    counts = bands.value_counts(sort=False).reindex(labels, fill_value=0)
    out = pd.DataFrame({"days_after_survey": labels, "referrals": counts.to_numpy()})
    out["share_of_promoters"] = out["referrals"] / max(total, 1)
    out["promoter_responses"] = total
    return out


def best_referral_delay(timing: pd.DataFrame) -> int:
    """Days after an NPS answer when a promoter is most likely to refer: the start of the band of
    :func:`referral_timing` with the largest share (0, at once, when no promoter's window is complete yet)."""
    if timing.empty or int(timing["referrals"].sum()) == 0:
        return 0
    band = timing["days_after_survey"].iloc[int(timing["share_of_promoters"].to_numpy().argmax())]
    start = int(str(band).split("-", 1)[0])
    return 0 if start <= 1 else start
