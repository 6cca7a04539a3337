"""Contact caps: counting touches across teams and Retain's own messages, holding, releasing, pressure, breaches."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retain.delivery.caps import (
    CapSpec,
    CapsSpec,
    breach_expr,
    breaches,
    cap_block,
    contact_pressure,
    forget_touches,
    load_caps,
)
from retain.delivery.outbox import Channel, MessageStatus, enqueue
from retain.delivery.settings import DeliverySettings
from retain.delivery.worker import Worker
from retain.errors import ConfigError
from retain.state.db import make_engine, session_factory, upgrade
from retain.warehouse import Warehouse

DAY = dt.date(2026, 3, 10)
WEEKLY = CapsSpec(caps=(CapSpec(name="emails_week", per="contact", channel="email", window_days=7, max=3),
                        CapSpec(name="account_week", per="account", channel="any", window_days=7, max=5)))


def put(wh: Warehouse, name: str, rows: list[dict]) -> None:
    schema = wh.raw(name).schema().to_pyarrow()
    wh.con.insert(name, ibis.memtable(pa.Table.from_pylist(rows, schema=schema)))


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def company(wh):
    forget_touches()
    put(wh, "team_members", [{"member_id": "rep", "name": "Rep", "role": "rep", "team": "Sales"},
                             {"member_id": "csm", "name": "Csm", "role": "csm", "team": "Success"},
                             {"member_id": "sup", "name": "Sup", "role": "support", "team": "Support"}])
    put(wh, "contacts", [{"contact_id": c, "account_id": "a1", "created_at": at(DAY - dt.timedelta(days=400)),
                          "name": n} for c, n in (("c1", "Ann"), ("c2", "Bob"))])
    rows = []
    for i, (days_ago, kind, member, contact, direction) in enumerate([
        (1, "email", "rep", "c1", "outbound"),
        (2, "email", "csm", "c1", "outbound"),
        (3, "email", "sup", "c1", "outbound"),   # support: exempt
        (3, "email", "rep", "c1", "inbound"),    # the customer wrote: not a touch
        (4, "note", "csm", "c1", None),          # not customer-facing
        (9, "email", "rep", "c1", "outbound"),   # outside the 7-day window
        (1, "meeting", "csm", "c2", None),
    ]):
        rows.append({"activity_id": f"x{i}", "occurred_at": at(DAY - dt.timedelta(days=days_ago)),
                     "activity_type": kind, "account_id": "a1", "contact_id": contact, "member_id": member,
                     "direction": direction})
    put(wh, "activities", rows)
    return wh


def campaign(db, wh, key: str, contact: str = "c1", day: dt.date = DAY, **kw):
    return enqueue(db, channel=Channel.EMAIL, to=f"{contact}@customer.example", subject="News", text="Hello",
                   idempotency_key=key, kind="playbook_email", account_id="a1", contact_id=contact,
                   customer_facing=True, category="marketing", day=day, wh=wh, caps=WEEKLY, owner_id="csm",
                   not_before=dt.datetime.combine(day, dt.time(8)), **kw)


def test_touches_count_across_teams_but_not_support_inbound_or_notes(db, company):
    assert cap_block(db, company, contact_id="c1", account_id="a1", category="marketing", day=DAY, caps=WEEKLY) is None
    first = campaign(db, company, "m1")  # rep + csm e-mails, and this one: 3 of 3
    assert first.status == MessageStatus.PENDING
    second = campaign(db, company, "m2")
    assert second.status == MessageStatus.HELD
    assert second.held_reason == ("contact c1 already has 3 e-mail(s) in the 7 days to 2026-03-10 "
                                  "(cap emails_week: at most 3)")
    assert campaign(db, company, "m2").id == second.id  # same key: the held one, unchanged
    receipt = enqueue(db, channel=Channel.EMAIL, to="c1@customer.example", subject="Receipt", text="Paid",
                      idempotency_key="r1", kind="receipt", account_id="a1", contact_id="c1", customer_facing=True,
                      category="transactional", day=DAY, wh=company, caps=WEEKLY)
    assert receipt.status == MessageStatus.PENDING  # transactional: exempt


def test_a_message_dated_earlier_cannot_squeeze_under_later_ones(db, company):
    for i in range(3):
        campaign(db, company, f"later{i}", contact="c2", day=DAY + dt.timedelta(days=3))
    early = campaign(db, company, "early", contact="c2", day=DAY)
    assert early.status == MessageStatus.HELD and "2026-03-13" in early.held_reason


def test_account_caps_count_every_contact_and_channel(db, company):
    for i in range(2):
        campaign(db, company, f"c2-{i}", contact="c2")
    # account a1 in the week: rep, csm e-mails to c1, the meeting with c2, and two e-mails to c2 = 5 of 5
    blocked = campaign(db, company, "c3-0", contact="c3")
    assert blocked.status == MessageStatus.HELD and "account a1 already has 5 touch(es)" in blocked.held_reason


def test_the_worker_releases_held_messages_when_the_window_allows(engine, company):
    sessions = session_factory(engine)
    with sessions() as db:
        campaign(db, company, "m1")
        held = campaign(db, company, "m2")
        db.commit()
    assert held.status == MessageStatus.HELD

    class Clock:
        now = dt.datetime.combine(DAY, dt.time(12))

        def __call__(self):
            return self.now

    clock = Clock()
    worker = Worker(sessions, DeliverySettings(), wh=company, caps=WEEKLY, senders={}, clock=clock)
    assert worker.release_held().held == 1
    clock.now += dt.timedelta(days=1)  # the rep's e-mail of DAY-1 is still in the window ... until DAY+6
    assert worker.release_held().held == 1
    clock.now = dt.datetime.combine(DAY + dt.timedelta(days=6), dt.time(12))
    report = worker.release_held()
    assert report.released == 1
    with sessions() as db:
        pressure = contact_pressure(db, company, "a1", DAY + dt.timedelta(days=6), caps=WEEKLY)
    row = next(r for r in pressure if r["contact_id"] == "c1" and r["cap"] == "emails_week")
    assert row["touches"] == 2 and row["max"] == 3 and row["held"] == 0  # m1 on DAY and m2 released on DAY+6


def test_contact_pressure_lists_each_contact_and_the_account(db, company):
    campaign(db, company, "m1")
    campaign(db, company, "m2")
    pressure = contact_pressure(db, company, "a1", DAY, caps=WEEKLY)
    by = {(r["scope"], r["contact_id"], r["cap"]): r for r in pressure}
    assert by[("contact", "c1", "emails_week")] | {} == {
        "scope": "contact", "contact_id": "c1", "name": "Ann", "cap": "emails_week", "channel": "email",
        "window_days": 7, "touches": 3, "max": 3, "share": 1.0, "at_cap": True, "held": 1}
    assert by[("contact", "c2", "emails_week")]["touches"] == 0
    assert by[("account", None, "account_week")]["touches"] == 4 and by[("account", None, "account_week")]["held"] == 1
    assert pressure[0]["at_cap"]  # busiest first


def test_breaches_report_windows_over_a_cap_with_the_teams(company):
    put(company, "activities", [
        {"activity_id": f"b{i}", "occurred_at": at(DAY - dt.timedelta(days=30 - i)), "activity_type": "email",
         "account_id": "a1", "contact_id": "c2", "member_id": "rep" if i % 2 else "csm", "direction": "outbound"}
        for i in range(5)])  # five e-mails to c2 on five days in a row, a month back
    forget_touches()
    frame = breaches(company, DAY - dt.timedelta(days=40), DAY, WEEKLY)
    c2 = frame[frame["key_id"] == "c2"]
    # windows ending on the 4th and 5th day hold 4 and 5 e-mails
    assert list(c2["touches"]) == [5, 4] and set(c2["cap"]) == {"emails_week"}
    assert c2.iloc[0]["teams"] == "Sales, Success" and c2.iloc[0]["breach_on"] == DAY - dt.timedelta(days=26)
    assert frame[frame["per"] == "account"].empty  # account a1: five touches in a week is the cap, not over it
    assert breaches(company, DAY - dt.timedelta(days=10), DAY, WEEKLY).empty
    assert "OVER" in company.sql(breach_expr(company, DAY - dt.timedelta(days=40), DAY, WEEKLY))  # in the engine


def test_caps_yaml_is_validated_with_file_and_key(tmp_path):
    assert load_caps().caps[0].name == "emails_per_contact_week"
    bad = tmp_path / "caps.yaml"
    bad.write_text("version: 1\ncaps:\n  - {name: a, per: team, window_days: 0, max: 3}\n  - {name: a, per: contact,"
                   " window_days: 7, max: 1, colour: red}\n")
    with pytest.raises(ConfigError) as err:
        load_caps(bad)
    message = str(err.value)
    assert str(bad) in message and "caps.0.per" in message and "caps.0.window_days" in message
    assert "caps.1.colour" in message
    from retain.configs import validate_config

    issues = validate_config(bad)
    assert {i.key for i in issues} >= {"caps.0.per", "caps.0.window_days", "caps.1.colour"}


# -- property: whatever is asked, Retain never takes a contact over a cap -----------------------------------

ASKS = st.lists(st.tuples(st.sampled_from(["c1", "c2", "c3"]), st.integers(0, 20),
                          st.sampled_from(["marketing", "marketing", "transactional"])), min_size=1, max_size=40)
PRIOR = st.lists(st.tuples(st.sampled_from(["c1", "c2", "c3"]), st.integers(-6, 20)), max_size=8)


@pytest.fixture(scope="module")
def arena(tmp_path_factory):
    """One warehouse and one application database for every example (emptied by each)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('caps') / 'state.sqlite'}")
    upgrade(engine)
    yield Warehouse.open(":memory:"), session_factory(engine)
    engine.dispose()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asks=ASKS, prior=PRIOR, cap=st.integers(0, 4), window=st.integers(1, 9))
def test_no_contact_is_ever_sent_more_than_its_cap(arena, asks, prior, cap, window):
    """Messages asked for in any order and on any day, released by the worker on later days: every rolling window
    that holds one of Retain's counted messages holds at most ``cap`` touches, theirs (activities) included."""
    from sqlalchemy import delete, select

    from retain.state.outbox import OutboxMessage

    wh, sessions = arena
    caps = CapsSpec(caps=(CapSpec(name="cap", per="contact", channel="email", window_days=window, max=cap),))
    wh.con.truncate_table("activities")
    forget_touches()
    put(wh, "activities", [{"activity_id": f"p{i}", "occurred_at": at(DAY + dt.timedelta(days=d)),
                            "activity_type": "email", "account_id": "a1", "contact_id": c, "direction": "outbound"}
                           for i, (c, d) in enumerate(prior)])
    with sessions() as db:
        db.execute(delete(OutboxMessage))
        for i, (contact, offset, category) in enumerate(asks):
            enqueue(db, channel=Channel.EMAIL, to="x@y.z", subject="s", text="t", idempotency_key=f"k{i}",
                    kind="playbook_email", account_id="a1", contact_id=contact, customer_facing=True,
                    category=category, day=DAY + dt.timedelta(days=offset), wh=wh, caps=caps,
                    not_before=dt.datetime.combine(DAY, dt.time(8)))
            db.commit()
    for offset in range(0, 30, 6):  # the worker, every few days, releases what it may
        now = dt.datetime.combine(DAY + dt.timedelta(days=offset), dt.time(9))
        Worker(sessions, DeliverySettings(), wh=wh, caps=caps, senders={}, clock=lambda now=now: now).release_held()
    with sessions() as db:
        counted = [(m.contact_id, m.touch_on) for m in db.scalars(select(OutboxMessage).where(
            OutboxMessage.status == "pending", OutboxMessage.category == "marketing"))]
    assert len(counted) <= sum(c == "marketing" for *_, c in asks)
    theirs = [(c, DAY + dt.timedelta(days=d)) for c, d in prior]
    for contact, day in counted:
        for end in (day + dt.timedelta(days=k) for k in range(window)):
            start = end - dt.timedelta(days=window - 1)
            touches = sum(c == contact and start <= d <= end for c, d in counted + theirs)
            assert touches <= cap, (contact, day, end, touches)


def test_a_server_worker_opens_the_warehouse_only_to_release(db, engine, tmp_path):
    """The worker inside ``retain serve`` keeps no warehouse: it opens the file for a release pass, so the caps
    still see every team's activities."""
    path = tmp_path / "wh.duckdb"
    wh = Warehouse.open(path)
    put(wh, "activities", [{"activity_id": f"e{i}", "occurred_at": at(DAY - dt.timedelta(days=i)),
                            "activity_type": "email", "account_id": "a1", "contact_id": "c1", "direction": "outbound"}
                           for i in range(3)])
    assert campaign(db, wh, "m1").status == MessageStatus.HELD
    db.commit()
    wh.con.disconnect()
    sessions = session_factory(engine)
    now = [dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(9))]
    worker = Worker(sessions, DeliverySettings(), caps=WEEKLY, senders={}, clock=lambda: now[0],
                    warehouse_path=str(path))
    assert worker.release_held().held == 1  # the activities of DAY-1 and DAY still fill the week
    now[0] += dt.timedelta(days=6)
    assert worker.release_held().released == 1 and worker.wh is None
