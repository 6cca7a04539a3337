"""Answers become calls to action, on the CTA store of :mod:`retain.state.actions` (same dedupe, same audit).

- a detractor: a *risk* CTA for the account's CSM (else its owner) carrying the comment, ``critical`` when the NPS
  is 4 or less (the "fatal signal"), ``high`` otherwise; playbook ``detractor_follow_up``;
- a passive answer after onboarding: a *lifecycle* CTA starting the training play (``adoption_drive``);
- an NPS promoter: an *opportunity* CTA to ask for a referral or a case study (playbook ``advocacy``), due when the
  ``survey-insight`` referral timing says promoters refer most
  (:func:`retain.models.survey_insight.best_referral_delay`).

A second answer on an account with a live CTA of the same type and reason adds its comment to it: the database's
``open_key`` refuses a duplicate.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from retain.action.spec import CtaType, PlaybookSetSpec, Priority, TaskRole, load_playbooks
from retain.state import audit
from retain.state.actions import Cta, CtaStatus, CtaTask, TaskStatus, open_key
from retain.state.models import utcnow
from retain.state.surveys import SurveyAnswer
from retain.surveys.spec import SurveyType

ACTOR = "retain surveys"
RULE_VERSION = 1


class Category(StrEnum):
    DETRACTOR = "detractor"
    PASSIVE = "passive"
    PROMOTER = "promoter"


# the highest score of a detractor and the lowest of a promoter, per scale
BANDS = {SurveyType.NPS: (6, 9), SurveyType.CSAT: (2, 4), SurveyType.CES: (3, 6)}
CRITICAL_NPS = 4


def category(survey_type: str, score: int) -> Category:
    worst, best = BANDS[SurveyType(survey_type)]
    if score <= worst:
        return Category.DETRACTOR
    return Category.PROMOTER if score >= best else Category.PASSIVE


def _plan(answer: SurveyAnswer) -> tuple[CtaType, str, Priority, str, int] | None:
    """(type, reason, priority, playbook, due in days) of the CTA an answer asks for now; None when none."""
    kind = category(answer.survey_type, answer.score)
    label = answer.survey_type.upper()
    if kind is Category.DETRACTOR:
        critical = answer.survey_type == SurveyType.NPS and answer.score <= CRITICAL_NPS
        return (CtaType.RISK, f"Survey detractor ({label})", Priority.CRITICAL if critical else Priority.HIGH,
                "detractor_follow_up", 1 if critical else 3)
    if kind is Category.PASSIVE and answer.touchpoint == "onboarding":
        return CtaType.LIFECYCLE, "Passive after onboarding: training", Priority.MEDIUM, "adoption_drive", 7
    return None


def act_on_answer(db: Session, answer: SurveyAnswer, owner_id: str | None, day: dt.date,
                  playbooks: PlaybookSetSpec | None = None) -> Cta | None:
    """The detractor or training CTA of ``answer`` (created, or the live one updated); not committed."""
    plan = _plan(answer)
    if plan is None:
        return None
    cta_type, reason, priority, playbook, due_days = plan
    return upsert_cta(db, answer, owner_id, day, cta_type=cta_type, reason=reason, priority=priority,
                      playbook=playbook, due_on=day + dt.timedelta(days=due_days), playbooks=playbooks)


def referral_cta(db: Session, answer: SurveyAnswer, owner_id: str | None, day: dt.date,
                 playbooks: PlaybookSetSpec | None = None) -> Cta:
    """The promoter's referral or case-study CTA, created on the day the referral timing points to."""
    return upsert_cta(db, answer, owner_id, day, cta_type=CtaType.OPPORTUNITY, reason="Promoter: ask for a referral",
                      priority=Priority.MEDIUM, playbook="advocacy", due_on=day + dt.timedelta(days=7),
                      playbooks=playbooks)


def upsert_cta(db: Session, answer: SurveyAnswer, owner_id: str | None, day: dt.date, *, cta_type: CtaType,
               reason: str, priority: Priority, playbook: str, due_on: dt.date,
               playbooks: PlaybookSetSpec | None = None) -> Cta:
    key = open_key(answer.account_id, cta_type.value, reason)
    detail = _detail(answer)
    live = db.scalar(select(Cta).where(Cta.open_key == key))
    if live is not None:
        live.detail = f"{detail}\n{live.detail or ''}".strip()[:4000]
        if priority is Priority.CRITICAL and live.priority != Priority.CRITICAL.value:
            live.priority = Priority.CRITICAL.value
        live.last_fired_on, live.updated_at = day, utcnow()
        audit.record(db, "cta.updated", actor=ACTOR, target=f"cta:{live.id}", detail={"survey_answer": answer.id})
        answer.cta_id = live.id
        return live
    cta = Cta(account_id=answer.account_id, type=cta_type.value, reason=reason, detail=detail,
              priority=priority.value, value=None, owner_id=owner_id, routed_by="csm" if owner_id else "unrouted",
              due_on=due_on, status=CtaStatus.OPEN.value, open_key=key, rule=f"survey:{answer.programme}"[:64],
              rule_version=RULE_VERSION, evidence=_evidence(answer), playbook=playbook, auto_close="never",
              opened_on=day, last_fired_on=day)
    db.add(cta)
    db.flush()
    play = (playbooks or load_playbooks()).playbooks.get(playbook)
    for seq, task in enumerate(play.tasks if play else (), start=1):
        assignee = owner_id if task.role in (TaskRole.CSM, TaskRole.REP) else None
        db.add(CtaTask(cta_id=cta.id, seq=seq, title=task.title, role=task.role.value, assignee_id=assignee,
                       due_on=day + dt.timedelta(days=task.due_days), status=TaskStatus.OPEN.value))
    audit.record(db, "cta.created", actor=ACTOR, target=f"cta:{cta.id}",
                 detail={"account_id": answer.account_id, "rule": cta.rule, "owner_id": owner_id,
                         "priority": priority.value})
    answer.cta_id = cta.id
    return cta


def _detail(answer: SurveyAnswer) -> str:
    comment = f': "{answer.comment.strip()}"' if answer.comment and answer.comment.strip() else ""
    return (f"{answer.survey_type.upper()} {answer.score} from {answer.contact_id} after {answer.touchpoint} "
            f"({answer.answered_at:%Y-%m-%d}){comment}")[:2000]


def _evidence(answer: SurveyAnswer) -> dict:
    return {"survey_response_id": answer.response_id, "survey_type": answer.survey_type, "score": answer.score,
            "touchpoint": answer.touchpoint, "contact_id": answer.contact_id, "comment": answer.comment,
            "programme": answer.programme}
