"""Deal warnings: plain rules over the point-in-time deal features, each a code a rep can act on.

Rules (thresholds in :class:`WarningRules`):

- ``no_activity``: nothing logged on the deal for ``no_activity_days`` (14) days.
- ``no_buyer_reply``: the deal is ``no_reply_days`` (21) days old and the buyer never answered (no inbound activity).
- ``stalled``: in its stage for more than ``stalled_factor`` (2) times the stage's typical time.
- ``close_date_passed``: the expected close date is before today and the deal is still open.
- ``no_decision_maker``: ``no_decision_maker_days`` (30) days old and no decision maker or executive sponsor engaged.
- ``pricing_not_discussed``: in the second half of the funnel, calls recorded, and pricing never came up in them.
- ``single_contact``: two weeks old and one contact engaged (single-threaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import ibis
import ibis.expr.types as ir

from retain.metrics.dimensions import as_int


class DealWarning(StrEnum):
    NO_ACTIVITY = "no_activity"
    NO_BUYER_REPLY = "no_buyer_reply"
    STALLED = "stalled"
    CLOSE_DATE_PASSED = "close_date_passed"
    NO_DECISION_MAKER = "no_decision_maker"
    PRICING_NOT_DISCUSSED = "pricing_not_discussed"
    SINGLE_CONTACT = "single_contact"


WORDS = {
    DealWarning.NO_ACTIVITY: "no activity lately",
    DealWarning.NO_BUYER_REPLY: "the buyer never replied",
    DealWarning.STALLED: "stalled in stage",
    DealWarning.CLOSE_DATE_PASSED: "close date passed",
    DealWarning.NO_DECISION_MAKER: "no decision maker engaged",
    DealWarning.PRICING_NOT_DISCUSSED: "pricing never discussed",
    DealWarning.SINGLE_CONTACT: "a single contact engaged",
}


@dataclass(frozen=True)
class WarningRules:
    no_activity_days: float = 14.0
    no_reply_days: float = 21.0
    stalled_factor: float = 2.0
    no_decision_maker_days: float = 30.0
    single_contact_days: float = 14.0
    late_stage_position: float = 1.5  # stage_position from which pricing should have come up (0 = first stage)


def rules(t: ir.Table, r: WarningRules = WarningRules()) -> dict[DealWarning, ir.BooleanValue]:
    """Each warning as a boolean expression over a :func:`~retain.sales.features.deal_features` table."""
    return {
        DealWarning.NO_ACTIVITY: t.days_since_activity > r.no_activity_days,
        DealWarning.NO_BUYER_REPLY: (t.age_days > r.no_reply_days) & (t.buyer_replies == 0),
        DealWarning.STALLED: t.typical_days_in_stage.notnull()
        & (t.days_in_stage > r.stalled_factor * t.typical_days_in_stage),
        DealWarning.CLOSE_DATE_PASSED: t.close_on.notnull() & (t.close_on.cast("date") < t.as_of),
        DealWarning.NO_DECISION_MAKER: (t.age_days > r.no_decision_maker_days) & (t.decision_maker == 0),
        DealWarning.PRICING_NOT_DISCUSSED: (t.stage_position >= r.late_stage_position) & (t.calls > 0)
        & (t.pricing_events == 0),
        DealWarning.SINGLE_CONTACT: (t.age_days > r.single_contact_days) & (t.contacts_engaged == 1),
    }


def with_warnings(t: ir.Table, r: WarningRules = WarningRules()) -> ir.Table:
    """``t`` with ``warnings`` (the codes that fire, comma-separated, '' when none) and ``warning_count``."""
    fired = rules(t, r)
    parts = [ibis.ifelse(cond.fill_null(False), code.value + ",", "") for code, cond in fired.items()]
    text = parts[0]
    for p in parts[1:]:
        text = text + p
    count = sum((as_int(cond.fill_null(False)) for cond in fired.values()), ibis.literal(0))
    return t.mutate(warnings=text.re_replace(",$", ""), warning_count=count)


def describe(codes: str | None) -> str:
    """The warning codes of a deal in words."""
    if not codes:
        return ""
    return "; ".join(WORDS.get(DealWarning(c), c) for c in codes.split(",") if c)
