"""Subscription periods chain without gaps or overlaps; nothing happens to an account after it churned."""

from __future__ import annotations

import pandas as pd
import pytest

from retain.demo import DemoSpec, generate


@pytest.fixture(scope="module")
def company():
    data = generate(DemoSpec(accounts=300, years=2, seed=5))
    return {k: v.to_pandas() for k, v in data.tables.items()}


def test_periods_of_a_product_chain_without_overlap(company):
    s = company["subscriptions"].sort_values(["account_id", "product_id", "started_on"])
    nxt = s.groupby(["account_id", "product_id"]).started_on.shift(-1)
    has_next = nxt.notna()
    assert (s.ended_on[has_next] <= nxt[has_next]).all()  # no overlap
    superseded = s.status == "expired"
    assert (s.ended_on[superseded] == nxt[superseded]).all()  # an upgrade or renewal starts the same day
    assert s.ended_on[s.status == "active"].isna().all()
    assert s.cancel_reason[s.status == "cancelled"].notna().all()
    assert s.cancel_reason[s.status != "cancelled"].isna().all()
    monthly = s.billing_period == "monthly"
    assert s.term_end_on[monthly].isna().all() and s.term_end_on[~monthly].notna().all()


def test_nothing_happens_after_churn(company):
    s = company["subscriptions"]
    core = s[s.product_id.isin(["p_starter", "p_professional", "p_enterprise"])]
    last = core.sort_values("started_on").groupby("account_id").tail(1)
    churned = last[last.status == "cancelled"].set_index("account_id").ended_on
    churn_at = pd.to_datetime(churned).dt.tz_localize("UTC")
    for table, column in (("support_tickets", "opened_at"), ("survey_responses", "responded_at")):
        t = company[table]
        t = t[t.account_id.isin(churn_at.index)]
        assert (t[column] < churn_at.reindex(t.account_id).to_numpy()).all(), table
    acts = company["activities"].dropna(subset=["account_id"])
    acts = acts[acts.account_id.isin(churn_at.index) & acts.lead_id.isna() & acts.opportunity_id.isna()]
    assert (acts.occurred_at < churn_at.reindex(acts.account_id).to_numpy()).all()
    assert s[s.account_id.isin(churn_at.index)].ended_on.notna().all()  # every product ends too


def test_contacts_exist_before_they_are_named(company):
    contacts = company["contacts"].set_index("contact_id").created_at
    tickets = company["support_tickets"]
    assert (contacts.reindex(tickets.contact_id).to_numpy() <= tickets.opened_at.to_numpy()).all()
