"""Success plans per account: objectives with a metric, start, current and target values and a date, and the CTAs
and tasks linked to them (:mod:`retain.action.plans` computes and changes them).

- One *active* plan per account: ``active_key`` holds the account id while the plan is active and is unique, so the
  database itself refuses a second one; it is cleared when the plan closes.
- An objective's ``start_value`` is measured as of the plan's creation day, ``current_value`` as of the latest
  refresh (``measured_on``); ``status`` follows from the pace between the two and the target and its date.
- ``plan_links`` ties a plan (and optionally one of its objectives) to a CTA or a playbook task, by id.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from retain.state.models import Base, utcnow


class PlanStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class LinkKind(enum.StrEnum):
    CTA = "cta"
    TASK = "task"


class SuccessPlan(Base):
    __tablename__ = "plan_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    active_key: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    template: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.ACTIVE.value)
    created_on: Mapped[dt.date] = mapped_column(Date)  # the as-of day the start values were measured
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    refreshed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    objectives: Mapped[list[PlanObjective]] = relationship(back_populates="plan", order_by="PlanObjective.seq",
                                                           cascade="all, delete-orphan")
    links: Mapped[list[PlanLink]] = relationship(back_populates="plan", order_by="PlanLink.id",
                                                 cascade="all, delete-orphan")


class PlanObjective(Base):
    """One objective: a metric from :class:`retain.action.plan_metrics.PlanMetric` moving from start to target."""

    __tablename__ = "plan_objectives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_plans.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # adoption, outcome, renewal, expansion
    title: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(32), index=True)
    start_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    current_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    target_value: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: no start to grow from yet
    start_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    measured_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    plan: Mapped[SuccessPlan] = relationship(back_populates="objectives")


class PlanLink(Base):
    """A CTA or a task the plan (or one objective of it) counts on."""

    __tablename__ = "plan_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_plans.id", ondelete="CASCADE"), index=True)
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("plan_objectives.id", ondelete="SET NULL"),
                                                     nullable=True)
    kind: Mapped[str] = mapped_column(String(8))
    ref_id: Mapped[int] = mapped_column(Integer)
    plan: Mapped[SuccessPlan] = relationship(back_populates="links")

    __table_args__ = (UniqueConstraint("plan_id", "kind", "ref_id", name="uq_plan_links_ref"),)
