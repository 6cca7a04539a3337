"""Why an account's health changed and what to improve, as the Account 360 page shows them.

One definition for every face: :mod:`retain.health.explain` computes both (``component_changes`` and
``improvements``, the same functions ``retain explain`` uses) from the stored health results when Retain
publishes; the page only reads what was published, so it agrees with the CLI for the same account and dates.

Published per account under ``account_details.detail["health"]``: ``since`` (the previous stored score date),
``changes`` (per component: score before/after and the change of its points of the total, biggest first) and
``improve`` (per component below its peers' 75th percentile: the total if it alone reached it, best gain first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from retain.results import HealthGrade
from retain.state.models import AccountSnapshot

HEALTH_KEY = "health"
KEPT = 5  # components kept per list when publishing (the page shows the first three improvements)
TOP = 3  # improvements and reasons a face shows
# Health and the churn model disagree "by much": a red grade with churn below LOW_CHURN, or green with HIGH_CHURN+
LOW_CHURN, HIGH_CHURN = 0.2, 0.5


@dataclass(frozen=True)
class Insight:
    since: str | None = None
    changes: list[dict] = field(default_factory=list)
    improve: list[dict] = field(default_factory=list)


def _records(frame, columns: tuple[str, ...]) -> dict[str, list[dict]]:
    """Per account the first :data:`KEPT` rows of ``frame`` (already in display order) as JSON-safe dicts."""
    out: dict[str, list[dict]] = {}
    head = frame.groupby("account_id", sort=False).head(KEPT)
    for rec in head[["account_id", *columns]].to_dict("records"):  # at most KEPT rows per account
        out.setdefault(str(rec.pop("account_id")), []).append(
            {k: (None if v != v else round(float(v), 6) if isinstance(v, float) else v) for k, v in rec.items()})
    return out


def health_insights(wh, day: dt.date) -> dict[str, dict]:
    """Per account, the published "why it changed" and "what to improve" (see module docs); {} without scores."""
    from retain.health.explain import component_changes, improvements, stored_result
    from retain.health.history import stored_dates

    now = stored_result(wh, day, measures=False)
    if now is None:
        return {}
    earlier = [d for d in stored_dates(wh) if d < day]
    before = stored_result(wh, earlier[-1], measures=False) if earlier else None
    improve = _records(improvements(now), ("component", "score", "target", "weight_pct", "total_now", "total_if",
                                           "uncapped_if", "gain"))
    changes: dict[str, list[dict]] = {}
    if before is not None:
        moved = component_changes(before.components, now.components)
        changes = _records(moved.loc[moved["change"].abs() >= 0.05],
                           ("component", "score_before", "score_after", "change", "score_effect", "weight_effect"))
    since = earlier[-1].isoformat() if before is not None else None
    return {str(a): {"since": since, "changes": changes.get(str(a), []), "improve": improve.get(str(a), [])}
            for a in now.scores["account_id"]}


def add_health_insights(wh, day: dt.date, details: dict[str, dict]) -> dict[str, dict]:
    """``details`` (per account detail dicts being published) with each account's health insight added."""
    for account_id, insight in health_insights(wh, day).items():
        details.setdefault(account_id, {})[HEALTH_KEY] = insight
    return details


def account_insight(account: AccountSnapshot, top: int = TOP) -> Insight:
    """The published insight of ``account``: changes since the previous score and the ``top`` improvements."""
    return insight_of(account.detail, top)


def insight_of(detail: Mapping[str, Any] | None, top: int = TOP) -> Insight:
    """The insight published in an account's ``detail`` (what the page, the API and ``retain explain`` show)."""
    stored = (detail or {}).get(HEALTH_KEY) or {}
    return Insight(since=stored.get("since"), changes=list(stored.get("changes") or []),
                   improve=list(stored.get("improve") or [])[:top])


@dataclass(frozen=True)
class Disagreement:
    """Health and the churn model read an account very differently: each side's verdict and its top reasons."""

    health: str  # e.g. "red health (31.0)"
    model: str  # e.g. "7% churn within 90 days"
    health_reasons: list[str]
    model_reasons: list[str | dict]


def disagreement(account: Mapping[str, Any], window_days: int, top: int = TOP) -> Disagreement | None:
    """Whether health and the churn model disagree by much about ``account`` (a mapping of its snapshot columns
    and ``components``/``reasons``): a red grade with churn below :data:`LOW_CHURN`, or a green one with churn at
    :data:`HIGH_CHURN` or more; None when they agree or one side is missing.

    Health's reasons are its score note (a cap or default) and its weakest components for a red grade (strongest
    for green); the model's are its reasons pointing its way (risk raised when it says high, lowered when low)."""
    grade, churn = account.get("health_grade"), account.get("churn_probability")
    if grade is None or churn is None:
        return None
    red = grade == HealthGrade.RED.value and churn < LOW_CHURN
    green = grade == HealthGrade.GREEN.value and churn >= HIGH_CHURN
    if not (red or green):
        return None
    scored = [c for c in account.get("components") or [] if isinstance(c.get("score"), int | float)]
    scored.sort(key=lambda c: c["score"], reverse=green)
    note = account.get("score_note")
    health_reasons = ([note] if note else []) + [f"{c['component']} {c['score']:.0f}/100" for c in scored[:top]]
    way = "lowers" if red else "raises"
    reasons = [r for r in account.get("reasons") or [] if not (note and _phrase(r) == note)]
    pointing = [r for r in reasons if isinstance(r, dict) and r.get("direction") == way]
    total = account.get("health_total")
    health = f"{grade} health" + ("" if total is None else f" ({float(total):.1f})")
    return Disagreement(health=health, model=f"{float(churn):.0%} churn within {window_days} days",
                        health_reasons=health_reasons[:top + 1], model_reasons=(pointing or reasons)[:top])


def _phrase(reason: str | dict) -> str:
    return str(reason.get("phrase", "")) if isinstance(reason, dict) else str(reason)


def snapshot_values(account: AccountSnapshot) -> dict[str, Any]:
    """``account``'s columns with its components and reasons, as :func:`disagreement` reads them."""
    values = {c.name: getattr(account, c.name) for c in AccountSnapshot.__table__.columns}
    return values | {"components": account.components, "reasons": account.reasons}
