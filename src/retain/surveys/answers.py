"""An answer from the survey page: single use in the database, then a CTA, Account 360, and the warehouse.

:func:`submit` runs in this order, each step committed before the next so a later failure never loses the answer:

1. **claim**: ``UPDATE survey_invitations SET status = 'answered' WHERE id = ? AND status = 'sent'`` and the
   answer's insert, in one transaction: of two concurrent submissions exactly one updates a row; the other is
   told the survey was already answered (and ``survey_answers.invitation_id`` is unique besides);
2. **act**: the detractor or training CTA for the account's CSM (:mod:`retain.surveys.actions`);
3. **show**: the answer is put on the account's published 360 detail at once (the next publish rebuilds it);
4. **warehouse**: the row goes into ``survey_responses`` through the ingestion path (``ingest_frames``, strict:
   the same validation as any load). When the warehouse is busy (another writer holds the DuckDB file) the answer
   stays pending (``warehouse_at`` null) and :func:`flush_pending` copies it on the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from retain.errors import RetainError
from retain.state.models import AccountDetail, AccountSnapshot
from retain.state.surveys import InvitationStatus, SurveyAnswer, SurveyInvitation, SurveyOptOut
from retain.surveys.actions import act_on_answer
from retain.surveys.links import LinkClaims, LinkError, LinkProblem, LinkPurpose, verify
from retain.surveys.spec import SurveyType
from retain.warehouse import Warehouse

log = logging.getLogger("retain.surveys")
RESPONSE_PREFIX = "rs_"  # response_id of answers Retain collected (imported ones keep their own ids)
SOURCE = "retain-surveys"
MAX_COMMENT = 2000
_warehouse_lock = threading.Lock()  # one writer per process on a DuckDB file


class AnswerError(RetainError):
    """The form was filled in wrongly (no score, out of the scale): the page shows it again with the message."""

    exit_code = 2


def open_invitation(db: Session, secret: str, token: str, now: dt.datetime) -> SurveyInvitation:
    """The invitation behind a survey link, still unanswered; a :class:`LinkError` otherwise."""
    invitation = _invitation(db, verify(secret, token, now=now))
    if invitation.status != InvitationStatus.SENT.value:
        raise LinkError(LinkProblem.USED, "This survey has already been answered.")
    return invitation


def _invitation(db: Session, claims: LinkClaims) -> SurveyInvitation:
    invitation = db.get(SurveyInvitation, claims.invitation_id)
    if invitation is None:  # signed by us, then deleted
        raise LinkError(LinkProblem.EXPIRED, "This survey no longer exists.")
    return invitation


def parse_score(survey_type: str, raw: str | None) -> int:
    """The score from the form, within the survey's scale; an :class:`AnswerError` otherwise."""
    low, high = SurveyType(survey_type).scale
    try:
        score = int(str(raw).strip())
    except (TypeError, ValueError):
        raise AnswerError("choose a score", hint=f"a whole number from {low} to {high}") from None
    if not low <= score <= high:
        raise AnswerError(f"the score must be from {low} to {high}", hint=f"choose a score from {low} to {high}")
    return score


def submit(db: Session, secret: str, token: str, raw_score: str | None, comment: str | None, now: dt.datetime,
           warehouse: str | Warehouse | None = None) -> SurveyAnswer:
    """Record an answer (steps 1-4 of the module's docstring); raises LinkError or AnswerError."""
    invitation = open_invitation(db, secret, token, now)
    score = parse_score(invitation.survey_type, raw_score)
    answer = claim(db, invitation, score, comment, now)
    owner = owner_of(db, answer.account_id, warehouse)
    act_on_answer(db, answer, owner, now.date())
    show_on_account(db, answer)
    db.commit()
    if warehouse:
        flush_pending(db, warehouse, ids=[answer.id])
    return answer


def claim(db: Session, invitation: SurveyInvitation, score: int, comment: str | None, now: dt.datetime
          ) -> SurveyAnswer:
    """Flip the invitation to answered and insert the answer, atomically; LinkError(USED) when someone was first."""
    flipped = db.execute(update(SurveyInvitation).where(
        SurveyInvitation.id == invitation.id, SurveyInvitation.status == InvitationStatus.SENT.value,
    ).values(status=InvitationStatus.ANSWERED.value, answered_at=now).execution_options(synchronize_session=False))
    if flipped.rowcount != 1:
        db.rollback()
        raise LinkError(LinkProblem.USED, "This survey has already been answered.")
    db.expire(invitation)  # the UPDATE bypassed the identity map: read the new status on next access
    text = (comment or "").strip()[:MAX_COMMENT] or None
    answer = SurveyAnswer(invitation_id=invitation.id, response_id=f"{RESPONSE_PREFIX}{invitation.id}",
                          programme=invitation.programme, survey_type=invitation.survey_type,
                          touchpoint=invitation.touchpoint, account_id=invitation.account_id,
                          contact_id=invitation.contact_id, language=invitation.language, score=score, comment=text,
                          answered_at=now)
    db.add(answer)
    db.commit()
    return answer


def unsubscribe(db: Session, secret: str, token: str, now: dt.datetime) -> SurveyInvitation:
    """Opt the invitation's contact out of every survey (idempotent); LinkError when the token was altered."""
    invitation = _invitation(db, verify(secret, token, now=now, purpose=LinkPurpose.UNSUBSCRIBE))
    if db.get(SurveyOptOut, invitation.contact_id) is None:
        db.add(SurveyOptOut(contact_id=invitation.contact_id, account_id=invitation.account_id, source="link",
                            opted_out_at=now))
        db.commit()
    return invitation


def check_unsubscribe(db: Session, secret: str, token: str, now: dt.datetime) -> SurveyInvitation:
    return _invitation(db, verify(secret, token, now=now, purpose=LinkPurpose.UNSUBSCRIBE))


def owner_of(db: Session, account_id: str, warehouse: str | Warehouse | None = None) -> str | None:
    """The account's CSM, else its owner: from the published snapshot, else from the warehouse when given."""
    snap = db.get(AccountSnapshot, account_id)
    if snap is not None:
        return snap.csm_id or snap.owner_id
    if warehouse is None:
        return None
    try:
        wh = warehouse if isinstance(warehouse, Warehouse) else _open_existing(warehouse)
        try:
            a = wh.raw("accounts")
            frame = wh.execute(a.filter(a.account_id == account_id).select("csm_id", "owner_id"))
        finally:
            if not isinstance(warehouse, Warehouse):
                wh.con.disconnect()
    except Exception as exc:  # a busy warehouse must not lose the answer: the CTA goes unrouted
        log.warning("no owner for account %s: %s", account_id, exc)
        return None
    if frame.empty:
        return None
    row = frame.iloc[0]
    return (row["csm_id"] if isinstance(row["csm_id"], str) and row["csm_id"] else None) or (
        row["owner_id"] if isinstance(row["owner_id"], str) and row["owner_id"] else None)


def show_on_account(db: Session, answer: SurveyAnswer) -> None:
    """Put the answer first in the account's published survey list (Account 360), when the account is published."""
    detail = db.get(AccountDetail, answer.account_id)
    if detail is None:
        return
    data = dict(detail.detail or {})
    item = {"responded_at": answer.answered_at.isoformat(), "survey_type": answer.survey_type, "score": answer.score,
            "touchpoint": answer.touchpoint, "comment": answer.comment}
    data["surveys"] = [item, *(data.get("surveys") or [])][:20]
    detail.detail = data


def response_rows(answers: list[SurveyAnswer]) -> pd.DataFrame:
    """The ``survey_responses`` rows of ``answers``."""
    return pd.DataFrame([{
        "response_id": a.response_id, "account_id": a.account_id,
        "responded_at": pd.Timestamp(a.answered_at, tz="UTC"), "survey_type": a.survey_type, "score": a.score,
        "touchpoint": a.touchpoint, "contact_id": a.contact_id, "comment": a.comment} for a in answers])


def flush_pending(db: Session, warehouse: str | Warehouse, ids: list[int] | None = None) -> int:
    """Copy answers not yet in the warehouse through the ingestion path; returns how many went in (0 when the
    warehouse is busy: they stay pending). Invalid rows are a bug here and raise."""
    from retain.ingest import ingest_frames

    query = select(SurveyAnswer).where(SurveyAnswer.warehouse_at.is_(None))
    if ids is not None:
        query = query.where(SurveyAnswer.id.in_(ids))
    pending = list(db.scalars(query.order_by(SurveyAnswer.id)))
    if not pending:
        return 0
    with _warehouse_lock:
        try:
            wh = warehouse if isinstance(warehouse, Warehouse) else _open_existing(warehouse)
        except Exception as exc:  # busy (another process writes), moved, unreadable: try again on the next run
            log.warning("%d survey answer(s) stay pending: %s", len(pending), exc)
            return 0
        try:
            report = ingest_frames(wh, {"survey_responses": response_rows(pending)}, source=SOURCE, strict=True)
        finally:
            if not isinstance(warehouse, Warehouse):
                wh.con.disconnect()
    if not report.committed:  # a bug, not the customer's doing: keep the answers, say why in the log
        log.error("survey answers refused by the warehouse, kept pending: %s", report.errors.head(5).to_dict("records"))
        return 0
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for answer in pending:
        answer.warehouse_at = stamp
    db.commit()
    return len(pending)


def _open_existing(path: str) -> Warehouse:
    """The warehouse at ``path``, never a new empty one (a wrong path must not swallow answers)."""
    if "://" not in path and not Path(path).is_file():
        raise FileNotFoundError(f"no warehouse file {path}")
    return Warehouse.open(path, create=False)


def pending_count(db: Session) -> int:
    return len(db.scalars(select(SurveyAnswer.id).where(SurveyAnswer.warehouse_at.is_(None))).all())
