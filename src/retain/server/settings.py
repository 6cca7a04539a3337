"""Settings of the server (web app and API), from the environment (``RETAIN_`` prefix) or arguments."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from retain.errors import ConfigError

DEFAULT_SECRET = "change-me-retain-dev-secret"


class Settings(BaseSettings):
    """One settings class for ``retain serve``; every field can be set as ``RETAIN_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="RETAIN_", extra="ignore", frozen=True)

    database_url: str | None = Field(None, description="Application database; default retain.sqlite by the warehouse.")
    warehouse: str | None = Field(None, description="Warehouse for API ingestion (DuckDB file or Ibis URL).")
    secret_key: SecretStr = Field(SecretStr(DEFAULT_SECRET), description="Signs the pre-login CSRF cookie.")
    dev: bool = Field(False, description="Development mode: allows the default secret.")
    session_hours: int = Field(12, ge=1, le=24 * 30, description="Lifetime of a browser session.")
    login_attempts: int = Field(5, ge=1, le=1000, description="Failed sign-ins allowed per address and user name.")
    login_window_minutes: int = Field(15, ge=1, le=24 * 60, description="Window of the sign-in rate limit.")
    secure_cookies: bool = Field(False, description="Always mark cookies Secure (they are when the request is https).")
    migrate: bool = Field(True, description="Run database migrations at start-up.")
    scorecard: str | None = Field(None, description="Scorecard YAML shown on the Admin page; default: shipped one.")
    demo_login: str | None = Field(None, description="Hint shown on the sign-in page of a demo server.")
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024, description="Largest request body, in bytes, of a form "
                                "or any request but API ingestion; a larger one gets 413 unread.")
    max_ingest_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="Largest body, in bytes, of "
                                  "POST /api/v1/ingest; a larger one gets 413 unread.")
    delivery_worker: bool = Field(True, description="Run the outbox delivery worker inside the server when SMTP or "
                                  "a webhook is configured (RETAIN_SMTP_HOST, RETAIN_WEBHOOK_URL...; see "
                                  "retain.delivery.settings); 0 to leave delivery to `retain deliver`.")
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For and X-Forwarded-Proto "
                        "are believed; default none: the connecting address is the client.")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
        """``10.0.0.5, 10.1.0.0/16`` -> ``("10.0.0.5/32", "10.1.0.0/16")``; a host name or a typo is an error."""
        items = value.split(",") if isinstance(value, str) else value
        return tuple(str(ipaddress.ip_network(item.strip(), strict=False)) for item in items if item.strip())

    def check(self) -> Settings:
        """Refuse the default secret outside development."""
        if not self.dev and self.secret_key.get_secret_value() in {DEFAULT_SECRET, ""}:
            raise ConfigError("refusing to start with the default secret key",
                              hint="set RETAIN_SECRET_KEY to a long random string, or use --dev on your machine")
        if len(self.secret_key.get_secret_value()) < 16 and not self.dev:
            raise ConfigError("the secret key is too short", hint="use at least 16 random characters")
        return self
