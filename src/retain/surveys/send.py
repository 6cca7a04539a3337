"""Invitations and their one reminder, through the outbox (:mod:`retain.delivery.outbox`).

Each invitation the plan decided is a ``survey_invitations`` row (its ``dedupe_key`` makes a second run of the same
day a no-op) and one customer-facing e-mail in the contact's language, with a signed answer link and a signed
unsubscribe link. The outbox applies issue 11's contact caps: a message that would break one is stored *held*, and
the invitation counts as held back by ``contact_cap``.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from retain.state.surveys import InvitationStatus, SurveyInvitation
from retain.surveys import texts
from retain.surveys.links import LinkPurpose, sign
from retain.surveys.plan import Decision, HoldReason
from retain.surveys.spec import ProgrammeSetSpec, SurveyType
from retain.warehouse import Warehouse

if TYPE_CHECKING:
    from retain.delivery.caps import CapsSpec

ENV_PUBLIC_URL = "RETAIN_PUBLIC_URL"
CATEGORY = "survey"


@dataclass(frozen=True)
class Sender:
    """What a message needs beyond the plan: the signing secret, where links point and the sender's name."""

    secret: str
    base_url: str
    company: str | None = None  # the sender's name; "us" in the contact's language when None

    @classmethod
    def from_env(cls, spec: ProgrammeSetSpec, secret: str) -> Sender:
        base = os.environ.get(ENV_PUBLIC_URL) or spec.base_url
        return cls(secret, base.rstrip("/"), os.environ.get(texts.ENV_COMPANY) or None)

    def answer_url(self, invitation: SurveyInvitation) -> str:
        return f"{self.base_url}/s/{sign(self.secret, invitation.id, invitation.expires_at)}"

    def unsubscribe_url(self, invitation: SurveyInvitation) -> str:
        token = sign(self.secret, invitation.id, invitation.expires_at, LinkPurpose.UNSUBSCRIBE)
        return f"{self.base_url}/s/unsubscribe/{token}"


@dataclass
class SendReport:
    day: dt.date
    invited: Counter = field(default_factory=Counter)  # per programme
    held_by_caps: Counter = field(default_factory=Counter)  # per programme: stored held by the outbox
    already: int = 0  # decided before (same day run twice)
    reminders: int = 0

    @property
    def total(self) -> int:
        return sum(self.invited.values())


def send_invitations(db: Session, wh: Warehouse | None, spec: ProgrammeSetSpec, plan: pd.DataFrame, day: dt.date,
                     sender: Sender, *, commit: bool = True, caps: CapsSpec | None = None) -> SendReport:
    """Create the invitations the plan decided and put each e-mail in the outbox; commits unless ``commit`` is
    false (a playbook's survey step writes them in the transaction of its CTA). ``caps``: the contact caps (default:
    the configured ones, :func:`retain.delivery.caps.configured_caps`)."""
    report = SendReport(day)
    rows = plan[plan["decision"] == Decision.INVITE.value]
    if rows.empty:
        return report
    from retain.delivery.caps import configured_caps  # the outbox of issue 11

    caps = caps or configured_caps()
    known = set(db.scalars(select(SurveyInvitation.dedupe_key).where(
        SurveyInvitation.dedupe_key.in_(rows["dedupe_key"].tolist()))))
    expires = dt.datetime.combine(day + dt.timedelta(days=spec.link_days + 1), dt.time())
    for row in rows.to_dict("records"):
        if row["dedupe_key"] in known:
            report.already += 1
            continue
        programme = spec.programme(row["programme"])
        reminder = day + dt.timedelta(days=programme.reminder_days) if programme.reminder_days else None
        invitation = SurveyInvitation(
            programme=row["programme"], survey_type=row["survey_type"], touchpoint=row["touchpoint"],
            touchpoint_ref=row["touchpoint_ref"], account_id=row["account_id"], contact_id=row["contact_id"],
            email=row["email"], language=texts.language(row["language"]).value, sent_on=day, expires_at=expires,
            status=InvitationStatus.SENT.value, dedupe_key=row["dedupe_key"], reminder_on=reminder)
        db.add(invitation)
        db.flush()
        message = _enqueue(db, wh, spec, invitation, sender, day, caps, reminder=False)
        invitation.message_id = getattr(message, "id", None)
        report.invited[row["programme"]] += 1
        if getattr(message, "status", None) == "held":
            report.held_by_caps[row["programme"]] += 1
    if commit:
        db.commit()
    return report


def send_reminders(db: Session, wh: Warehouse | None, spec: ProgrammeSetSpec, day: dt.date, sender: Sender, *,
                   caps: CapsSpec | None = None) -> int:
    """The one reminder of each unanswered, unexpired invitation whose reminder day has come; commits."""
    from retain.delivery.caps import configured_caps  # the outbox of issue 11

    now = dt.datetime.combine(day, dt.time(12))
    due = db.scalars(select(SurveyInvitation).where(
        SurveyInvitation.status == InvitationStatus.SENT.value, SurveyInvitation.reminder_on <= day,
        SurveyInvitation.reminded_on.is_(None), SurveyInvitation.expires_at > now)).all()
    caps = caps or (configured_caps() if due else None)
    for invitation in due:
        _enqueue(db, wh, spec, invitation, sender, day, caps, reminder=True)
        invitation.reminded_on = day
    db.commit()
    return len(due)


def _enqueue(db: Session, wh: Warehouse | None, spec: ProgrammeSetSpec, invitation: SurveyInvitation,
             sender: Sender, day: dt.date, caps: CapsSpec, *, reminder: bool):
    from retain.delivery.outbox import Channel, enqueue  # the outbox of issue 11

    subject, text, body = message(spec, invitation, sender, reminder=reminder)
    kind = "survey_reminder" if reminder else "survey_invitation"
    return enqueue(db, channel=Channel.EMAIL, to=invitation.email, subject=subject, text=text, html=body,
                   payload={"invitation_id": invitation.id, "programme": invitation.programme},
                   idempotency_key=f"{kind}:{invitation.id}", kind=kind, account_id=invitation.account_id,
                   contact_id=invitation.contact_id, customer_facing=True, category=CATEGORY, day=day, wh=wh,
                   caps=caps)


def message(spec: ProgrammeSetSpec, invitation: SurveyInvitation, sender: Sender, *, reminder: bool
            ) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the invitation (or its reminder) in the contact's language."""
    w = texts.words(invitation.language)
    try:
        programme = spec.programme(invitation.programme)
    except KeyError:
        programme = None
    q = texts.question(programme, SurveyType(invitation.survey_type), invitation.language, sender.company)
    subject = w["reminder_subject" if reminder else "subject"].format(
        company=texts.company(sender.company, invitation.language))
    answer, unsubscribe = sender.answer_url(invitation), sender.unsubscribe_url(invitation)
    until = w["valid_until"].format(date=(invitation.expires_at - dt.timedelta(days=1)).date().isoformat())
    greeting = w["greeting"]
    text = "\n\n".join([greeting, q, w["intro"], f"{w['answer_link']}: {answer}", until,
                        f"{w['unsubscribe']}: {unsubscribe}"])
    e = html.escape
    body = "\n".join([  # one element a line: SMTP refuses lines over 998 bytes
        f"<p>{e(greeting)}</p>", f"<p><strong>{e(q)}</strong></p>", f'<p>{e(w["intro"])}</p>',
        f'<p><a href="{e(answer)}">{e(w["answer_link"])}</a></p>', f"<p>{e(until)}</p>",
        f'<p style="font-size:small"><a href="{e(unsubscribe)}">{e(w["unsubscribe"])}</a></p>'])
    return subject, text, body


def held_reasons(plan: pd.DataFrame, report: SendReport) -> dict[str, int]:
    """Held-back counts by reason, the outbox's contact caps included."""
    counts = plan.loc[plan["decision"] == Decision.HELD.value, "reason"].value_counts().to_dict()
    if report.held_by_caps:
        counts[HoldReason.CONTACT_CAP.value] = counts.get(HoldReason.CONTACT_CAP.value, 0) + sum(
            report.held_by_caps.values())
    return {str(k): int(v) for k, v in counts.items()}
