"""Signed survey and unsubscribe links: an HMAC (itsdangerous) over the invitation id and its expiry.

The token carries no personal data, only ``<id>.<expiry>`` and its signature, under the server secret
(``RETAIN_SECRET_KEY``) with a salt per purpose, so a survey token cannot be replayed as an unsubscribe token or the
reverse. Tampering fails the signature (400); a token past its expiry is refused (410) even though it verifies;
single use is the database's job (:mod:`retain.surveys.answers`).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeSerializer

from retain.errors import RetainError

ENV_SECRET = "RETAIN_SECRET_KEY"
DEV_SECRET = "change-me-retain-dev-secret"  # the server's development default (retain serve --dev): same links


def secret_from_env() -> str:
    """The signing secret outside the server (the job, the command line): the server's ``RETAIN_SECRET_KEY``."""
    return os.environ.get(ENV_SECRET) or DEV_SECRET


class LinkPurpose(StrEnum):
    ANSWER = "answer"
    UNSUBSCRIBE = "unsubscribe"


class LinkProblem(StrEnum):
    TAMPERED = "tampered"  # the signature does not match: 400
    EXPIRED = "expired"  # past its expiry: 410
    USED = "used"  # already answered: 410

    @property
    def status(self) -> int:
        return 400 if self is LinkProblem.TAMPERED else 410


class LinkError(RetainError):
    """A survey link that cannot be used; ``problem`` says why (and which HTTP status the page answers)."""

    exit_code = 2

    def __init__(self, problem: LinkProblem, message: str) -> None:
        super().__init__(message, hint="ask the sender for a new link" if problem is not LinkProblem.USED else None)
        self.problem = problem


@dataclass(frozen=True)
class LinkClaims:
    invitation_id: int
    expires_at: dt.datetime  # naive UTC, like the database


def _serializer(secret: str, purpose: LinkPurpose) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=f"retain.survey.{purpose.value}")


def sign(secret: str, invitation_id: int, expires_at: dt.datetime,
         purpose: LinkPurpose = LinkPurpose.ANSWER) -> str:
    """The URL-safe token of an invitation for ``purpose``, valid until ``expires_at`` (naive UTC)."""
    return _serializer(secret, purpose).dumps([int(invitation_id), int(expires_at.replace(tzinfo=dt.UTC).timestamp())])


def verify(secret: str, token: str, *, now: dt.datetime, purpose: LinkPurpose = LinkPurpose.ANSWER) -> LinkClaims:
    """The claims of ``token``; a :class:`LinkError` when it was altered or has expired by ``now`` (naive UTC)."""
    try:
        invitation_id, expiry = _serializer(secret, purpose).loads(token)
        expires_at = dt.datetime.fromtimestamp(int(expiry), dt.UTC).replace(tzinfo=None)
        claims = LinkClaims(int(invitation_id), expires_at)
    except (BadSignature, TypeError, ValueError, OverflowError) as exc:
        raise LinkError(LinkProblem.TAMPERED, "This survey link is not valid: it was changed or cut short.") from exc
    if purpose is LinkPurpose.ANSWER and now >= claims.expires_at:
        raise LinkError(LinkProblem.EXPIRED, "This survey link has expired.")
    return claims
