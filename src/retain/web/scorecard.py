"""The active health scorecard, read-only, with its validation issues."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retain.health import validate


@dataclass(frozen=True)
class ScorecardView:
    path: str
    text: str
    issues: list[str]


def active_scorecard(path: str | None = None) -> ScorecardView:
    p = Path(path) if path else validate.default_path()
    text = p.read_text(encoding="utf-8") if p.exists() else ""
    return ScorecardView(str(p), text, [str(i) for i in validate.validate_file(p)])
