"""What changed since the last pipeline review (hand data) and the review snapshot in the app database."""

from __future__ import annotations

import datetime as dt

from retain.state import sales as reviews

TODAY = dt.date(2026, 5, 15)


def deal(i, stage="proposal", pos=2.0, amount=100.0, close="2026-06-30"):
    return {"opportunity_id": i, "stage": stage, "stage_position": pos, "amount": amount, "close_on": close}


def test_changes_by_kind():
    before = [deal("a"), deal("b"), deal("c"), deal("d"), deal("e", close="2026-05-20")]
    now = [deal("a"), deal("b", close="2026-07-31"), deal("c", amount=150.0), deal("d", "discovery", 1.0),
           deal("e", close="2026-05-20"), deal("f")]
    got = reviews.changes(before, now, TODAY, reviewed_on=TODAY)
    assert [d["opportunity_id"] for d in got["moved_in"]] == ["f"]
    assert got["moved_out"] == []
    assert [(d["opportunity_id"], d["was_close_on"]) for d in got["slipped"]] == [("b", dt.date(2026, 6, 30))]
    assert [(d["opportunity_id"], d["was_amount"]) for d in got["amount_changed"]] == [("c", 100.0)]
    assert [(d["opportunity_id"], d["was_stage"]) for d in got["stage_regressed"]] == [("d", "proposal")]
    gone = reviews.changes(before, now[:1], dt.date(2026, 5, 25), reviewed_on=dt.date(2026, 5, 21))
    assert [d["opportunity_id"] for d in gone["moved_out"]] == ["b", "c", "d", "e"]


def test_a_close_date_passed_since_the_review_is_a_slip():
    before, now = [deal("e", close="2026-05-20")], [deal("e", close="2026-05-20")]
    got = reviews.changes(before, now, dt.date(2026, 5, 25), reviewed_on=TODAY)
    assert [d["opportunity_id"] for d in got["slipped"]] == ["e"]
    assert reviews.changes(before, now, dt.date(2026, 5, 25), reviewed_on=dt.date(2026, 5, 21))["slipped"] == []


def test_the_last_review_is_kept_per_scope(tmp_path):
    from retain.state.db import make_engine, session_factory
    from retain.state.models import Base

    engine = make_engine(f"sqlite:///{tmp_path / 'app.sqlite'}")
    Base.metadata.create_all(engine)
    with session_factory(engine)() as db:
        assert reviews.last_review(db, "m1") is None
        reviews.record_review(db, "m1", "mia", TODAY, [deal("a"), deal("b")])
        reviews.record_review(db, "m1", "mia", TODAY, [deal("a")])
        reviews.record_review(db, "all", "admin", TODAY, [deal("z")])
        snap = reviews.snapshot(reviews.last_review(db, "m1"))
    assert [d["opportunity_id"] for d in snap] == ["a"] and snap[0]["close_on"] == dt.date(2026, 6, 30)
