"""Pipeline reviews: a stored snapshot of the deals a manager reviewed, so the next review shows what changed.

``sales_reviews`` holds one row per review (who, for which scope, as of which day); ``sales_review_deals`` the
open deals the reviewer could see then (stage, its funnel position, amount, close date, P(win)). :func:`changes`
compares the last review with the deals published now: moved in, moved out, slipped (close date later or passed),
amount changed and stage regressed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from retain.state.models import Base, utcnow

AMOUNT_TOLERANCE = 0.01  # a relative change of the amount below this is not a change


class PipelineReview(Base):
    __tablename__ = "sales_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(128), index=True)  # the reviewer's member id, or "all"
    reviewer: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[dt.date] = mapped_column(Date)
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    deals: Mapped[list[ReviewDeal]] = relationship(back_populates="review", cascade="all, delete-orphan")


class ReviewDeal(Base):
    __tablename__ = "sales_review_deals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("sales_reviews.id", ondelete="CASCADE"), index=True)
    opportunity_id: Mapped[str] = mapped_column(String(128))
    owner_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    stage: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stage_position: Mapped[float | None] = mapped_column(Float, nullable=True)
    amount: Mapped[float | None] = mapped_column(Float, nullable=True)
    close_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    p_win: Mapped[float | None] = mapped_column(Float, nullable=True)
    review: Mapped[PipelineReview] = relationship(back_populates="deals")


FIELDS = ("opportunity_id", "owner_id", "name", "stage", "stage_position", "amount", "close_on", "p_win")


def _date(value) -> dt.date | None:
    """A date from a published record's value (an ISO text; None, '' or pandas' 'NaT' for none)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = "" if value is None else str(value).strip()
    return None if text.lower() in ("", "nat", "nan", "none", "null") else dt.date.fromisoformat(text[:10])


def last_review(db: Session, scope_key: str) -> PipelineReview | None:
    stmt = select(PipelineReview).where(PipelineReview.scope_key == scope_key).order_by(
        PipelineReview.reviewed_at.desc(), PipelineReview.id.desc()).limit(1)
    return db.scalars(stmt).first()


def record_review(db: Session, scope_key: str, reviewer: str, as_of: dt.date, deals: list[dict]) -> PipelineReview:
    """Store the deals reviewed now as the snapshot the next review compares with."""
    review = PipelineReview(scope_key=scope_key, reviewer=reviewer, as_of=as_of)
    review.deals = [ReviewDeal(**{f: (_date(d.get(f)) if f == "close_on" else d.get(f)) for f in FIELDS})
                    for d in deals]
    db.add(review)
    db.commit()
    return review


def snapshot(review: PipelineReview | None) -> list[dict]:
    return [] if review is None else [{f: getattr(d, f) for f in FIELDS} for d in review.deals]


def changes(before: list[dict], now: list[dict], today: dt.date,
            reviewed_on: dt.date | None = None) -> dict[str, list[dict]]:
    """What changed between the deals of the last review (as of ``reviewed_on``) and those open ``today``, by kind
    of change. Slipped: the close date moved later, or it passed since the review."""
    old = {d["opportunity_id"]: d for d in before}
    new = {d["opportunity_id"]: d for d in now}
    out: dict[str, list[dict]] = {"moved_in": [], "moved_out": [], "slipped": [], "amount_changed": [],
                                  "stage_regressed": []}
    out["moved_in"] = [d for k, d in new.items() if k not in old]
    out["moved_out"] = [d for k, d in old.items() if k not in new]
    for key in new.keys() & old.keys():
        a, b = old[key], new[key]
        was, close = _date(a.get("close_on")), _date(b.get("close_on"))
        passed = close is not None and close < today and (reviewed_on is None or close >= reviewed_on)
        if close and ((was and close > was) or passed):
            out["slipped"].append(b | {"was_close_on": was})
        amount_a, amount_b = a.get("amount") or 0.0, b.get("amount") or 0.0
        if abs(amount_b - amount_a) > AMOUNT_TOLERANCE * max(abs(amount_a), 1.0):
            out["amount_changed"].append(b | {"was_amount": amount_a})
        pos_a, pos_b = a.get("stage_position"), b.get("stage_position")
        if pos_a is not None and pos_b is not None and pos_b < pos_a:
            out["stage_regressed"].append(b | {"was_stage": a.get("stage")})
    for kind in out:
        out[kind].sort(key=lambda d: str(d["opportunity_id"]))
    return out
