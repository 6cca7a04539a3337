"""What changed in an account's health and what to improve, from its stored components and history."""

from __future__ import annotations

from dataclasses import dataclass, field

from retain.state.models import AccountSnapshot, ScoreHistory


@dataclass(frozen=True)
class Insight:
    changes: list[dict] = field(default_factory=list)
    improve: list[dict] = field(default_factory=list)


def _weight(component: dict) -> float | None:
    w = component.get("weight")
    if w is None:
        return None
    w = float(w)
    return w / 100.0 if w > 1 else w


def account_insight(account: AccountSnapshot, history: list[ScoreHistory], top: int = 3) -> Insight:
    """Components that moved since the previous published score, and the ones with most room to gain.

    The gain of a component is ``weight x (100 - score)``: the health points it would add at full score.
    """
    parts = [c for c in (account.components or []) if c.get("score") is not None]
    now = {str(c.get("component")): float(c["score"]) for c in parts}
    earlier = [h for h in history if h.as_of < account.as_of and h.components]
    changes = []
    if earlier and now:
        before = earlier[-1].components or {}
        changes = [{"component": k, "delta": v - float(before[k])} for k, v in now.items()
                   if before.get(k) is not None and abs(v - float(before[k])) >= 0.5]
        changes.sort(key=lambda c: -abs(c["delta"]))
    improve = []
    for c in parts:
        weight = _weight(c)
        gain = None if weight is None else weight * (100.0 - float(c["score"]))
        improve.append({"component": str(c.get("component")), "score": float(c["score"]), "gain": gain})
    improve.sort(key=lambda c: (-(c["gain"] or 0.0), c["score"]))
    return Insight(changes=changes[:top * 2], improve=improve[:top])
