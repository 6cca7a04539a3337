"""Why a delivery attempt failed, and whether trying again can help."""

from __future__ import annotations

from retain.errors import RetainError


class DeliveryError(RetainError):
    """Delivery is misconfigured (no SMTP server for an e-mail, a bad webhook URL)."""

    exit_code = 9


class SendFailed(Exception):
    """One attempt failed. ``permanent``: the receiver refused for good (a 5xx SMTP reply to the recipient, a 4xx
    webhook answer), so the message is a dead letter at once rather than after every retry."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
