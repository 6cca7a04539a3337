"""A tiny, hand-checkable sales warehouse: two reps in one team, a few deals with stage history and activities."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from retain.warehouse import Warehouse

DAY = dt.date(2026, 5, 15)


def ts(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def put(wh: Warehouse, name: str, rows: list[dict]) -> None:
    schema = wh.raw(name).schema().to_pyarrow()
    wh.con.insert(name, ibis.memtable(pa.Table.from_pylist(rows, schema=schema)))


def build() -> Warehouse:
    """Reps r1 and r2 (team East, manager m1); customer a1 (contacts: a decision maker and a user).

    - d1: add-on on a1, open since 2026-04-01: prospecting 04-01, proposal 04-20; 2 activities (one inbound from the
      decision maker) before the day and one after it; close date 2026-05-01 (passed).
    - d2: new business, open since 2026-05-01, prospecting, no activity; it is won on 2026-06-10 (after the day).
    - d3: new business, won 2026-04-10 (amount 1,200, quantity 3); d4: add-on won 2026-05-05 (amount 600,
      quantity 1); d5: lost 2026-05-10 to price.
    """
    wh = Warehouse.open(":memory:")
    put(wh, "team_members", [
        {"member_id": "m1", "name": "Mia", "role": "manager", "team": "East"},
        {"member_id": "r1", "name": "Rita", "role": "rep", "manager_id": "m1", "team": "East"},
        {"member_id": "r2", "name": "Raj", "role": "rep", "manager_id": "m1", "team": "East"},
    ])
    put(wh, "products", [{"product_id": "core", "name": "Core"}, {"product_id": "new", "name": "New"}])
    put(wh, "accounts", [{"account_id": "a1", "name": "Acme", "owner_id": "r1", "segment": "smb",
                          "created_at": ts("2025-01-01")}])
    put(wh, "contacts", [
        {"contact_id": "c1", "account_id": "a1", "created_at": ts("2025-01-01"), "role": "decision_maker"},
        {"contact_id": "c2", "account_id": "a1", "created_at": ts("2025-01-01"), "role": "user"},
    ])
    put(wh, "opportunities", [
        {"opportunity_id": "d1", "created_at": ts("2026-04-01"), "opportunity_type": "add_on", "stage": "proposal",
         "account_id": "a1", "owner_id": "r1", "amount": 1000.0, "product_id": "new",
         "close_on": dt.date(2026, 5, 1), "probability": 0.5},
        {"opportunity_id": "d2", "created_at": ts("2026-05-01"), "opportunity_type": "new_business",
         "stage": "closed_won", "owner_id": "r2", "amount": 5000.0, "product_id": "core",
         "close_on": dt.date(2026, 6, 10), "closed_at": ts("2026-06-10"), "is_won": True, "probability": 1.0},
        {"opportunity_id": "d3", "created_at": ts("2026-03-01"), "opportunity_type": "new_business",
         "stage": "closed_won", "owner_id": "r1", "amount": 1200.0, "product_id": "new",
         "closed_at": ts("2026-04-10"), "is_won": True, "attributes": '{"quantity": 3}'},
        {"opportunity_id": "d4", "created_at": ts("2026-04-01"), "opportunity_type": "add_on",
         "stage": "closed_won", "account_id": "a1", "owner_id": "r2", "amount": 600.0, "product_id": "new",
         "closed_at": ts("2026-05-05"), "is_won": True},
        {"opportunity_id": "d5", "created_at": ts("2026-04-01"), "opportunity_type": "new_business",
         "stage": "closed_lost", "owner_id": "r2", "amount": 900.0, "product_id": "core",
         "closed_at": ts("2026-05-10"), "is_won": False, "loss_reason": "price"},
    ])
    put(wh, "opportunity_stages", [
        {"opportunity_id": "d1", "entered_at": ts("2026-04-01"), "stage": "prospecting", "amount": 800.0,
         "probability": 0.1},
        {"opportunity_id": "d1", "entered_at": ts("2026-04-20"), "stage": "proposal", "amount": 1000.0,
         "probability": 0.5},
        {"opportunity_id": "d2", "entered_at": ts("2026-05-01"), "stage": "prospecting", "amount": 5000.0,
         "probability": 0.1},
        {"opportunity_id": "d2", "entered_at": ts("2026-06-01"), "stage": "proposal", "amount": 6000.0,
         "probability": 0.5},
        {"opportunity_id": "d2", "entered_at": ts("2026-06-10"), "stage": "closed_won", "amount": 6000.0,
         "probability": 1.0},
        {"opportunity_id": "d5", "entered_at": ts("2026-04-01"), "stage": "prospecting", "probability": 0.1},
        {"opportunity_id": "d5", "entered_at": ts("2026-04-15"), "stage": "proposal", "probability": 0.5},
        {"opportunity_id": "d5", "entered_at": ts("2026-05-10"), "stage": "closed_lost", "probability": 0.0},
    ])
    put(wh, "activities", [
        {"activity_id": "x1", "occurred_at": ts("2026-04-05"), "activity_type": "email", "opportunity_id": "d1",
         "contact_id": "c2", "member_id": "r1", "direction": "outbound"},
        {"activity_id": "x2", "occurred_at": ts("2026-04-25"), "activity_type": "email", "opportunity_id": "d1",
         "contact_id": "c1", "member_id": "r1", "direction": "inbound"},
        {"activity_id": "x3", "occurred_at": ts("2026-05-20"), "activity_type": "meeting", "opportunity_id": "d1",
         "contact_id": "c2", "member_id": "r1", "direction": "outbound"},
    ])
    return wh
