"""Where and how messages go: SMTP, webhooks and the worker's pace, from ``RETAIN_*`` environment variables.

The same variables as :class:`retain.server.settings.Settings` (one prefix, one place to configure a server);
kept apart so the command line and the worker read them without the web server's settings.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from retain.errors import ConfigError


class DeliverySettings(BaseSettings):
    """Every field can be set as ``RETAIN_<NAME>`` (e.g. ``RETAIN_SMTP_HOST``)."""

    model_config = SettingsConfigDict(env_prefix="RETAIN_", extra="ignore", frozen=True)

    smtp_host: str | None = Field(None, description="SMTP server; unset: e-mails wait in the outbox.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port (587 submission with STARTTLS, 25 relay).")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS before sending.")
    smtp_username: str | None = Field(None, description="SMTP user name (AUTH); unset: no authentication.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field("retain@localhost", description="From address of every e-mail.")
    smtp_timeout: float = Field(10.0, gt=0, description="Seconds to wait for the SMTP server.")
    webhook_url: str | None = Field(None, description="Global webhook receiving every alert and digest.")
    webhook_urls: dict[str, str] = Field(default_factory=dict, description="Per user webhook, JSON: "
                                         '{"rita": "https://hooks.example/..."}; overrides the global one.')
    webhook_secret: SecretStr | None = Field(None, description="Key of the X-Retain-Signature HMAC-SHA256.")
    webhook_slack: bool = Field(False, description="Send webhook bodies in Slack's incoming-webhook shape.")
    webhook_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a webhook receiver.")
    delivery_max_attempts: int = Field(8, ge=1, le=100, description="Attempts before a message is a dead letter.")
    delivery_backoff_seconds: float = Field(30.0, ge=0, description="Wait after the first failure; doubles each "
                                            "time.")
    delivery_backoff_max_seconds: float = Field(3600.0, ge=0, description="Longest wait between two attempts.")
    delivery_lease_seconds: float = Field(120.0, gt=0, description="How long a claimed batch is a worker's; a "
                                          "killed worker's claims are retried after it.")
    delivery_connections: int = Field(4, ge=1, le=32, description="Parallel lanes (SMTP connections) a worker "
                                      "sends a batch over.")
    delivery_commit_every: int = Field(20, ge=1, le=10_000, description="Record outcomes after this many sends: a "
                                       "crash repeats at most these (1: only the message in flight, slower).")
    delivery_commit_seconds: float = Field(1.0, gt=0, description="... or after this long, whichever comes first.")
    delivery_poll_seconds: float = Field(2.0, gt=0, description="Idle worker's pause between two looks.")
    caps: str | None = Field(None, description="Contact caps YAML; default: the shipped caps.")

    @property
    def configured(self) -> bool:
        """Whether anything can be sent at all (an SMTP server or a webhook)."""
        return bool(self.smtp_host or self.webhook_url or self.webhook_urls)

    def webhook_for(self, username: str) -> str | None:
        return self.webhook_urls.get(username) or self.webhook_url


def load_settings() -> DeliverySettings:
    """The settings from the environment; a bad value is a :class:`ConfigError` naming the variable."""
    try:
        return DeliverySettings()
    except ValidationError as exc:
        problems = "; ".join(f"RETAIN_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid delivery settings: {problems}", hint="see docs/delivery.md") from exc
    except SettingsError as exc:  # e.g. RETAIN_WEBHOOK_URLS that is not JSON
        raise ConfigError(f"invalid delivery settings: {exc}",
                          hint='RETAIN_WEBHOOK_URLS is JSON: {"user": "https://..."}; see docs/delivery.md') from exc
