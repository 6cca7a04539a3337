"""Who is surveyed today: each throttling rule on the tiny company, and the recontact window as a property."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from tests.unit.surveys.survey_company import DAY, put, ts

from retain.state.models import Base
from retain.state.surveys import SurveyInvitation, SurveyOptOut
from retain.surveys.plan import History, plan_expr, plan_today
from retain.surveys.spec import ProgrammeSetSpec, load_programmes
from retain.warehouse import Warehouse


def _decisions(frame: pd.DataFrame) -> set[tuple[str, str, str, str | None]]:
    return {(r.programme, r.contact_id, r.decision, None if pd.isna(r.reason) else r.reason)
            for r in frame.itertuples()}


def test_each_rule_holds_back_its_contact(survey_wh):
    frame = survey_wh.execute(plan_expr(survey_wh, load_programmes(), DAY, History.empty()))
    assert _decisions(frame) == {
        ("onboarding_nps", "a_champ", "invite", None),  # go-live 06-27 + 3 days
        ("onboarding_nps", "a_dm", "invite", None),
        ("qbr_csat", "a_champ", "held", "recontact_window"),  # asked by the first programme today
        ("qbr_csat", "a_dm", "held", "recontact_window"),
        ("qbr_csat", "b_champ", "held", "churned"),
        ("qbr_csat", "c_champ", "held", "open_escalation"),
        ("qbr_csat", "d_champ", "held", "critical_ticket"),
        ("support_ces", "a_user", "held", "no_email"),
        ("support_ces", "e_champ", "invite", None),  # the ticket's contact; E's cancelled QBR asks nobody
    }
    assert set(frame.loc[frame.contact_id == "a_dm", "language"]) == {"zh"}


def test_opted_out_and_recently_surveyed_contacts_are_held(survey_wh):
    history = History(
        recent=pd.DataFrame({"contact_id": ["a_champ"], "account_id": ["A"], "programme": ["support_ces"],
                             "sent_on": [DAY - dt.timedelta(days=30)], "dedupe_key": ["support_ces|a_champ|old"]}),
        last_per_programme=History.empty().last_per_programme,
        opt_outs=pd.DataFrame({"contact_id": ["e_champ"]}))
    frame = survey_wh.execute(plan_expr(survey_wh, load_programmes(), DAY, history))
    got = _decisions(frame)
    assert ("onboarding_nps", "a_champ", "held", "recontact_window") in got
    assert ("support_ces", "e_champ", "held", "opted_out") in got
    assert ("onboarding_nps", "a_dm", "invite", None) in got


def test_the_account_cap_counts_this_months_invitations(survey_wh):
    spec = load_programmes().model_copy(update={"account_monthly_cap": 2})
    history = History(
        recent=pd.DataFrame({"contact_id": ["x"], "account_id": ["A"], "programme": ["qbr_csat"],
                             "sent_on": [DAY.replace(day=2)], "dedupe_key": ["qbr_csat|x|q"]}),
        last_per_programme=History.empty().last_per_programme, opt_outs=History.empty().opt_outs)
    frame = survey_wh.execute(plan_expr(survey_wh, spec, DAY, history))
    a = frame[(frame.account_id == "A") & (frame.programme == "onboarding_nps")]
    assert sorted(a.reason.fillna("invite")) == ["account_monthly_cap", "invite"]


def test_imported_answers_count_as_surveyed(survey_wh):
    put(survey_wh, "survey_responses", [{"response_id": "imp1", "account_id": "E", "contact_id": "e_champ",
                                         "responded_at": ts("2024-06-10"), "survey_type": "nps", "score": 9}])
    frame = survey_wh.execute(plan_expr(survey_wh, load_programmes(), DAY, History.empty()))
    assert ("support_ces", "e_champ", "held", "recontact_window") in _decisions(frame)


def test_a_touchpoint_already_surveyed_is_not_a_candidate_again(survey_wh, db):
    first = plan_today(survey_wh, db, load_programmes(), DAY)
    for row in first[first.decision == "invite"].itertuples():
        db.add(_invitation(row, DAY))
    db.add(SurveyOptOut(contact_id="a_user", source="admin"))
    db.commit()
    again = plan_today(survey_wh, db, load_programmes(), DAY + dt.timedelta(days=1))
    assert "invite" not in set(again.decision)
    assert not {"golive_a", "t_e"} & set(again.touchpoint_ref)
    assert set(again.loc[again.contact_id == "a_user", "reason"]) == {"opted_out"}


def _invitation(row, day: dt.date) -> SurveyInvitation:
    return SurveyInvitation(programme=row.programme, survey_type=row.survey_type, touchpoint=row.touchpoint,
                            touchpoint_ref=row.touchpoint_ref, account_id=row.account_id, contact_id=row.contact_id,
                            email=row.email, language=row.language, sent_on=day,
                            expires_at=dt.datetime.combine(day, dt.time()), dedupe_key=row.dedupe_key)


# -- the recontact window as a property ------------------------------------------------------------------------

START = dt.date(2024, 3, 1)
ROLES = ("champion", "decision_maker", "user")


@st.composite
def companies(draw):
    n_contacts = draw(st.integers(2, 8))
    contacts = [(f"c{i}", f"A{draw(st.integers(0, 2))}", draw(st.sampled_from(ROLES))) for i in range(n_contacts)]
    events = draw(st.lists(st.tuples(st.sampled_from(["qbr", "ticket", "milestone", "renewal"]),
                                     st.integers(0, 39), st.integers(0, n_contacts - 1)), min_size=1, max_size=25))
    window = draw(st.integers(3, 30))
    delays = draw(st.lists(st.integers(0, 4), min_size=5, max_size=5))
    return contacts, events, window, delays


def _company(contacts, events) -> Warehouse:
    wh = Warehouse.open(":memory:")
    put(wh, "accounts", [{"account_id": f"A{i}", "name": f"A{i}", "created_at": ts("2023-01-01")} for i in range(3)])
    put(wh, "contacts", [{"contact_id": c, "account_id": a, "role": r, "email": f"{c}@example.com",
                          "created_at": ts("2023-06-01")} for c, a, r in contacts])
    acts, tickets, opps = [], [], []
    for i, (kind, offset, who) in enumerate(events):
        at = dt.datetime.combine(START + dt.timedelta(days=offset), dt.time(10), tzinfo=dt.UTC)
        contact, account, _ = contacts[who]
        if kind == "ticket":
            tickets.append({"ticket_id": f"t{i}", "account_id": account, "contact_id": contact,
                            "opened_at": at - dt.timedelta(days=1), "resolved_at": at})
        elif kind == "renewal":
            opps.append({"opportunity_id": f"o{i}", "account_id": account, "opportunity_type": "renewal",
                         "stage": "closed_won", "is_won": True, "created_at": at - dt.timedelta(days=30),
                         "closed_at": at})
        else:
            acts.append({"activity_id": f"x{i}", "account_id": account, "occurred_at": at, "outcome": "completed",
                         "activity_type": "qbr" if kind == "qbr" else "onboarding_milestone", "subject": "go_live"})
    for name, rows in (("activities", acts), ("support_tickets", tickets), ("opportunities", opps)):
        if rows:
            put(wh, name, rows)
    return wh


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(companies())
def test_no_contact_is_surveyed_twice_within_the_window_across_programmes(company):
    contacts, events, window, delays = company
    base = load_programmes()
    spec = ProgrammeSetSpec.model_validate(base.model_dump() | {
        "recontact_days": window, "account_monthly_cap": 1000, "exclusions": [],
        "programmes": [p.model_dump() | {"delay_days": d, "audience": []}
                       for p, d in zip(base.programmes, delays, strict=True)]})
    wh = _company(contacts, events)
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        for offset in range(0, 45, 5):  # runs every fifth day: the 7-day catch-up window covers the gaps
            day = START + dt.timedelta(days=offset)
            plan = plan_today(wh, db, spec, day)
            for row in plan[plan.decision == "invite"].itertuples():
                db.add(_invitation(row, day))
            db.commit()
        sent = pd.DataFrame([(i.contact_id, i.sent_on) for i in db.query(SurveyInvitation)],
                            columns=["contact_id", "sent_on"])
    assert len(sent) > 0 or not events
    for _, days in sent.groupby("contact_id")["sent_on"]:
        ordered = sorted(days)
        gaps = [(b - a).days for a, b in zip(ordered, ordered[1:], strict=False)]
        assert all(g >= window for g in gaps), (ordered, window)
