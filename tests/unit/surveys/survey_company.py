"""A tiny company for survey tests: five accounts whose contacts each meet one throttling rule.

As of ``DAY`` (2024-06-30):

- ``A`` (owner ``r1``, CSM ``r1``): a QBR held on 06-29, go-live completed on 06-27, a ticket raised by ``a_user``
  (no e-mail) resolved on 06-29; contacts ``a_champ`` (en), ``a_dm`` (zh), ``a_user`` (no e-mail);
- ``B``: churned on 06-01; ``C``: an escalated ticket still open; ``D``: an urgent ticket still open;
- ``E``: a ticket raised by ``e_champ`` resolved on 06-29; ``e_out`` opted out (by the test).
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from retain.warehouse import Warehouse

DAY = dt.date(2024, 6, 30)


def ts(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


_ts = ts


def put(wh: Warehouse, name: str, rows: list[dict]) -> None:
    schema = wh.raw(name).schema().to_pyarrow()
    wh.con.insert(name, ibis.memtable(pa.Table.from_pylist(rows, schema=schema)))


def build(wh: Warehouse, day: dt.date = DAY) -> Warehouse:
    """The company as of ``day`` (every date moved by ``day - DAY``: end-to-end tests need links valid now)."""
    shift = day - DAY

    def ts(text: str, hour: int = 10) -> dt.datetime:
        return _ts(text, hour) + shift

    put(wh, "team_members", [{"member_id": "r1", "name": "Rita Rep", "role": "csm"},
                             {"member_id": "m1", "name": "Mia Manager", "role": "manager"}])
    put(wh, "accounts", [
        {"account_id": a, "name": f"Account {a}", "owner_id": "r1", "csm_id": "r1", "segment": seg,
         "created_at": ts("2023-01-01"), "churned_at": ts("2024-06-01") if a == "B" else None}
        for a, seg in (("A", "enterprise"), ("B", "smb"), ("C", "smb"), ("D", "mid_market"), ("E", "smb"))])
    contacts = [("a_champ", "A", "champion", "en"), ("a_dm", "A", "decision_maker", "zh"),
                ("a_user", "A", "user", "en"), ("b_champ", "B", "champion", "en"), ("c_champ", "C", "champion", "en"),
                ("d_champ", "D", "champion", "en"), ("e_champ", "E", "champion", "en"),
                ("e_out", "E", "decision_maker", "en")]
    put(wh, "contacts", [
        {"contact_id": c, "account_id": a, "role": r, "language": lang, "name": c.replace("_", " ").title(),
         "email": None if c == "a_user" else f"{c}@example.com", "created_at": ts("2024-01-01")}
        for c, a, r, lang in contacts])
    put(wh, "activities", [
        {"activity_id": "qbr_a", "account_id": "A", "activity_type": "qbr", "occurred_at": ts("2024-06-29"),
         "outcome": "completed", "subject": "quarterly business review"},
        {"activity_id": "golive_a", "account_id": "A", "activity_type": "onboarding_milestone",
         "occurred_at": ts("2024-06-27"), "outcome": "completed", "subject": "go_live"},
        {"activity_id": "qbr_b", "account_id": "B", "activity_type": "qbr", "occurred_at": ts("2024-06-29"),
         "outcome": "completed"},
        {"activity_id": "qbr_c", "account_id": "C", "activity_type": "qbr", "occurred_at": ts("2024-06-29"),
         "outcome": "completed"},
        {"activity_id": "qbr_d", "account_id": "D", "activity_type": "qbr", "occurred_at": ts("2024-06-29"),
         "outcome": "completed"},
        {"activity_id": "qbr_e", "account_id": "E", "activity_type": "qbr", "occurred_at": ts("2024-06-29"),
         "outcome": "cancelled"},
    ])
    put(wh, "support_tickets", [
        {"ticket_id": "t_a", "account_id": "A", "contact_id": "a_user", "opened_at": ts("2024-06-20"),
         "resolved_at": ts("2024-06-29"), "priority": "normal"},
        {"ticket_id": "t_c", "account_id": "C", "contact_id": "c_champ", "opened_at": ts("2024-06-20"),
         "priority": "high", "escalated": True},
        {"ticket_id": "t_d", "account_id": "D", "contact_id": "d_champ", "opened_at": ts("2024-06-25"),
         "priority": "urgent"},
        {"ticket_id": "t_e", "account_id": "E", "contact_id": "e_champ", "opened_at": ts("2024-06-25"),
         "resolved_at": ts("2024-06-29"), "priority": "normal"},
    ])
    put(wh, "subscriptions", [
        {"subscription_id": f"s_{a}", "account_id": a, "product_id": "core", "started_on": dt.date(2023, 1, 1) + shift,
         "mrr": 100.0, "quantity": 1} for a in "ACDE"])
    put(wh, "products", [{"product_id": "core", "name": "Core"}])
    return wh
