"""Reason codes in plain words: one template per model feature, with its unit and a comparison with peers.

A reason reads as a sentence a person can check ("licences used: 6 % of 704 seats; similar accounts: 71 %"), never
as a raw feature value. Every feature the models can emit has exactly one :class:`Template` in :data:`TEMPLATES`
(a test fails when one is missing). A reason also says whether it raises or lowers the risk (:class:`Direction`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from retain.models.features import CATEGORICAL, FEATURES


class Direction(StrEnum):
    """Whether a reason pushes the churn risk up or down."""

    RAISES = "raises"
    LOWERS = "lowers"


@dataclass(frozen=True)
class Template:
    """How one feature reads: ``says`` holds ``{v}`` (the value scaled by ``scale``, formatted by ``fmt`` and followed
    by ``unit``) and optionally other features of the same row by name (shown as whole numbers)."""

    label: str
    says: str
    fmt: str = ",.0f"
    unit: str = ""
    scale: float = 1.0
    compare: bool = True  # whether a median over similar accounts means something for this feature
    missing: str | None = None  # what a missing value means, when more than "no data on <label>"

    def value(self, x: float) -> str:
        shown = round(x * self.scale, _decimals(self.fmt))
        return f"{shown + 0.0:{self.fmt}}{self.unit}"  # + 0.0: never "-0"

    def phrase(self, x: float | None, row: dict | None = None, peer: float | None = None) -> str:
        """The sentence for value ``x`` (``row``: the other features of the account; ``peer``: the median of
        similar accounts)."""
        if _missing(x):
            return self.missing or f"no data on {self.label}"
        fields = {k: (f"{v:,.0f}" if not _missing(v) else "?") for k, v in (row or {}).items()
                  if isinstance(v, int | float)}
        text = self.says.format(v=self.value(x), **{k: v for k, v in fields.items() if k != "v"})
        if self.compare and not _missing(peer):
            text += f"; similar accounts: {self.value(peer)}"
        return text


def _decimals(fmt: str) -> int:
    return int(fmt.split(".")[1][0]) if "." in fmt else 0


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


YEARS = 1 / 365.25
TEMPLATES: dict[str, Template] = {
    "arr": Template("contract size", "annual recurring revenue {v}"),
    "products_held": Template("products held", "{v} products held"),
    "licences": Template("licences", "{v} licences (seats)"),
    "tenure_days": Template("tenure", "customer for {v}", ".1f", " years", YEARS),
    "days_to_renewal": Template("renewal date", "renewal in {v}", unit=" days",
                                missing="no renewal date on file"),
    "mrr_change_90d": Template("MRR change", "MRR change over 90 days: {v}", "+.0f", " %", 100.0),
    "discount_share": Template("discount", "discount: {v} of list price", unit=" %", scale=100.0),
    "users_30d": Template("active users", "{v} active users a day (last 30 days)", ".1f"),
    "users_90d": Template("active users", "{v} active users a day (last 90 days)", ".1f"),
    "usage_trend": Template("usage trend", "use in the last 30 days at {v} of the 90-day level", unit=" %",
                            scale=100.0),
    "utilisation": Template("licence use", "licences used: {v} of {licences} seats", unit=" %", scale=100.0),
    "events_per_user_30d": Template("depth of use", "{v} events per active user a day (last 30 days)", ".1f"),
    "feature_breadth_30d": Template("features used", "{v} features used (last 30 days)"),
    "days_since_usage": Template("product use", "last product use {v} ago", unit=" days",
                                 missing="no product use on record"),
    "tickets_90d": Template("support tickets", "{v} support tickets in 90 days"),
    "urgent_tickets_90d": Template("urgent tickets", "{v} high-priority tickets in 90 days"),
    "open_tickets": Template("open tickets", "{v} tickets still open"),
    "escalations_90d": Template("escalations", "{v} escalated tickets in 90 days"),
    "last_nps": Template("NPS", "last NPS answer {v} of 10",
                         missing="no NPS answer on record"),
    "min_survey_180d": Template("survey scores", "worst survey answer in 180 days: {v} of 10", ".1f",
                                missing="no survey answer in 180 days"),
    "avg_csat_180d": Template("CSAT", "average CSAT {v} of 5 (last 180 days)", ".1f",
                              missing="no CSAT answer in 180 days"),
    "days_since_survey": Template("surveys", "last survey answer {v} ago", unit=" days",
                                  missing="no survey answer on record"),
    "overdue_invoices": Template("invoices", "{v} overdue invoices"),
    "max_days_overdue": Template("payments", "oldest unpaid invoice {v} overdue", unit=" days"),
    "activities_90d": Template("touchpoints", "{v} touchpoints in 90 days"),
    "days_since_exec_meeting": Template("executive meetings", "last executive meeting {v} ago", unit=" days",
                                        missing="no executive meeting on record"),
    "days_since_activity": Template("contact", "last contact {v} ago", unit=" days",
                                    missing="no contact on record"),
    "champions_left_180d": Template("champions", "{v} champion(s) or sponsor(s) left in the last 180 days"),
    "contacts": Template("contacts", "{v} active contacts"),
    "open_addon_opps": Template("add-on deals", "{v} open add-on deals"),
}
CATEGORY_TEMPLATES: dict[str, str] = {"segment": "segment: {v}"}


def features_without_template() -> list[str]:
    """Features the models can emit that no template covers (a test keeps this empty)."""
    return sorted((set(FEATURES) - set(TEMPLATES)) | (set(CATEGORICAL) - set(CATEGORY_TEMPLATES)))


def phrase(feature: str, value, row: dict | None = None, peer: float | None = None) -> str:
    """The plain-words reason for ``feature`` at ``value``; see :data:`TEMPLATES`."""
    if feature in CATEGORY_TEMPLATES:
        return CATEGORY_TEMPLATES[feature].format(v=value if not _missing(value) else "unknown")
    try:
        template = TEMPLATES[feature]
    except KeyError:
        raise KeyError(f"no reason template for feature {feature!r}: add one to retain.models.reasons") from None
    return template.phrase(None if _missing(value) else float(value), row, peer)


def reason(feature: str, contribution: float, value, row: dict | None = None, peer: float | None = None) -> dict:
    """One stored reason: ``{feature, phrase, contribution, direction}``."""
    return {"feature": feature, "phrase": phrase(feature, value, row, peer),
            "contribution": round(float(contribution), 4),
            "direction": (Direction.RAISES if contribution > 0 else Direction.LOWERS).value}


def _humanise(feature: str) -> str:
    return feature.replace("__", " ").replace("_", " ").strip()


# Names the generated features share with the fixed ones but with another meaning (the generated MRR change is
# an amount, the fixed one a ratio): the generated wording wins, as the generated features are the default.
GENERATED_FIRST = frozenset({"mrr_change_90d"})


def describe(feature: str, value, peer=None, row: dict | None = None) -> str:
    """A plain-words reason for any feature: the fixed features' template when it has one (:func:`phrase`), else
    the generated features' (:mod:`retain.models.generated_reasons`, e.g. ``ev_login_events_30d``), else the
    feature's name in words with its value and the median of the accounts scored with it."""
    from retain.models import generated_reasons

    if feature in GENERATED_FIRST or not (feature in TEMPLATES or feature in CATEGORY_TEMPLATES):
        said = generated_reasons.phrase(feature, value, row, None if _missing(peer) else peer)
        if said is not None:
            return said
    if feature in TEMPLATES or feature in CATEGORY_TEMPLATES:
        try:
            return phrase(feature, value, row, None if _missing(peer) else peer)
        except KeyError:  # a template naming another feature this frame does not have
            pass
    if isinstance(value, str) or (value is not None and not isinstance(value, int | float)):
        return f"{_humanise(feature)}: {value}"
    if _missing(value):
        return f"no data on {_humanise(feature)}"
    text = f"{_humanise(feature)}: {float(value):,.3g}"
    if not _missing(peer):
        text += f"; similar accounts: {float(peer):,.3g}"
    return text
