"""Customer-facing playbook steps: the e-mail or survey a task sends, written in the transaction of its CTA.

When ``retain act`` creates a CTA (:func:`retain.action.store.sync`), each of its playbook's tasks with ``email``
or ``survey`` (:class:`retain.action.spec.TaskSpec`) becomes one message in the outbox, due on the task's day:

- **Recipient**: the account's current contact (``contacts``, not left) with an e-mail address and the step's role
  (``to``; a survey: the programme's audience roles, in order), the primary one first; else the primary contact,
  else the oldest with an address. None: nothing is enqueued and the task's title says why (``not sent: ...``).
- **E-mail**: the template filled with the account's, the contact's and the CTA owner's names; customer-facing,
  ``not_before`` the task's due day, counted against the configured contact caps on that day, owned by the CTA's
  owner. A message that would break a cap is stored *held* with the reason, which its owner sees on Today.
- **Survey**: an invitation made by the surveys' own rules (:func:`retain.surveys.plan.decide`: opt-outs, churned
  accounts, open escalations, the recontact window, the account's monthly cap) and their sender
  (:func:`retain.surveys.send.send_invitations`, signed links, the caps), not a raw e-mail; one a rule holds back
  is noted on the task with the rule.
- **Once**: the e-mail's idempotency key is ``playbook_step:{cta}:{seq}``; the invitation's touchpoint is
  ``cta:{cta}:{seq}`` (its dedupe key). A CTA's tasks are created once, and a second run finds the message.

Nothing here commits: the caller's transaction holds the CTA, its tasks and its messages together (a transactional
outbox). :func:`step_status` reads back what became of each step, in words, for Today and the API.

- **Withdrawn**: a CTA done, dismissed or auto-closed before a step's day must not still write to the customer:
  :func:`withdraw_steps`, called in the transaction that closes it, marks its e-mail steps still waiting (pending
  or held) ``withdrawn`` (final: the worker never claims it, the caps never count it). One already being sent or
  sent stays as it is; a snooze withdraws nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import ibis
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from retain.action import spec as s
from retain.delivery.caps import CapsSpec
from retain.delivery.outbox import MessageStatus
from retain.state.actions import CtaTask
from retain.state.outbox import OutboxMessage
from retain.state.surveys import SurveyInvitation
from retain.warehouse import Warehouse

KIND = "playbook_email"
NO_CONTACT = "not sent: no contact with an e-mail address"
WITHDRAWN = "withdrawn: the CTA was closed"
WAITING = (MessageStatus.PENDING.value, MessageStatus.HELD.value)  # not sent yet, and nobody is sending it
CHUNK = 500  # ids or keys per IN list
SURVEY_HELD = {  # retain.surveys.plan.HoldReason -> words on the task
    "opted_out": "the contact opted out of surveys",
    "churned": "the account has churned",
    "open_escalation": "an escalated ticket is open",
    "critical_ticket": "an urgent ticket is open",
    "no_email": "no e-mail address",
    "recontact_window": "surveyed recently (the recontact window)",
    "account_monthly_cap": "the account's monthly survey cap is reached",
}


def step_key(cta_id: int, seq: int) -> str:
    """The e-mail step's idempotency key in the outbox."""
    return f"playbook_step:{cta_id}:{seq}"


def step_ref(cta_id: int, seq: int) -> str:
    """The survey step's touchpoint reference (part of the invitation's dedupe key)."""
    return f"cta:{cta_id}:{seq}"


@dataclass(frozen=True)
class NewCta:
    """What a step needs of the CTA that was just created."""

    cta_id: int
    account_id: str
    owner_id: str | None
    playbook: s.PlaybookSpec


@dataclass
class StepReport:
    """What the steps of one run did: e-mails queued or held by a cap, invitations, steps not sent, by why, and
    waiting e-mails withdrawn because their CTA auto-closed."""

    emails: Counter = field(default_factory=Counter)  # pending / held
    surveys: Counter = field(default_factory=Counter)  # invited / held by a survey rule
    not_sent: Counter = field(default_factory=Counter)  # reason -> steps
    withdrawn: int = 0

    def summary(self) -> str | None:
        """One line for ``retain act`` and ``retain run``; None when no step was written or withdrawn."""
        always = [(self.emails["pending"], "e-mail(s) queued"), (self.emails["held"], "held by a contact cap"),
                  (self.not_sent[NO_CONTACT], "not sent (no contact with an e-mail address)"),
                  (self.surveys["invited"], "survey invitation(s) created")]
        rare = [(self.surveys["held"], "survey(s) held by a survey rule"),
                (self.withdrawn, "waiting e-mail(s) withdrawn (their CTA auto-closed)")]
        if not any(n for n, _ in always + rare):
            return None
        shown = always + [(n, words) for n, words in rare if n]
        return "customer-facing steps: " + ", ".join(f"{n:,} {words}" for n, words in shown)


@dataclass(frozen=True)
class _Step:
    cta: NewCta
    task: dict  # the cta_tasks row about to be inserted (its title may get a note)
    spec: s.TaskSpec


def send_steps(db: Session, wh: Warehouse, book: s.PlaybookSetSpec, ctas: Iterable[NewCta], tasks: list[dict],
               day: dt.date, team: pd.DataFrame, *, caps: CapsSpec | None = None, programmes=None) -> StepReport:
    """Enqueue the customer-facing steps among ``tasks`` (rows with ``cta_id``, ``seq``, ``title``, ``due_on``) of
    the new ``ctas``; a step that cannot go gets a note in its title. Not committed."""
    by_id = {c.cta_id: c for c in ctas}
    steps = [_Step(by_id[t["cta_id"]], t, by_id[t["cta_id"]].playbook.tasks[t["seq"] - 1]) for t in tasks
             if t["cta_id"] in by_id and by_id[t["cta_id"]].playbook.tasks[t["seq"] - 1].customer_facing]
    report = StepReport()
    if not steps:
        return report
    people = _contacts(wh, day, {st.cta.account_id for st in steps})
    emails = [st for st in steps if st.spec.email is not None]
    if emails:
        _emails(db, wh, book, emails, people, day, team, caps, report)
    surveys = [st for st in steps if st.spec.survey is not None]
    if surveys:
        _surveys(db, wh, surveys, people, programmes, report)
    return report


def _contacts(wh: Warehouse, day: dt.date, accounts: set[str]) -> dict[str, list[dict]]:
    """Each account's current contacts with an e-mail address, primary first, then the oldest (grouped once: a
    run picks a contact for hundreds of steps)."""
    c = wh.as_of("contacts", day)
    c = c.filter(c.left_at.isnull() & c.email.notnull() & (c.email.strip() != ""))
    if len(accounts) <= 5_000:  # beyond, reading every contact is cheaper than a long IN list
        c = c.filter(c.account_id.isin(sorted(accounts)))
    frame = wh.execute(c.select("account_id", "contact_id", "name", "email", "role", "is_primary", "language",
                                "created_at"))
    frame["is_primary"] = frame["is_primary"].fillna(False).astype(bool)
    frame = frame.sort_values(["account_id", "is_primary", "created_at", "contact_id"],
                              ascending=[True, False, True, True], kind="stable")
    people: dict[str, list[dict]] = {}
    for row in frame.to_dict("records"):
        people.setdefault(row["account_id"], []).append(row)
    return people


def pick_contact(people: dict[str, list[dict]], account_id: str, roles: Iterable[str]) -> dict | None:
    """The contact a step goes to: the first of ``roles`` present (primary first), else the primary, else the
    oldest with an address; None when the account has nobody to write to."""
    mine = people.get(account_id)
    if not mine:
        return None
    for role in roles:
        match = next((p for p in mine if p["role"] == role), None)
        if match is not None:
            return match
    return mine[0]


def _note(task: dict, why: str, report: StepReport) -> None:
    """Say on the task why its step was not sent (the title is what every face shows)."""
    report.not_sent[why] += 1
    note = f" ({why})"
    task["title"] = task["title"][: 200 - len(note)] + note


def _emails(db: Session, wh: Warehouse, book: s.PlaybookSetSpec, steps: list[_Step], people: dict[str, list[dict]],
            day: dt.date, team: pd.DataFrame, caps: CapsSpec | None, report: StepReport) -> None:
    from retain.delivery.caps import configured_caps
    from retain.delivery.outbox import Channel, enqueue

    caps = caps or configured_caps()
    names = _account_names(wh, day, {st.cta.account_id for st in steps})
    members = team.set_index("member_id")["name"].to_dict() if len(team) else {}
    for st in steps:
        email = st.spec.email
        roles = () if email.to is s.StepRecipient.PRIMARY else (email.to.value,)
        contact = pick_contact(people, st.cta.account_id, roles)
        if contact is None:
            _note(st.task, NO_CONTACT, report)
            continue
        subject, text = book.email_templates[email.template].render(
            account_name=names.get(st.cta.account_id) or st.cta.account_id,
            contact_name=_present(contact.get("name")) or contact["email"],
            owner_name=_present(members.get(st.cta.owner_id)) or "your customer success team")
        due = st.task["due_on"]
        message = enqueue(db, channel=Channel.EMAIL, to=contact["email"], subject=subject, text=text,
                          idempotency_key=step_key(st.cta.cta_id, st.task["seq"]), kind=KIND,
                          account_id=st.cta.account_id, contact_id=contact["contact_id"], customer_facing=True,
                          category=book.email_templates[email.template].category,
                          not_before=dt.datetime.combine(due, dt.time()), day=due, wh=wh, owner_id=st.cta.owner_id,
                          caps=caps)
        report.emails[message.status] += 1


def _present(value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _account_names(wh: Warehouse, day: dt.date, accounts: set[str]) -> dict[str, str]:
    acc = wh.as_of("accounts", day)
    if len(accounts) <= 5_000:
        acc = acc.filter(acc.account_id.isin(sorted(accounts)))
    frame = wh.execute(acc.select("account_id", "name"))
    return {a: n for a, n in zip(frame["account_id"], frame["name"], strict=True) if _present(n)}


# -- survey steps ---------------------------------------------------------------------------------------------

CANDIDATE_SCHEMA = {"account_id": "string", "contact_id": "string", "role": "string", "email": "string",
                    "language": "string", "touched_on": "date", "touchpoint_ref": "string", "programme": "string",
                    "priority": "int64", "survey_type": "string", "touchpoint": "string", "dedupe_key": "string"}


def _surveys(db: Session, wh: Warehouse, steps: list[_Step], people: dict[str, list[dict]], programmes,
             report: StepReport) -> None:
    """Invite through the surveys' rules, one decision per due day (the day the invitation goes out)."""
    from retain.surveys.links import secret_from_env
    from retain.surveys.plan import Decision, decide, load_history
    from retain.surveys.send import Sender, send_invitations
    from retain.surveys.spec import configured_programmes

    spec = programmes or configured_programmes()
    order = {p.name: i for i, p in enumerate(spec.programmes)}
    sender = Sender.from_env(spec, secret_from_env())
    by_day: dict[dt.date, list[tuple[_Step, dict]]] = {}
    for st in steps:
        programme = spec.programme(st.spec.survey)
        contact = pick_contact(people, st.cta.account_id, [r.value for r in programme.audience])
        if contact is None:
            _note(st.task, NO_CONTACT, report)
            continue
        ref = step_ref(st.cta.cta_id, st.task["seq"])
        language = (_present(contact.get("language")) or "en").lower()[:2]
        row = {"account_id": st.cta.account_id, "contact_id": contact["contact_id"],
               "role": _present(contact.get("role")),
               "email": contact["email"], "language": "zh" if language == "zh" else "en",
               "touched_on": st.task["due_on"], "touchpoint_ref": ref, "programme": programme.name,
               "priority": order[programme.name], "survey_type": programme.survey.value,
               "touchpoint": programme.trigger.kind.touchpoint,
               "dedupe_key": f"{programme.name}|{contact['contact_id']}|{ref}"}
        by_day.setdefault(st.task["due_on"], []).append((st, row))
    for due, items in sorted(by_day.items()):
        candidates = ibis.memtable(pd.DataFrame([r for _, r in items]).astype(
            {k: object for k, v in CANDIDATE_SCHEMA.items() if v == "string"}), schema=CANDIDATE_SCHEMA)
        plan = wh.execute(decide(wh, spec, due, candidates, load_history(db, spec, due)))
        held = plan[plan["decision"] != Decision.INVITE.value]
        decided = dict(zip(held["dedupe_key"], held["reason"], strict=True))
        for st, row in items:
            reason = decided.get(row["dedupe_key"])  # None: invited (or, not in the plan, invited before)
            if isinstance(reason, str):
                _note(st.task, f"survey not sent: {SURVEY_HELD.get(reason, reason)}", report)
                report.surveys["held"] += 1
        sent = send_invitations(db, wh, spec, plan, due, sender, commit=False)
        report.surveys["invited"] += sent.total
        _not_before(db, [r["dedupe_key"] for _, r in items], dt.datetime.combine(due, dt.time()))


def _not_before(db: Session, dedupe_keys: list[str], when: dt.datetime) -> None:
    """The invitations' e-mails wait for the step's day, as an e-mail step's do (the surveys' sender queues them
    for now)."""
    ids = db.scalars(select(SurveyInvitation.message_id).where(SurveyInvitation.dedupe_key.in_(dedupe_keys),
                                                               SurveyInvitation.message_id.is_not(None))).all()
    for message in db.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))) if ids else ():
        message.next_attempt_at = when


# -- withdrawing the steps of a closed CTA --------------------------------------------------------------------

def withdraw_steps(db: Session, cta_ids: Iterable[int]) -> dict[int, list[int]]:
    """Mark the waiting (pending or held) e-mail steps of ``cta_ids``, CTAs that just closed, ``withdrawn``; not
    committed (the caller's transaction closes the CTA). Returns CTA id -> the message ids withdrawn, for its audit
    event. The keys come from the CTAs' tasks (indexed look-ups, not a scan of the queue); the ``UPDATE`` repeats
    the waiting condition, so a message a worker claimed meanwhile is left to it."""
    ids, m, withdrawn = sorted(set(cta_ids)), OutboxMessage, {}
    for i in range(0, len(ids), CHUNK):
        keys = {step_key(c, q): c for c, q in db.execute(
            select(CtaTask.cta_id, CtaTask.seq).where(CtaTask.cta_id.in_(ids[i:i + CHUNK])))}
        listed = list(keys)
        for j in range(0, len(listed), CHUNK):
            done = db.execute(update(m).where(m.idempotency_key.in_(listed[j:j + CHUNK]), m.status.in_(WAITING))
                              .values(status=MessageStatus.WITHDRAWN.value).returning(m.id, m.idempotency_key),
                              execution_options={"synchronize_session": "fetch"}).all()
            for mid, key in sorted(done):
                withdrawn.setdefault(keys[key], []).append(mid)
    return withdrawn


# -- what became of each step ---------------------------------------------------------------------------------

def step_status(db: Session, tasks: Iterable[CtaTask]) -> dict[int, str]:
    """Task id -> what its customer-facing step's message is doing, in words: ``sent``, ``to send on DAY``,
    ``waiting: <why a cap holds it>``, ``not delivered: <error>`` or ``withdrawn: the CTA was closed``. Tasks
    without a message are left out (a step that could not go says why in its title). Two indexed queries, whatever
    the number of tasks."""
    tasks = list(tasks)
    if not tasks:
        return {}
    by_key = {step_key(t.cta_id, t.seq): t.id for t in tasks}
    found = {by_key[m.idempotency_key]: m for m in db.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.in_(list(by_key))))}
    by_ref = {step_ref(t.cta_id, t.seq): t.id for t in tasks if t.id not in found}
    accounts = {t.cta.account_id for t in tasks if t.id not in found}
    if by_ref:
        invitations = db.execute(select(SurveyInvitation.touchpoint_ref, SurveyInvitation.message_id).where(
            SurveyInvitation.account_id.in_(sorted(accounts)), SurveyInvitation.touchpoint_ref.in_(list(by_ref)),
            SurveyInvitation.message_id.is_not(None))).all()
        message_of = {mid: by_ref[ref] for ref, mid in invitations}
        if message_of:
            for m in db.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(list(message_of)))):
                found[message_of[m.id]] = m
    return {task_id: _words(m) for task_id, m in found.items()}


def _words(m: OutboxMessage) -> str:
    if m.status == "sent":
        return "sent"
    if m.status == "held":
        return f"waiting: {m.held_reason}"
    if m.status == "dead":
        return f"not delivered: {m.last_error or 'gave up'}"
    if m.status == MessageStatus.WITHDRAWN:
        return WITHDRAWN
    return f"to send on {m.next_attempt_at:%Y-%m-%d}"
