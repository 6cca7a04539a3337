"""The demo company, generated in causal order: people, customers, hidden health, what they do, what we sell."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from retain.demo._base import NO_DAY, Clock
from retain.demo.accounts import accounts_table, build_accounts, build_contacts
from retain.demo.activities import activities_table
from retain.demo.billing import invoices_table, transactions_table
from retain.demo.conversations import callback_truth, plan_calls, tags_table, transcripts
from retain.demo.deals import enrich_deals
from retain.demo.health import simulate_health
from retain.demo.lifecycle import simulate_lifecycle, subscriptions_table
from retain.demo.outcomes import saas_churn_events
from retain.demo.sales import build_leads, build_opportunities, goals_table
from retain.demo.spec import DemoProfile, DemoSpec
from retain.demo.support import surveys, tickets
from retain.demo.team import build_team, products_table
from retain.demo.touchpoints import schedule_touchpoints
from retain.demo.usage import usage_tables

Step = Callable[[str], None]
STEPS = ("team", "accounts", "health", "lifecycle", "billing", "support", "sales", "calls", "activities", "usage")


@dataclass
class DemoData:
    """Every canonical table of the company (usage as a stream of blocks) and the hidden truth behind it."""

    spec: DemoSpec
    tables: dict[str, pa.Table]
    usage_blocks: Callable[[], Iterator[pa.Table]]
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)

    def usage(self) -> pa.Table | None:
        """Usage as one table; None when the company writes no usage (its events are rolled up on load)."""
        blocks = list(self.usage_blocks())
        return pa.concat_tables(blocks) if blocks else None

    def all_tables(self) -> dict[str, pa.Table]:
        usage = self.usage()
        return {**self.tables, **({"usage": usage} if usage is not None else {})}


def profile_steps(profile: DemoProfile) -> tuple[str, ...]:
    """The parts :func:`generate` announces through ``step``, in order, for a profile."""
    if profile is DemoProfile.BANK:
        from retain.demo.bank import STEPS as BANK_STEPS

        return BANK_STEPS
    if profile is DemoProfile.APP:
        from retain.demo.app import STEPS as APP_STEPS

        return APP_STEPS
    return STEPS


def generate(spec: DemoSpec | None = None, step: Step | None = None) -> DemoData:
    """Generate the company for ``spec``. ``step(name)`` is called as each part starts (for progress bars)."""
    spec = spec or DemoSpec()
    if spec.profile is DemoProfile.BANK:
        from retain.demo.bank import generate_bank

        return generate_bank(spec, step)
    if spec.profile is DemoProfile.APP:
        from retain.demo.app import generate_app

        return generate_app(spec, step)
    tick = step or (lambda _name: None)
    clock = Clock.of(spec)
    tick("team")
    team = build_team(spec, clock)
    tick("accounts")
    acc = build_accounts(spec, clock, team)
    tick("health")
    health = simulate_health(spec, clock, acc)
    contacts = build_contacts(spec, clock, acc, health.champion_leave_day)
    tp = schedule_touchpoints(spec, clock, acc, health)
    tick("lifecycle")
    life = simulate_lifecycle(spec, clock, acc, health, tp)
    subs = subscriptions_table(acc, life)
    tick("billing")
    sub_ids = subs.column("subscription_id").to_numpy(zero_copy_only=False)
    invoices = invoices_table(spec, clock, acc, health, life, sub_ids)
    transactions = transactions_table(spec, clock, acc, health, life)
    tick("support")
    tickets_t, ticket_facts = tickets(spec, clock, acc, contacts, health, life)
    surveys_t = surveys(spec, clock, acc, contacts, health, life, tp, ticket_facts)
    tick("sales")
    alive_nps = tp.nps.take(life.alive(tp.nps.account, tp.nps.day))
    leads = build_leads(spec, clock, acc, contacts, team, life, alive_nps)
    referred_by = np.where(leads.referrer[: len(acc)] >= 0,
                           acc.account_id[np.maximum(leads.referrer[: len(acc)], 0)], None)
    opps = build_opportunities(spec, clock, acc, team, health, life, leads)
    tick("calls")
    calls, lead_budget = plan_calls(spec, clock, acc, team, health, leads, opps, tp, life.alive)
    conversations, utterances = transcripts(spec, clock, acc, contacts, team, leads, opps, calls)
    tags, tag_truth = tags_table(spec, clock, acc, team, leads, opps, calls, lead_budget)
    tick("activities")
    activities = activities_table(spec, clock, acc, contacts, team, health, life, tp, leads, calls,
                                  conversations.column("conversation_id").to_numpy(zero_copy_only=False),
                                  opps.opportunity_id)
    leads_t = _last_touch(leads.table, activities)
    tables = {
        "team_members": team.table, "products": products_table(clock),
        "accounts": accounts_table(acc, team, referred_by), "contacts": contacts.table, "subscriptions": subs,
        "transactions": transactions, "invoices": invoices, "support_tickets": tickets_t,
        "survey_responses": surveys_t, "leads": leads_t, "opportunities": opps.table,
        "opportunity_stages": opps.stages, "activities": activities, "conversations": conversations,
        "utterances": utterances, "tags": tags, "goals": goals_table(spec, clock, team, opps),
        "churn_events": saas_churn_events(acc, life),
    }
    tables = enrich_deals(spec, tables)  # engagement, stage regressions, rep forecasts, the new product
    truth = _truth(clock, acc, team, health, life, tag_truth)
    truth["callbacks"] = callback_truth(calls, conversations.column("conversation_id").to_numpy(zero_copy_only=False),
                                        leads)
    return DemoData(spec, tables, lambda: usage_tables(spec, clock, acc, health, life), truth)


def _last_touch(leads: pa.Table, activities: pa.Table) -> pa.Table:
    """``last_touched_at`` = the lead's latest activity (as a CRM export would show it)."""
    acts = activities.select(["lead_id", "occurred_at"]).filter(pc.is_valid(activities["lead_id"]))
    last = acts.group_by("lead_id").aggregate([("occurred_at", "max")])
    lookup = pd.Series(last["occurred_at_max"].to_pandas().to_numpy(), index=last["lead_id"].to_pandas())
    ids = leads["lead_id"].to_pandas()
    touched = pd.Series(lookup.reindex(ids).to_numpy())
    old = leads["last_touched_at"].to_pandas()
    value = pa.array(touched.where(touched.notna(), old), type=leads.schema.field("last_touched_at").type)
    return leads.set_column(leads.schema.get_field_index("last_touched_at"), "last_touched_at", value)


def _truth(clock: Clock, acc, team, health, life, tag_truth: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What only the generator knows (never loaded into the warehouse): for tests and for checking models."""
    n, weeks = health.weekly.shape
    epoch = np.datetime64("1970-01-01")
    week_start = epoch + clock.week_start(np.arange(weeks)).astype("timedelta64[D]")
    alive = ~np.isnan(health.weekly)
    a, w = np.nonzero(alive)
    weekly = pd.DataFrame({
        "account_id": acc.account_id[a], "week_start": week_start[w], "health": health.weekly[a, w],
    })
    churn = np.where(life.churn_day == NO_DAY, np.datetime64("NaT"), epoch + life.churn_day.astype("timedelta64[D]"))
    leave = health.champion_leave_day
    accounts = pd.DataFrame({
        "account_id": acc.account_id, "health_mean": health.mu,
        "churned_on": churn.astype("datetime64[s]"),
        "champion_left_on": np.where(leave == NO_DAY, np.datetime64("NaT"),
                                     epoch + leave.astype("timedelta64[D]")).astype("datetime64[s]"),
    })
    reps = pd.DataFrame({"member_id": team.member_id, "role": team.role, "skill": team.skill})
    spells = pd.DataFrame({
        "account_id": acc.account_id[life.spell_account],
        "started_on": (epoch + life.spell_start.astype("timedelta64[D]")).astype("datetime64[s]"),
        "churned_on": np.where(life.spell_end == NO_DAY, np.datetime64("NaT"),
                               epoch + life.spell_end.astype("timedelta64[D]")).astype("datetime64[s]"),
    })
    spells["spell_no"] = spells.groupby("account_id").cumcount() + 1
    return {"health_weekly": weekly, "accounts": accounts, "team_skill": reps, "tags": tag_truth, "spells": spells}
