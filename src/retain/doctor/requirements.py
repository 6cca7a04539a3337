"""What each analytic needs, and the verdict for the data at hand (pure functions of the facts; no queries).

The requirements, shared with the model and health code so that every face says the same:

- **retention**: subscriptions; without any recorded churn it runs but shows 100 % logo retention (limited).
- **survival**: start dates (subscriptions) and churn dates (subscription ends, ``churn_events`` or
  ``accounts.churned_at``); labels say whether an account churned, not when, so they do not suffice.
- **health**: someone to score (accounts holding a running subscription) and at least one measure source (usage,
  support tickets, surveys, invoices, subscriptions); sources with no rows are "not applicable" components.
- **churn model**: at least :data:`MIN_CHURNS` churned accounts and either churns in at least
  :data:`MIN_CHURN_MONTHS` distinct months (so at least two monthly observation dates have churns in the horizon
  window after them: rolling-origin validation), or ``outcome_labels`` rows about churn with both outcomes (a
  single snapshot is fine: grouped k-fold by account).
- **upsell model**: at least :data:`MIN_EXPANSIONS` expansions (an MRR increase or a new product, an ``upgrade``
  event or an expansion label); none at all means "skipped", not an error.
- **CLV**: repeat transactions (an account buying on two or more days: BG/NBD + Gamma-Gamma) or subscriptions
  whose history spans at least :data:`MIN_PERIODS` billing periods (sBG).
- **calls**: conversations (talk metrics need their words, ``utterances``).
"""

from __future__ import annotations

import datetime as dt

from retain.doctor.report import Analytic, Outcomes, Support, TableFacts, Verdict

MIN_CHURNS = 20
MIN_CHURN_MONTHS = 2
MIN_EXPANSIONS = 20
MIN_PERIODS = 2.0
HEALTH_SOURCES = {"usage": "usage", "support_tickets": "tickets", "survey_responses": "surveys",
                  "invoices": "billing", "subscriptions": "subscriptions"}

CHURN_FIX = ("load subscription end dates (subscriptions.ended_on), churn_events, accounts.churned_at, "
             "or a labels file (outcome_labels)")


def n(value: int | float) -> str:
    """Thousands separators: 1869 -> 1,869."""
    return f"{value:,}"


def _rows(tables: dict[str, TableFacts], name: str) -> int:
    facts = tables.get(name)
    return facts.rows if facts else 0


def _when(first: dt.date | None, last: dt.date | None, dates: int, months: int) -> str:
    if dates == 1 and first is not None:
        return f"all on {first.isoformat()}"
    if months == 1 and first is not None:
        return f"all in {first.strftime('%Y-%m')}, on {n(dates)} days"
    if first is None or last is None:
        return ""
    return f"on {n(dates)} days in {n(months)} months, {first.isoformat()} to {last.isoformat()}"


def retention(tables: dict[str, TableFacts], out: Outcomes, day: dt.date) -> Verdict:
    if out.subscription_accounts == 0:
        return Verdict(Analytic.RETENTION, Support.UNSUPPORTED, f"no subscriptions known by {day.isoformat()}",
                       "load subscriptions (account, product, started_on, mrr); a snapshot export can derive "
                       "started_on from its tenure column in the mapping")
    base = f"{n(out.subscription_accounts)} accounts with subscriptions"
    if out.churned_accounts == 0:
        return Verdict(Analytic.RETENTION, Support.LIMITED,
                       f"{base} but no churn recorded: logo retention reads 100 %", CHURN_FIX)
    return Verdict(Analytic.RETENTION, Support.SUPPORTED, f"{base}, {n(out.churned_accounts)} churned")


def survival(tables: dict[str, TableFacts], out: Outcomes, day: dt.date) -> Verdict:
    if out.subscription_accounts == 0:
        return Verdict(Analytic.SURVIVAL, Support.UNSUPPORTED, "needs start dates; no subscriptions",
                       "load subscriptions with started_on (or derive it from tenure in the mapping)")
    if out.churned_accounts == 0:
        labels = " (outcome_labels say whether, not when)" if out.label_rows else ""
        return Verdict(Analytic.SURVIVAL, Support.UNSUPPORTED, f"needs churn dates; none recorded{labels}",
                       "load subscription end dates, churn_events or accounts.churned_at")
    return Verdict(Analytic.SURVIVAL, Support.SUPPORTED,
                   f"{n(out.subscription_accounts)} accounts with start dates, {n(out.churned_accounts)} with "
                   f"churn dates")


def health(tables: dict[str, TableFacts], out: Outcomes, day: dt.date) -> Verdict:
    present = [label for name, label in HEALTH_SOURCES.items() if _rows(tables, name)]
    absent = [label for name, label in HEALTH_SOURCES.items() if not _rows(tables, name)]
    if not present:
        return Verdict(Analytic.HEALTH, Support.UNSUPPORTED, "no measure source (usage, tickets, surveys, billing, "
                       "subscriptions) has rows", "load subscriptions and at least one of usage, support_tickets, "
                       "survey_responses, invoices")
    if out.running_accounts == 0:
        return Verdict(Analytic.HEALTH, Support.UNSUPPORTED,
                       f"nobody to score: no account holds a running subscription on {day.isoformat()}",
                       "load subscriptions still running (no ended_on), or choose an earlier --as-of")
    reason = f"{n(out.running_accounts)} accounts to score from {', '.join(present)}"
    if absent:
        reason += f"; not applicable: {', '.join(absent)}"
    return Verdict(Analytic.HEALTH, Support.SUPPORTED, reason)


def _churn_from_labels(out: Outcomes) -> Verdict | None:
    if not out.label_rows:
        return None
    kept = out.label_rows - out.labels_churned
    when = f"on {n(out.label_dates)} observation date{'s' if out.label_dates != 1 else ''}"
    if out.labels_churned >= MIN_CHURNS and kept > 0:
        design = "grouped k-fold by account" if out.label_dates == 1 else "rolling-origin over observation dates"
        return Verdict(Analytic.CHURN_MODEL, Support.SUPPORTED,
                       f"{n(out.label_rows)} labels {when}, {n(out.labels_churned)} churned ({design})")
    if kept == 0:
        return Verdict(Analytic.CHURN_MODEL, Support.UNSUPPORTED,
                       f"outcome_labels: all {n(out.label_rows)} labels {when} say churned: only one outcome",
                       "label the accounts that stayed too (happened = false)")
    return None


def churn_model(tables: dict[str, TableFacts], out: Outcomes, day: dt.date) -> Verdict:
    by_labels = _churn_from_labels(out)
    if by_labels is not None and by_labels.ok:
        return by_labels
    sources = ", ".join(s.source for s in out.churn_sources)
    when = _when(out.first_churn_on, out.last_churn_on, out.churn_dates, out.churn_months)
    if out.churned_accounts >= MIN_CHURNS and out.churn_months >= MIN_CHURN_MONTHS:
        return Verdict(Analytic.CHURN_MODEL, Support.SUPPORTED,
                       f"{n(out.churned_accounts)} churned accounts {when} (from {sources}; rolling-origin)")
    if by_labels is not None and out.churned_accounts == 0:
        return by_labels
    labels = ""
    if out.label_rows:
        labels = f"; outcome_labels: {n(out.labels_churned)} of {n(out.label_rows)} churned"
    if out.churned_accounts == 0:
        reason = f"needs at least {MIN_CHURNS} churned accounts; none recorded{labels}"
        return Verdict(Analytic.CHURN_MODEL, Support.UNSUPPORTED, reason, CHURN_FIX)
    if out.churned_accounts < MIN_CHURNS:
        reason = f"needs at least {MIN_CHURNS} churned accounts; you have {n(out.churned_accounts)}, {when}{labels}"
        return Verdict(Analytic.CHURN_MODEL, Support.UNSUPPORTED, reason,
                       "load more history (older subscription ends or churn_events) or a labels file "
                       "(outcome_labels)")
    reason = (f"needs churned accounts at two or more observation dates; you have {n(out.churned_accounts)} "
              f"churns, {when}{labels}")
    return Verdict(Analytic.CHURN_MODEL, Support.UNSUPPORTED, reason,
                   "load a labels file (outcome_labels) or subscription end dates")


def upsell_model(tables: dict[str, TableFacts], out: Outcomes, day: dt.date) -> Verdict:
    if out.expansions == 0:
        return Verdict(Analytic.UPSELL_MODEL, Support.SKIPPED, "skipped: no expansion in this data (single-plan "
                       "product?)")
    if out.expansions < MIN_EXPANSIONS:
        return Verdict(Analytic.UPSELL_MODEL, Support.UNSUPPORTED,
                       f"needs at least {MIN_EXPANSIONS} expansions; you have {n(out.expansions)} "
                       f"({n(out.expansion_accounts)} accounts)",
                       "load the subscription history with its upgrades (a new period at a higher MRR), "
                       "churn_events of type upgrade, or expansion labels")
    return Verdict(Analytic.UPSELL_MODEL, Support.SUPPORTED,
                   f"{n(out.expansions)} expansions by {n(out.expansion_accounts)} accounts")


def clv(tables: dict[str, TableFacts], out: Outcomes, day: dt.date) -> Verdict:
    found = []
    if out.repeat_buyers:
        found.append(f"{n(out.repeat_buyers)} repeat buyers (BG/NBD + Gamma-Gamma)")
    if out.max_periods >= MIN_PERIODS:
        found.append(f"subscription histories up to {out.max_periods:g} billing periods (sBG)")
    if found:
        return Verdict(Analytic.CLV, Support.SUPPORTED, "; ".join(found))
    buys = _rows(tables, "transactions")
    return Verdict(Analytic.CLV, Support.UNSUPPORTED,
                   f"needs repeat transactions or subscriptions with at least {MIN_PERIODS:g} periods; you have "
                   f"{n(buys)} transactions with no repeat buyer and a longest subscription history of "
                   f"{out.max_periods:g} periods",
                   "load transactions (account, occurred_at, amount) or a subscription history spanning two "
                   "billing periods")


def calls(tables: dict[str, TableFacts], out: Outcomes, day: dt.date) -> Verdict:
    if out.conversations == 0:
        return Verdict(Analytic.CALLS, Support.UNSUPPORTED, "no conversations",
                       "import transcripts: retain calls import transcripts/*.vtt --rep MEMBER_ID")
    if out.conversations_with_words == 0:
        return Verdict(Analytic.CALLS, Support.LIMITED, f"{n(out.conversations)} conversations but no words "
                       "(utterances): talk metrics and search are empty",
                       "import the transcripts with retain calls import")
    return Verdict(Analytic.CALLS, Support.SUPPORTED,
                   f"{n(out.conversations_with_words)} of {n(out.conversations)} conversations with transcripts")


RULES = {Analytic.RETENTION: retention, Analytic.SURVIVAL: survival, Analytic.HEALTH: health,
         Analytic.CHURN_MODEL: churn_model, Analytic.UPSELL_MODEL: upsell_model, Analytic.CLV: clv,
         Analytic.CALLS: calls}


def verdicts(tables: tuple[TableFacts, ...], out: Outcomes, day: dt.date) -> tuple[Verdict, ...]:
    """One verdict per analytic, in :class:`Analytic` order."""
    by_name = {t.table: t for t in tables}
    return tuple(RULES[analytic](by_name, out, day) for analytic in Analytic)
