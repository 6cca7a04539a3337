"""How numbers look on pages (money, percentages, deltas, grades), as template functions.

Plain Python functions rather than Jinja macros, so they are unit-tested and escape what they wrap. "–" marks a
missing value.
"""

from __future__ import annotations

from markupsafe import Markup

MISSING = "–"


def money(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.0f}"


def num(value: float | None, fmt: str = "{:.1f}") -> str:
    return MISSING if value is None else fmt.format(value)


def pct(value: float | None) -> str:
    return MISSING if value is None else f"{value:.0%}"


def delta(value: float | None) -> Markup | str:
    if value is None:
        return MISSING
    if value > 0:
        return Markup('<span class="up">+{:.1f}</span>').format(value)
    if value < 0:
        return Markup('<span class="down">{:.1f}</span>').format(value)
    return "0.0"


def grade(value: str | None) -> Markup | str:
    if not value:
        return MISSING
    return Markup('<span class="grade g-{}">{}</span>').format(str(value).lower(), value)


FUNCTIONS = {"money": money, "num": num, "pct": pct, "delta": delta, "grade": grade}
