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
from dataclasses import dataclass, field

from retain.state.models import AccountSnapshot

HEALTH_KEY = "health"
KEPT = 5  # components kept per list when publishing (the page shows the first three improvements)


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


def account_insight(account: AccountSnapshot, top: int = 3) -> Insight:
    """The published insight of ``account``: changes since the previous score and the ``top`` improvements."""
    stored = (account.detail or {}).get(HEALTH_KEY) or {}
    return Insight(since=stored.get("since"), changes=list(stored.get("changes") or []),
                   improve=list(stored.get("improve") or [])[:top])
