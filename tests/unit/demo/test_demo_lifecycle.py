"""Subscription periods chain without overlaps; nothing happens to an account while it is churned."""

from __future__ import annotations

import pandas as pd
import pytest
from demo_checks import spells

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


def test_nothing_happens_while_churned(company):
    """Tickets, surveys and account management fall inside a customer spell (a win-back opens a new one)."""
    sp = spells(company)
    assert (sp.spell_no > 1).any()  # some churned accounts came back
    for table, column in (("support_tickets", "opened_at"), ("survey_responses", "responded_at"),
                          ("activities", "occurred_at")):
        t = company[table].dropna(subset=["account_id"])
        if table == "activities":  # lead touches and deal calls (a win-back's too) happen outside spells
            t = t[t.lead_id.isna() & t.opportunity_id.isna()]
        day = t[column].dt.tz_localize(None)
        q = pd.DataFrame({"account_id": t.account_id.to_numpy(), "on": day.astype("datetime64[ns]").to_numpy()})
        starts = sp.assign(on=sp.started_on.astype("datetime64[ns]")).sort_values("on")
        m = pd.merge_asof(q.sort_values("on"), starts[["account_id", "on", "churned_on"]], on="on", by="account_id")
        inside = m.churned_on.isna() | (m.on < m.churned_on)
        assert len(m) > 100 and inside.all(), (table, m[~inside].head())
    s = company["subscriptions"]
    final = sp.groupby("account_id").tail(1)
    gone = final[final.churned_on.notna()].account_id
    assert s[s.account_id.isin(gone)].ended_on.notna().all()  # every product ends too


def test_contacts_exist_before_they_are_named(company):
    contacts = company["contacts"].set_index("contact_id").created_at
    tickets = company["support_tickets"]
    assert (contacts.reindex(tickets.contact_id).to_numpy() <= tickets.opened_at.to_numpy()).all()
