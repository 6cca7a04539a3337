"""Tables of the application database: who may sign in, what they may see, and the snapshots pages read.

The analytics warehouse stays the source of truth; ``retain publish`` copies what pages need into these
snapshot tables so every page is one indexed read, whatever the size of the warehouse.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Role(enum.StrEnum):
    """What a signed-in user may see: ``admin`` everything, ``manager`` their team's book, ``member`` their own."""

    ADMIN = "admin"
    MANAGER = "manager"
    MEMBER = "member"


class KeyScope(enum.StrEnum):
    READ = "read"
    WRITE = "write"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiKey(Base):
    """An API key: only its SHA-256 is kept (keys are 256-bit random, so a fast hash is safe)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class WebSession(Base):
    """A browser session; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class AuditEvent(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class LoginAttempt(Base):
    """Sign-in attempts reserved before the password check and kept when it fails, counted per client address and
    user name to rate-limit guessing (a success clears them)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class TeamMember(Base):
    """Copy of the warehouse's ``team_members``: who reports to whom decides what a manager sees."""

    __tablename__ = "team_snapshot"

    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    manager_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    team: Mapped[str | None] = mapped_column(String(100), nullable=True)


SORTED_BY_INDEX = ("name", "arr", "health_total", "health_change", "churn_probability", "clv", "renewal_on")


class AccountSnapshot(Base):
    """One row per account with everything the list, portfolio and 360 pages show."""

    __tablename__ = "account_snapshots"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    owner_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    csm_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    segment: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    region: Mapped[str | None] = mapped_column(String(64), nullable=True)
    industry: Mapped[str | None] = mapped_column(String(100), nullable=True)
    acquisition_channel: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    arr: Mapped[float] = mapped_column(Float, default=0.0)
    currency: Mapped[str | None] = mapped_column(String(8), nullable=True)
    health_total: Mapped[float | None] = mapped_column(Float, nullable=True)
    health_grade: Mapped[str | None] = mapped_column(String(16), nullable=True)
    health_change: Mapped[float | None] = mapped_column(Float, nullable=True)
    # why the total is not the weighted score: "capped at 40: champion left", "default: no data" (else null)
    score_note: Mapped[str | None] = mapped_column(String(300), nullable=True)
    churn_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    clv: Mapped[float | None] = mapped_column(Float, nullable=True)
    renewal_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    adoption_tier: Mapped[str | None] = mapped_column(String(32), nullable=True)
    products_held: Mapped[int] = mapped_column(Integer, default=0)
    open_tickets: Mapped[int] = mapped_column(Integer, default=0)
    as_of: Mapped[dt.date] = mapped_column(Date)
    extra: Mapped[AccountDetail | None] = relationship(lazy="select", uselist=False, viewonly=True)

    __table_args__ = (Index("ix_account_snapshots_region", "region"),
                      Index("ix_account_snapshots_adoption_tier", "adoption_tier"),
                      # sort columns (after the filter correlated with them), with the owner columns a manager's or
                      # member's scope is checked on: walking the index reads the table only for accounts in scope
                      Index("ix_account_snapshots_grade_health", "health_grade", "health_total", "owner_id", "csm_id"),
                      Index("ix_account_snapshots_risk_churn", "at_risk", "churn_probability", "owner_id", "csm_id"),
                      *(Index(f"ix_account_snapshots_{c}", c, "owner_id", "csm_id") for c in SORTED_BY_INDEX))

    @property
    def components(self) -> list | None:
        return self.extra.components if self.extra is not None else None

    @property
    def reasons(self) -> list | None:
        return self.extra.reasons if self.extra is not None else None

    @property
    def detail(self) -> dict | None:
        return self.extra.detail if self.extra is not None else None


class AccountDetail(Base):
    """The heavy part of an account's snapshot (components, reasons, subscriptions, timeline), read by the 360
    page only; kept apart so list scans and counts stay on a narrow table."""

    __tablename__ = "account_details"

    account_id: Mapped[str] = mapped_column(ForeignKey("account_snapshots.account_id", ondelete="CASCADE"),
                                            primary_key=True)
    components: Mapped[list | None] = mapped_column(JSON, nullable=True)
    reasons: Mapped[list | None] = mapped_column(JSON, nullable=True)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class ScoreHistory(Base):
    """Health and churn probability of an account at each published date."""

    __tablename__ = "score_history"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    health_total: Mapped[float | None] = mapped_column(Float, nullable=True)
    health_grade: Mapped[str | None] = mapped_column(String(16), nullable=True)
    churn_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    components: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class MetricSnapshot(Base):
    """A published result's header (name, date, number of rows); its rows are in ``result_rows``. Every name is
    declared in :mod:`retain.state.published`, which is also the only reader."""

    __tablename__ = "metric_snapshots"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ResultRow(Base):
    """One row of a published result, with the scope keys its declaration names copied out of the record, so a
    reader's role scope is applied in SQL (indexed) rather than by filtering JSON in Python."""

    __tablename__ = "result_rows"

    name: Mapped[str] = mapped_column(ForeignKey("metric_snapshots.name", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    account_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    record: Mapped[dict] = mapped_column(JSON)

    __table_args__ = (Index("ix_result_rows_member", "name", "member_id"),
                      Index("ix_result_rows_account", "name", "account_id"))


class PublishRun(Base):
    __tablename__ = "publish_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    as_of_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # the clock's reason for ``as_of``
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    accounts: Mapped[int] = mapped_column(Integer)
    sources: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


# Every state module's tables share this metadata (migrations, checks).
from retain.state import actions as _actions  # noqa: E402,F401
from retain.state import notes as _notes  # noqa: E402,F401
from retain.state import outbox as _outbox  # noqa: E402,F401
from retain.state import plans as _plans  # noqa: E402,F401
from retain.state import sales as _sales  # noqa: E402,F401
from retain.state import surveys as _surveys  # noqa: E402,F401
