"""Reason phrases for the features generated from the data (:mod:`retain.models.generated`), in plain words.

Generated names follow a few patterns per family (``ev_<event type>_events_30d``, ``holds_<product>``,
``attr_<key>``, ``<survey type>_avg_365d``...), so each pattern has one :class:`~retain.models.reasons.Template`
whose label and sentence name the event type, product, key or survey read back from the feature's name. Every
name a family can emit matches exactly one rule (:func:`template_for`); a test builds the features of every data
shape and fails on a name without one (:func:`features_without_phrase`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from retain.models.reasons import Template

YEARS = 1 / 365.25


@dataclass(frozen=True)
class Rule:
    """A name pattern and the template of a name it matches (``make`` receives the pattern's groups)."""

    pattern: re.Pattern
    make: Callable[..., Template]


@dataclass(frozen=True)
class YesNo(Template):
    """A 0/1 feature read as a sentence: ``says`` when 1, ``no`` when 0."""

    no: str = ""

    def phrase(self, x: float | None, row: dict | None = None, peer: float | None = None) -> str:
        if x is None or x != x:
            return self.missing or f"no data on {self.label}"
        return self.says if x >= 0.5 else self.no


def _words(slug: str) -> str:
    return slug.replace("_", " ").strip()


def _fixed(template: Template) -> Callable[..., Template]:
    return lambda *_: template


def _rule(pattern: str, make: Callable[..., Template] | Template) -> Rule:
    return Rule(re.compile(f"^{pattern}$"), make if callable(make) else _fixed(make))


NEVER_USED = "no product use on record"
RULES: tuple[Rule, ...] = (
    # usage (events; active users where the data has user counts)
    _rule(r"events_(\d+)d", lambda d: Template("product use", f"{{v}} events in the last {d} days")),
    _rule(r"active_days_(\d+)d", lambda d: Template("active days", f"active on {{v}} of the last {d} days")),
    _rule(r"events_per_month_(\d+)d", lambda d: Template("product use", f"{{v}} events a month (last {d} days)",
                                                         ",.1f")),
    _rule(r"active_users_(\d+)d", lambda d: Template("active users", f"{{v}} active users a day (last {d} days)",
                                                     ".1f")),
    _rule(r"events_per_user_(\d+)d", lambda d: Template("depth of use",
                                                        f"{{v}} events per active user a day (last {d} days)",
                                                        ".1f")),
    _rule(r"feature_breadth_(\d+)d", lambda d: Template("features used", f"{{v}} kinds of events (last {d} days)")),
    _rule(r"usage_trend", Template("usage trend", "use in the last 30 days at {v} of the 90-day level", unit=" %",
                                   scale=100.0, missing=NEVER_USED)),
    _rule(r"days_since_usage", Template("product use", "last product use {v} ago", unit=" days",
                                        missing=NEVER_USED)),
    _rule(r"users_per_licence_(\d+)d", lambda d: Template("licence use", f"{{v}} of licences used daily (last {d} "
                                                          "days)", unit=" %", scale=100.0,
                                                          missing="no seat-based licences")),
    _rule(r"events_per_licence_(\d+)d", lambda d: Template("use per licence", f"{{v}} events per licence (last {d} "
                                                           "days)", ",.1f", missing="no seat-based licences")),
    # per event type
    _rule(r"ev_(\w+?)_events_(\d+)d", lambda t, d: Template(f"'{_words(t)}' use", f"{{v}} '{_words(t)}' events "
                                                            f"in the last {d} days")),
    _rule(r"ev_(\w+?)_days_(\d+)d", lambda t, d: Template(f"'{_words(t)}' use", f"'{_words(t)}' on {{v}} of the "
                                                          f"last {d} days")),
    _rule(r"ev_(\w+?)_per_month_(\d+)d", lambda t, d: Template(f"'{_words(t)}' use", f"{{v}} '{_words(t)}' "
                                                               f"events a month (last {d} days)", ",.1f")),
    _rule(r"ev_(\w+?)_trend", lambda t: Template(f"'{_words(t)}' trend", f"'{_words(t)}' in the last 30 days at "
                                                 "{v} of the 90-day level", unit=" %", scale=100.0,
                                                 missing=f"no recent '{_words(t)}' events")),
    # contract and holdings
    _rule(r"mrr", Template("contract size", "monthly recurring revenue {v}")),
    _rule(r"mrr_change_(\d+)d", lambda d: Template("MRR change", f"MRR changed by {{v}} over {d} days", "+,.0f")),
    _rule(r"mrr_growth_(\d+)d", lambda d: Template("MRR growth", f"MRR growth over {d} days: {{v}}", "+.0f", " %",
                                                   100.0, missing="no MRR before")),
    _rule(r"products_held", Template("products held", "{v} products held")),
    _rule(r"licences", Template("licences", "{v} licences (seats)")),
    _rule(r"has_term", YesNo("contract term", "has a contract term", compare=False, no="no contract term")),
    _rule(r"discount_share", Template("discount", "discount: {v} of list price", unit=" %", scale=100.0)),
    _rule(r"days_to_renewal", Template("renewal date", "renewal in {v}", unit=" days",
                                       missing="no renewal date on file")),
    _rule(r"tenure_days", Template("tenure", "customer for {v}", ".1f", " years", YEARS)),
    _rule(r"holds_(\w+)", lambda p: YesNo(f"holds {_words(p)}", f"holds {_words(p)}", compare=False,
                                          no=f"does not hold {_words(p)}")),
    _rule(r"core_products", Template("core products", "{v} core products held")),
    _rule(r"addon_products", Template("add-ons", "{v} add-on products held")),
    _rule(r"months_since_holdings_change", Template("holdings", "products last changed {v} months ago", ".1f",
                                                    missing="products never changed")),
    _rule(r"products_(added|dropped)_(\d+)d", lambda how, d: Template(f"products {how}", f"{{v}} products {how} "
                                                                      f"in the last {d} days")),
    # the account
    _rule(r"employees", Template("company size", "{v} employees")),
    _rule(r"attr_(\w+)", lambda k: Template(_words(k), f"{_words(k)}: {{v}}", ",.3g")),
    # support
    _rule(r"tickets_(\d+)d", lambda d: Template("support tickets", f"{{v}} support tickets in {d} days")),
    _rule(r"urgent_tickets_(\d+)d", lambda d: Template("urgent tickets", f"{{v}} high-priority tickets in {d} "
                                                       "days")),
    _rule(r"escalations_(\d+)d", lambda d: Template("escalations", f"{{v}} escalated tickets in {d} days")),
    _rule(r"open_tickets", Template("open tickets", "{v} tickets still open")),
    _rule(r"resolution_days_(\d+)d", lambda d: Template("resolution time", f"tickets took {{v}} days to resolve "
                                                        f"(last {d} days)", ".1f", missing="no ticket resolved "
                                                        "lately")),
    # surveys
    _rule(r"responses_(\d+)d", lambda d: Template("survey answers", f"{{v}} survey answers in {d} days")),
    _rule(r"survey_min_(\d+)d", lambda d: Template("survey scores", f"worst survey answer in {d} days: {{v}} of "
                                                   "10", ".1f", missing=f"no survey answer in {d} days")),
    _rule(r"days_since_survey", Template("surveys", "last survey answer {v} ago", unit=" days",
                                         missing="no survey answer on record")),
    _rule(r"(\w+?)_avg_(\d+)d", lambda t, d: Template(t.upper(), f"average {t.upper()} {{v}} (last {d} days)",
                                                      ".1f", missing=f"no {t.upper()} answer in {d} days")),
    _rule(r"(\w+?)_last", lambda t: Template(t.upper(), f"last {t.upper()} answer {{v}}",
                                             missing=f"no {t.upper()} answer on record")),
    # billing
    _rule(r"overdue_invoices", Template("invoices", "{v} overdue invoices")),
    _rule(r"max_days_overdue", Template("payments", "oldest unpaid invoice {v} overdue", unit=" days")),
    _rule(r"late_payments_(\d+)d", lambda d: Template("late payments", f"{{v}} invoices paid late in {d} days")),
    # relationship
    _rule(r"activities_(\d+)d", lambda d: Template("touchpoints", f"{{v}} touchpoints in {d} days")),
    _rule(r"exec_meetings_(\d+)d", lambda d: Template("executive meetings", f"{{v}} executive meetings or QBRs in "
                                                      f"{d} days")),
    _rule(r"days_since_activity", Template("contact", "last contact {v} ago", unit=" days",
                                           missing="no contact on record")),
    _rule(r"days_since_exec_meeting", Template("executive meetings", "last executive meeting {v} ago",
                                               unit=" days", missing="no executive meeting on record")),
    _rule(r"contacts", Template("contacts", "{v} active contacts")),
    _rule(r"has_primary_contact", YesNo("primary contact", "a primary contact on file", compare=False,
                                        no="no primary contact on file")),
    _rule(r"(contacts|champions)_left_(\d+)d", lambda who, d: Template(
        "champions" if who == "champions" else "contacts",
        f"{{v}} {'champion(s) or sponsor(s)' if who == 'champions' else 'contact(s)'} left in the last {d} days")),
    _rule(r"open_(addon|renewal)_opps", lambda k: Template(f"{'add-on' if k == 'addon' else 'renewal'} deals",
                                                           f"{{v}} open {'add-on' if k == 'addon' else 'renewal'} "
                                                           "deals")),
    # one-off purchases
    _rule(r"purchases_(\d+)d", lambda d: Template("purchases", f"{{v}} purchases in {d} days")),
    _rule(r"spend_(\d+)d", lambda d: Template("spend", f"spent {{v}} in {d} days")),
    _rule(r"days_since_purchase", Template("purchases", "last purchase {v} ago", unit=" days",
                                           missing="no purchase on record")),
)

CATEGORY_LABELS: dict[str, str] = {"billing_period": "billing period", "segment": "segment", "industry": "industry",
                                   "region": "region", "country": "country",
                                   "acquisition_channel": "acquisition channel"}
CATEGORY_PATTERN = re.compile(r"^attr_(\w+)$")


def template_for(feature: str) -> Template | None:
    """The template of a generated numeric feature, or None when no rule matches its name."""
    for rule in RULES:
        hit = rule.pattern.match(feature)
        if hit:
            return rule.make(*hit.groups())
    return None


def category_label(feature: str) -> str | None:
    """What a generated categorical feature is called in a sentence (``billing period``, ``plan tier``)."""
    if feature in CATEGORY_LABELS:
        return CATEGORY_LABELS[feature]
    hit = CATEGORY_PATTERN.match(feature)
    return _words(hit.group(1)) if hit else None


def phrase(feature: str, value, row: dict | None = None, peer: float | None = None,
           categorical: bool = False) -> str | None:
    """The plain-words reason for a generated feature at ``value`` (None when no rule covers its name)."""
    if categorical or isinstance(value, str):
        label = category_label(feature)
        if label is None:
            return None
        return f"{label}: {value if value is not None and value == value else 'unknown'}"
    template = template_for(feature)
    if template is None:
        return None
    number = None if value is None or value != value else float(value)
    return template.phrase(number, row, peer)


def features_without_phrase(numeric: tuple[str, ...] | list[str], categorical: tuple[str, ...] | list[str] = ()
                            ) -> list[str]:
    """The generated features no rule covers (a test keeps this empty for every data shape)."""
    return sorted([f for f in numeric if template_for(f) is None]
                  + [f for f in categorical if category_label(f) is None])
