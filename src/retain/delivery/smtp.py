"""E-mail over SMTP: one connection kept across a batch, STARTTLS and AUTH when configured.

Each message carries its idempotency key twice: as ``Idempotency-Key`` and inside a deterministic ``Message-ID``,
so a receiving system (or a mailbox rule) can drop a copy delivered again after a crash.
"""

from __future__ import annotations

import email.policy
import hashlib
import smtplib
import ssl
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate

from retain.delivery.errors import DeliveryError, SendFailed
from retain.delivery.settings import DeliverySettings
from retain.state.outbox import OutboxMessage

SMTP_LINES = email.policy.compat32.clone(linesep="\r\n")  # SMTP wants CRLF; the legacy API keeps our Headers
UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP  # readable in a mail log, unlike base64


def message_id(key: str) -> str:
    """A Message-ID that is the same for every attempt of one message (RFC 5322 forbids ``:`` in it: hashed)."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@retain.outbox>"


def build_email(message: OutboxMessage, sender: str) -> Message:
    """The e-mail of ``message``: UTF-8 text (and HTML when given), with its idempotency key in two headers.

    Built with the ``compat32`` classes: the modern ``EmailMessage`` re-parses every header it is given, which
    took a third of a send's time (measured in ``bench/bench_deliver.py``)."""
    body = MIMEText(message.text, "plain", UTF8_QP)
    if message.html:
        mail = MIMEMultipart("alternative")
        mail.attach(body)
        mail.attach(MIMEText(message.html, "html", UTF8_QP))
    else:
        mail = body
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = Header(message.subject, "utf-8") if not message.subject.isascii() else message.subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(message.idempotency_key)
    mail["Idempotency-Key"] = message.idempotency_key
    return mail


class EmailSender:
    """Sends outbox e-mails through the configured SMTP server, reconnecting after any failure."""

    def __init__(self, settings: DeliverySettings) -> None:
        if not settings.smtp_host:
            raise DeliveryError("no SMTP server is configured, so e-mails cannot be sent",
                                hint="set RETAIN_SMTP_HOST (and RETAIN_SMTP_PORT, RETAIN_SMTP_STARTTLS, "
                                     "RETAIN_SMTP_USERNAME, RETAIN_SMTP_PASSWORD)")
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        try:
            smtp.ehlo()
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: OutboxMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            mail = build_email(message, self.settings.smtp_from)
            self._smtp.sendmail(self.settings.smtp_from, [message.recipient], mail.as_bytes(policy=SMTP_LINES))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError) as exc:
            self.close()
            raise SendFailed(f"SMTP refused: {_describe(exc)}", permanent=_permanent(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendFailed(f"SMTP error: {_describe(exc)}") from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def _permanent(exc: smtplib.SMTPException) -> bool:
    """5xx replies are final (unknown mailbox, rejected content); 4xx are worth another try."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):  # our configuration, not the message: retry once fixed
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", 0)
    return isinstance(exc, smtplib.SMTPNotSupportedError) or code >= 500


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
