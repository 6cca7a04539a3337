"""How numbers look on pages (money, percentages, deltas, grades), as template functions.

Plain Python functions rather than Jinja macros, so they are unit-tested and escape what they wrap. "–" marks a
missing value.
"""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup

from retain.models.labels import CHURN_DAYS

MISSING = "–"
CHURN_WINDOW_DAYS = CHURN_DAYS  # the churn model's horizon: "churn within 90 days"
# Churn probability bands for styling: red from HIGH, amber from WATCH, no colour below (a 0 % is never red).
CHURN_HIGH, CHURN_WATCH = 0.5, 0.2


def _clean(value: float, digits: int) -> float:
    """``value`` rounded to ``digits``, with a negative zero made positive (so "-0.0" is never printed)."""
    return round(float(value), digits) + 0.0


def money(value: float | None, currency: str | None = None) -> str:
    """Whole units with thousands separators and, when known, the ISO currency code: "1,234 EUR"; a total of
    several currencies says so: "1,234 (mixed currencies)"."""
    if value is None:
        return MISSING
    text = f"{_clean(value, 0):,.0f}"
    if not currency:
        return text
    return f"{text} {currency}" if len(currency) <= 3 else f"{text} ({currency})"


def num(value: float | None, fmt: str = "{:.1f}") -> str:
    if value is None:
        return MISSING
    text = fmt.format(value)
    if text.startswith("-") and not any(ch in "123456789" for ch in text):  # a rounded negative zero
        text = ("+" if "+" in fmt else "") + text[1:]
    return text


def pct(value: float | None) -> str:
    return MISSING if value is None else f"{_clean(value, 2):.0%}"


def churn(value: float | None) -> Markup | str:
    """A churn probability as a percentage, styled by value: ``risk-high`` from 50 %, ``risk-watch`` from 20 %,
    ``risk-low`` below; the title says the window."""
    if value is None:
        return MISSING
    level = "high" if value >= CHURN_HIGH else "watch" if value >= CHURN_WATCH else "low"
    return Markup('<span class="risk-{}" title="probability of churn within {} days">{}</span>').format(
        level, CHURN_WINDOW_DAYS, pct(value))


def delta(value: float | None) -> Markup | str:
    if value is None:
        return MISSING
    value = _clean(value, 1)  # round first, so -0.04 reads "0.0", never "-0.0"
    if value > 0:
        return Markup('<span class="up">+{:.1f}</span>').format(value)
    if value < 0:
        return Markup('<span class="down">{:.1f}</span>').format(value)
    return "0.0"


def grade(value: str | None) -> Markup | str:
    if not value:
        return MISSING
    return Markup('<span class="grade g-{}">{}</span>').format(str(value).lower(), value)


def score_note(note: str | None) -> Markup | str:
    """A mark beside a health total that is not the weighted score: "capped" (a critical factor capped it),
    "default" (no data: the scorecard's default) or "note"; the full note is its title."""
    if not note:
        return ""
    text = str(note)
    kind = "capped" if text.startswith("capped") else "default" if text.startswith("default") else "note"
    return Markup('<abbr class="score-note {}" title="{}">{}</abbr>').format(kind, text, kind)


def day(value) -> str:
    """A date (or timestamp) as ISO ``YYYY-MM-DD``."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def reason(item: str | dict) -> Markup:
    """One reason as a list item coloured by direction: ``raises`` (risk, red), ``lowers`` (protective, green);
    a plain text reason has no direction."""
    if isinstance(item, dict):
        direction = item.get("direction") or ""
        label = {"raises": "raises risk", "lowers": "lowers risk"}.get(direction, "")
        return Markup('<li class="reason {}" title="{}">{}</li>').format(direction, label, item.get("phrase", ""))
    return Markup('<li class="reason">{}</li>').format(item)


FUNCTIONS = {"money": money, "num": num, "pct": pct, "churn": churn, "delta": delta, "grade": grade, "day": day,
             "reason": reason, "score_note": score_note, "churn_window_days": CHURN_WINDOW_DAYS}
