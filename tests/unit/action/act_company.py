"""Tiny hand-built companies for the action tests: a team, accounts in service, and the signals each test sets.

Team: manager ``m1`` with CSMs ``c1``, ``c2`` and rep ``r1`` reporting to her; ``gone`` left the team before
``DAY``. Accounts ``a1``..``a4`` (``a4`` owned by ``gone``, ``a5`` with nobody), each with one running
subscription of ``MRR[a]`` a month; ``ended`` churned before ``DAY``.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa

from retain.action import load_rules
from retain.warehouse import Warehouse

DAY = dt.date(2024, 6, 30)
MRR = {"a1": 1000.0, "a2": 3000.0, "a3": 100.0, "a4": 500.0, "a5": 200.0}


def ts(day: dt.date | str) -> dt.datetime:
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def put(wh: Warehouse, name: str, rows: list[dict]) -> None:
    schema = wh.raw(name).schema().to_pyarrow()
    wh.con.insert(name, ibis.memtable(pa.Table.from_pylist(rows, schema=schema)))


def company() -> Warehouse:
    wh = Warehouse.open(":memory:")
    put(wh, "team_members", [
        {"member_id": "m1", "name": "Mia Manager", "role": "manager"},
        {"member_id": "c1", "name": "Cleo CSM", "role": "csm", "manager_id": "m1"},
        {"member_id": "c2", "name": "Carl CSM", "role": "csm", "manager_id": "m1"},
        {"member_id": "r1", "name": "Rita Rep", "role": "rep", "manager_id": "m1"},
        {"member_id": "gone", "name": "Gus Gone", "role": "rep", "manager_id": "m1",
         "left_on": dt.date(2024, 1, 31)},
    ])
    owners = {"a1": ("r1", "c1"), "a2": ("r1", None), "a3": ("r1", "c2"), "a4": ("gone", None),
              "a5": (None, None), "ended": ("r1", "c1")}
    put(wh, "accounts", [{"account_id": a, "name": f"Account {a.upper()}", "owner_id": o, "csm_id": c,
                          "segment": "enterprise" if a == "a2" else "smb", "created_at": ts("2023-01-02")}
                         for a, (o, c) in owners.items()])
    put(wh, "subscriptions", [
        {"subscription_id": f"s_{a}", "account_id": a, "product_id": "core", "started_on": dt.date(2023, 1, 2),
         "mrr": m, "term_end_on": dt.date(2024, 12, 31)} for a, m in MRR.items()
    ] + [{"subscription_id": "s_ended", "account_id": "ended", "product_id": "core",
          "started_on": dt.date(2023, 1, 2), "mrr": 900.0, "ended_on": dt.date(2024, 3, 1)}])
    return wh


def health(wh: Warehouse, day: dt.date, rows: dict[str, tuple[float, str]] | dict[str, tuple],
           ) -> None:
    """Store health scores as of ``day``: account -> (total, grade[, critical factor])."""
    frame = pd.DataFrame({"account_id": list(rows), "scorecard": "standard",
                          "total": [float(v[0]) for v in rows.values()], "grade": [v[1] for v in rows.values()],
                          "critical_factor": [v[2] if len(v) > 2 else None for v in rows.values()]})
    wh.store_result("health_scores", frame, day)


def propensity(wh: Warehouse, day: dt.date, rows: dict[str, dict]) -> None:
    frame = pd.DataFrame([{"account_id": a, **v} for a, v in rows.items()])
    wh.store_result("propensity", frame, day)


def rules_file(folder: Path, rules: str, **top) -> Path:
    """A rule set YAML in ``folder`` with ``rules`` (YAML text of the list) and top-level settings ``top``."""
    head = "".join(f"{k}: {v}\n" for k, v in top.items())
    path = folder / "rules.yaml"
    path.write_text("version: 1\n" + head + "rules:\n" + textwrap.indent(textwrap.dedent(rules), "  "),
                    encoding="utf-8")
    return path


def one_rule(folder: Path, trigger: str, *, type_: str = "risk", owner: str = "account_owner", extra: str = "",
             **top):
    """The config of a single rule ``r`` with ``trigger`` (a YAML flow mapping)."""
    text = (f"- name: r\n  type: {type_}\n  reason: Something to do\n  trigger: {trigger}\n  owner: {owner}\n"
            "  due_days: 5\n" + textwrap.indent(textwrap.dedent(extra), "  "))
    return load_rules(rules_file(folder, text, **top))
