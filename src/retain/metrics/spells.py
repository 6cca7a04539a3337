"""Customer spells: unbroken stretches during which an account held at least one subscription.

Overlapping or back-to-back subscription periods (an upgrade ends one row and starts the next on the same day) form
one spell; a gap of one day or more starts a new one. A spell's ``spell_end`` is the day after its last day of
service, null while it runs (or while its end is not yet known at ``as_of``).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from retain.metrics.dimensions import as_int, subscriptions
from retain.warehouse import AsOf, Warehouse

# stands for "still running" inside max(): later than any real date
OPEN_END = dt.date(9999, 12, 31)


def spells(wh: Warehouse, as_of: AsOf, *, include_trials: bool = False) -> ir.Table:
    """One row per account and spell: ``spell_no`` (1 = first), ``spell_start``, ``spell_end``, ``spell_mrr_end``."""
    subs = subscriptions(wh, as_of, include_trials=include_trials)
    open_end = ibis.literal(OPEN_END, type="date")
    end = subs.ended_on.fill_null(open_end)
    earlier = ibis.window(group_by=subs.account_id, order_by=[subs.started_on, subs.subscription_id], rows=(None, -1))
    prev_end = end.max().over(earlier)
    marked = subs.mutate(_end=end, _new=as_int(prev_end.isnull() | (subs.started_on > prev_end)))
    running = ibis.window(group_by=marked.account_id, order_by=[marked.started_on, marked.subscription_id],
                          rows=(None, 0))
    numbered = marked.mutate(spell_no=marked._new.sum().over(running))
    grouped = numbered.group_by(["account_id", "spell_no"]).aggregate(
        spell_start=numbered.started_on.min(), _end=numbered._end.max(),
    )
    return grouped.select(
        "account_id", "spell_no", "spell_start",
        spell_end=ibis.ifelse(grouped._end == open_end, ibis.null("date"), grouped._end),
    )


def churn_events(wh: Warehouse, as_of: AsOf, *, include_trials: bool = False) -> ir.Table:
    """Every end of a spell known at ``as_of``: the account stopped being a customer on ``churned_on``.

    ``mrr_lost`` sums the MRR of the periods ending that day; ``cancel_reason`` is theirs (the largest one's
    when several end together, ``unknown`` when none is given).
    """
    subs = subscriptions(wh, as_of, include_trials=include_trials)
    ended = spells(wh, as_of, include_trials=include_trials)
    ended = ended.filter(ended.spell_end.notnull())
    last = subs.join(ended, [subs.account_id == ended.account_id, subs.ended_on == ended.spell_end])
    ranked = last.mutate(
        _rank=ibis.row_number().over(group_by=[last.account_id, last.spell_no],
                                     order_by=[last.cancel_reason.isnull(), ibis.desc(last.mrr)]),
    )
    reason = ranked.group_by(["account_id", "spell_no"]).aggregate(
        cancel_reason=ranked.cancel_reason.max(where=ranked._rank == 0),
        mrr_lost=ranked.mrr.sum(),
    )
    out = ended.join(reason, ["account_id", "spell_no"])
    return out.select(
        "account_id", "spell_no", "spell_start", churned_on=out.spell_end,
        cancel_reason=out.cancel_reason.fill_null("unknown"), mrr_lost=out.mrr_lost,
    )
