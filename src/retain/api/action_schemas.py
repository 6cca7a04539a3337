"""Bodies of the actions API (CTAs, tasks, notes) and of the webhooks Retain sends about them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from retain.state.notes import MAX_NOTE

# text with a character other than a space, and no control character but new lines and tabs (as notes.clean_body)
NOTE_TEXT = r"^[^\x00-\x08\x0B-\x1F\x7F]*[^\s\x00-\x1F\x7F][^\x00-\x08\x0B-\x1F\x7F]*$"


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


# the application database stores naive UTC times; the API says so (RFC 3339 needs the offset)
UtcDateTime = Annotated[dt.datetime, AfterValidator(_utc)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TaskPublic(Out):
    """One task of a CTA's playbook."""

    id: int
    cta_id: int
    seq: int = Field(description="Its place in the playbook's order.")
    title: str
    role: str = Field(description="Who does it: csm, rep, support, marketing, executive sponsor...")
    assignee_id: str | None = None
    due_on: dt.date
    status: Literal["open", "done"]
    done_at: UtcDateTime | None = None
    done_by: str | None = None
    step: str | None = Field(None, description="A customer-facing step's message: sent, to send on a day, waiting: "
                             "why a contact cap holds it, not delivered, or withdrawn (its CTA was closed first); "
                             "a step not sent says why in its title.")


class CtaPublic(Out):
    """A call to action: what a rule asked someone to do about an account, and where it stands."""

    id: int
    account_id: str
    account_name: str | None = None
    type: str = Field(description="risk, opportunity, lifecycle or activity.")
    reason: str
    detail: str | None = Field(None, description="The reason with the latest values, in words.")
    priority: str = Field(description="critical, high, medium or low.")
    value: float | None = Field(None, description="Value at risk or opportunity value.")
    owner_id: str | None = None
    due_on: dt.date
    status: str = Field(description="open, snoozed, done, dismissed or auto_closed.")
    snoozed_until: dt.date | None = None
    status_reason: str | None = Field(None, description="Why it was snoozed, dismissed or auto-closed.")
    evidence: dict[str, Any] | None = Field(None, description="The values that fired the rule, frozen at firing.")
    rule: str
    rule_version: int
    playbook: str | None = None
    opened_on: dt.date
    closed_on: dt.date | None = None
    escalated_to: str | None = None
    escalated_on: dt.date | None = None
    tasks: list[TaskPublic] = []


class CtaPage(BaseModel):
    items: list[CtaPublic]
    total: int
    page: int
    per_page: int
    pages: int


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, Field(min_length=1, max_length=MAX_NOTE, pattern=NOTE_TEXT,
                               description="What happened, in words (new lines and tabs allowed).")]


class NotePublic(Out):
    """A note on an account (shown on its timeline as an activity of kind ``note``)."""

    id: int
    account_id: str
    author: str = Field(description="User name of who wrote it.")
    body: str
    created_at: UtcDateTime


# -- webhooks (documented in the OpenAPI description; sent by ``retain deliver``) --------------------------


class CtaAlertData(BaseModel):
    """``data`` of a ``cta_alert``: the critical CTA that fired."""

    cta_id: int
    account_id: str
    account: str | None = Field(None, description="The account's name.")
    type: str
    reason: str
    detail: str | None = None
    priority: str
    owner_id: str | None = None
    due_on: dt.date
    day: dt.date = Field(description="The as-of day of the rules' run that fired it.")


class WebhookMessage(BaseModel):
    """What a webhook receiver gets (unless the Slack-compatible shape ``{"text": ...}`` is configured).

    Headers: ``Idempotency-Key`` (the same on every attempt: drop a repeat), ``X-Retain-Timestamp`` (seconds since
    the epoch) and ``X-Retain-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"{timestamp}." + body`` with the shared
    secret (``RETAIN_WEBHOOK_SECRET``). Answer 2xx; 408, 425, 429, 5xx or no answer are retried with backoff."""

    id: str = Field(description="The message's idempotency key, e.g. `cta_alert:42:webhook`.")
    kind: Literal["cta_alert", "digest"]
    subject: str
    text: str
    account_id: str | None = None
    data: CtaAlertData | dict[str, Any] = Field(description="For `cta_alert` a CtaAlertData; for `digest` the day, "
                                                "user, ctas and tasks of the digest.")
    created_at: str = Field(description="When the message was written (ISO 8601, UTC, ending in Z).")


WEBHOOKS_TEXT = (
    "\n\n**Webhooks.** `retain deliver` POSTs JSON to the configured URL for each critical CTA (`cta_alert`) and "
    "each person's daily digest (`digest`): `{\"id\", \"kind\", \"subject\", \"text\", \"account_id\", \"data\", "
    "\"created_at\"}` (see the `WebhookMessage` schema and the webhooks section). Headers: `Idempotency-Key`, "
    "`X-Retain-Timestamp` and `X-Retain-Signature: sha256=<hex HMAC-SHA256 of \"{timestamp}.\" + body>` with the "
    "shared secret; verify it, and drop a repeated `Idempotency-Key`."
)
