"""The surveys section of the main job, and what ``retain surveys`` runs: plan, send, remind, act, analyse.

As of one day: answers still waiting for the warehouse are copied into ``survey_responses``; the programmes decide
today's invitations (:mod:`retain.surveys.plan`) and put them in the outbox with their held-back counts; due
reminders go out; promoters whose referral moment has come get their referral CTA; and the analytics (trends,
score-to-outcome rates, comment themes) are stored for ``retain publish`` and the Surveys page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from retain.models.survey_insight import best_referral_delay, referral_timing, score_outcomes
from retain.state.db import app_database, default_url
from retain.state.surveys import SurveyAnswer, SurveyOptOut
from retain.surveys import analytics
from retain.surveys.actions import Category, category, referral_cta
from retain.surveys.answers import flush_pending, owner_of
from retain.surveys.links import secret_from_env
from retain.surveys.plan import held_counts, plan_today
from retain.surveys.send import Sender, held_reasons, send_invitations, send_reminders
from retain.surveys.spec import ProgrammeSetSpec, configured_programmes
from retain.warehouse import Warehouse


@dataclass(frozen=True)
class SurveysSection:
    """What the surveys section did as of ``as_of``."""

    as_of: dt.date
    invited: dict[str, int] = field(default_factory=dict)  # per programme
    held: dict[str, int] = field(default_factory=dict)  # per reason (contact caps included)
    held_by_programme: pd.DataFrame | None = None  # programme, reason, contacts
    reminders: int = 0
    answers_loaded: int = 0
    referral_ctas: int = 0
    trends: pd.DataFrame | None = None

    @property
    def total_invited(self) -> int:
        return sum(self.invited.values())


def programmes(path: str | Path | None = None) -> ProgrammeSetSpec:
    """The programmes at ``path``, else ``$RETAIN_SURVEY_PROGRAMMES``, else the shipped ones."""
    return configured_programmes(path)


@contextmanager
def _session(db: Session | str | None, wh: Warehouse) -> Iterator[Session]:
    if isinstance(db, Session):
        yield db
        return
    with app_database(db or default_url(_warehouse_path(wh))) as session:
        yield session


def _warehouse_path(wh: Warehouse) -> str | None:
    try:
        return wh.con.raw_sql("PRAGMA database_list").fetchall()[0][2] if wh.is_duckdb else None
    except Exception:  # another backend, or an in-memory database
        return None


def surveys_section(wh: Warehouse, db: Session | str | None, day: dt.date, *,
                    spec: ProgrammeSetSpec | None = None, send: bool = True) -> SurveysSection:
    """Run the survey programmes as of ``day`` (see the module's docstring); ``db`` is a session or a URL."""
    spec = spec or programmes()
    with _session(db, wh) as session:
        loaded = flush_pending(session, wh)
        plan = plan_today(wh, session, spec, day)
        sender = Sender.from_env(spec, secret_from_env())
        report = send_invitations(session, wh, spec, plan, day, sender) if send else None
        reminders = send_reminders(session, wh, spec, day, sender) if send else 0
        referrals = promoter_ctas(session, wh, day) if send else 0
    store_analytics(wh, day)
    invited = dict(report.invited) if report else plan[plan["decision"] == "invite"].groupby("programme").size(
    ).to_dict()
    held = held_reasons(plan, report) if report else held_reasons(plan, _no_report(day))
    trend = wh.execute(wh.result("survey_trends", day))
    return SurveysSection(day, {k: int(v) for k, v in invited.items()}, held, held_counts(plan), reminders, loaded,
                          referrals, trend)


def _no_report(day: dt.date):
    from retain.surveys.send import SendReport

    return SendReport(day)


def plan_day(wh: Warehouse, url: str | None, day: dt.date, path: str | Path | None = None) -> pd.DataFrame:
    """The dry run: every candidate today with its decision and reason, nothing sent."""
    spec = programmes(path)
    with _session(url, wh) as session:
        return plan_today(wh, session, spec, day)


def promoter_ctas(db: Session, wh: Warehouse, day: dt.date) -> int:
    """Referral CTAs for NPS promoters whose referral moment (``survey-insight``) has come; commits."""
    waiting = [a for a in db.scalars(select(SurveyAnswer).where(SurveyAnswer.cta_id.is_(None),
                                                                 SurveyAnswer.survey_type == "nps"))
               if category(a.survey_type, a.score) is Category.PROMOTER]
    if not waiting:
        return 0
    delay = best_referral_delay(referral_timing(wh, day))
    made = 0
    for answer in waiting:
        if answer.answered_at.date() + dt.timedelta(days=delay) <= day:
            referral_cta(db, answer, owner_of(db, answer.account_id, wh), day)
            made += 1
    db.commit()
    return made


def store_analytics(wh: Warehouse, day: dt.date) -> None:
    """Trends, score-to-outcome rates and comment themes as of ``day``, stored for publishing."""
    wh.store_result("survey_trends", analytics.trends(wh, day), day)
    outcomes = score_outcomes(wh, day, "nps").assign(survey_type="nps")
    wh.store_result("survey_outcomes", outcomes, day)
    wh.store_result("survey_themes", analytics.themes(analytics.comments(wh, day)), day)


def opt_out(url: str, contact_id: str, source: str = "admin") -> bool:
    """Opt ``contact_id`` out of every survey (from the command line); False when already out."""
    with app_database(url) as db:
        if db.get(SurveyOptOut, contact_id) is not None:
            return False
        db.add(SurveyOptOut(contact_id=contact_id, source=source))
        db.commit()
    return True


def response_rates(url: str, by: str) -> pd.DataFrame:
    with app_database(url) as db:
        return analytics.response_rates(db, by)


def flush(wh: Warehouse, url: str) -> int:
    with app_database(url) as db:
        return flush_pending(db, wh)
