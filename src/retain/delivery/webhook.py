"""Webhooks: a JSON POST signed with HMAC-SHA256, or Slack's incoming-webhook shape.

Headers of every request:

- ``Idempotency-Key``: the message's key, the same on every attempt (drop a repeat you already processed);
- ``X-Retain-Timestamp``: seconds since the epoch when this attempt was signed;
- ``X-Retain-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}." + body`` with the shared secret
  (``RETAIN_WEBHOOK_SECRET``); :func:`verify` is the receiver's check.

A 2xx answer is success; 408, 425, 429 and 5xx (or no answer) are retried; any other 4xx is final (dead letter).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request

import orjson

from retain.delivery.errors import SendFailed
from retain.delivery.settings import DeliverySettings
from retain.state.outbox import OutboxMessage

RETRYABLE = {408, 425, 429}
SIGNATURE_HEADER = "X-Retain-Signature"
TIMESTAMP_HEADER = "X-Retain-Timestamp"


def body(message: OutboxMessage, *, slack: bool = False) -> dict:
    """The JSON a receiver gets: Retain's own shape, or ``{"text": ...}`` for Slack-compatible receivers."""
    if slack:
        return {"text": f"*{message.subject}*\n{message.text}"}
    return {"id": message.idempotency_key, "kind": message.kind, "subject": message.subject, "text": message.text,
            "account_id": message.account_id, "data": message.payload or {},
            "created_at": message.created_at.isoformat() + "Z"}


def sign(secret: str, timestamp: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, raw: bytes, signature: str, *, tolerance: float = 300.0,
           now: float | None = None) -> bool:
    """The receiver's check: the signature matches and the timestamp is recent (a replayed request is refused)."""
    try:
        fresh = abs((now if now is not None else time.time()) - float(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, raw), signature)


class WebhookSender:
    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings

    def send(self, message: OutboxMessage) -> None:
        raw = orjson.dumps(body(message, slack=self.settings.webhook_slack))
        headers = {"Content-Type": "application/json", "User-Agent": "retain-outbox",
                   "Idempotency-Key": message.idempotency_key}
        if self.settings.webhook_secret is not None:
            stamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = stamp
            headers[SIGNATURE_HEADER] = sign(self.settings.webhook_secret.get_secret_value(), stamp, raw)
        if not message.recipient.startswith(("http://", "https://")):
            raise SendFailed(f"not an http(s) URL: {message.recipient[:200]}", permanent=True)
        request = urllib.request.Request(message.recipient, data=raw, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.settings.webhook_timeout) as answer:  # noqa: S310
                answer.read()
        except urllib.error.HTTPError as exc:
            final = 400 <= exc.code < 500 and exc.code not in RETRYABLE
            raise SendFailed(f"webhook answered HTTP {exc.code}", permanent=final) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise SendFailed(f"webhook unreachable: {exc}"[:500]) from exc

    def close(self) -> None:
        pass
