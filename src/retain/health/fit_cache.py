"""The fitted scorecard, remembered in the warehouse so the main job, ``retain score`` and pages fit it once.

A small table, ``health_fit_cache`` (not a declared result: it holds a scorecard, not rows about accounts), keyed
by the as-of day, the fit's options (horizon, observation dates) and a *fingerprint* of the data: the row count of
every canonical table and the load ledger's count and latest finish, plus :data:`FIT_VERSION` (so a Retain that
fits differently refits). Any load, or any row added by other means, changes the fingerprint; the next call refits.
A warehouse that cannot be written (read-only) simply is not remembered in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import ibis
import pandas as pd

from retain.schema import TABLES
from retain.warehouse import Warehouse

TABLE = "health_fit_cache"
FIT_VERSION = "2"  # raise when the fit changes what it learns
SCHEMA = ibis.schema({"as_of": "date", "options": "string", "fingerprint": "string", "scorecard": "string",
                      "reason": "string", "fitted_at": "timestamp('UTC')"})
LEDGER = "loads"


def fingerprint(wh: Warehouse) -> str:
    """A short hash of what the fit reads: canonical row counts, the load ledger, :data:`FIT_VERSION` (one query)."""
    present = set(wh.con.list_tables())
    parts = [wh.raw(name).aggregate(n=ibis._.count(), last=ibis.literal("")).mutate(name=ibis.literal(name))
             for name in TABLES if name in present]
    if LEDGER in present:
        ledger = wh.con.table(LEDGER)
        parts.append(ledger.aggregate(n=ledger.count(), last=ledger.finished_at.max().cast("string").fill_null(""))
                     .mutate(name=ibis.literal(LEDGER)))
    if not parts:
        return FIT_VERSION
    found = wh.execute(ibis.union(*parts)).sort_values("name")
    text = json.dumps([FIT_VERSION, *found[["name", "n", "last"]].astype(str).values.tolist()])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def recall(wh: Warehouse, day: dt.date, options: str, print_: str) -> tuple[str, str] | None:
    """The remembered ``(scorecard JSON or "", reason)`` for this day, options and fingerprint, if any."""
    if TABLE not in wh.con.list_tables():
        return None
    t = wh.con.table(TABLE)
    hit = t.filter((t.as_of == ibis.literal(day, type="date")) & (t.options == options)
                   & (t.fingerprint == print_)).order_by(ibis.desc("fitted_at")).limit(1)
    found = wh.execute(hit.select("scorecard", "reason"))
    if found.empty:
        return None
    return str(found["scorecard"].iloc[0] or ""), str(found["reason"].iloc[0])


def remember(wh: Warehouse, day: dt.date, options: str, print_: str, scorecard: str, reason: str) -> bool:
    """Store a fit's outcome (one row per fit; :func:`recall` reads the latest); False when the warehouse refuses
    writes."""
    row = pd.DataFrame({"as_of": [day], "options": [options], "fingerprint": [print_], "scorecard": [scorecard],
                        "reason": [reason], "fitted_at": [pd.Timestamp.now(tz="UTC")]})
    try:
        if TABLE not in wh.con.list_tables():
            wh.con.create_table(TABLE, schema=SCHEMA)
        wh.con.insert(TABLE, ibis.memtable(row).cast(SCHEMA))
    except Exception:  # noqa: BLE001 - a cache that cannot be written (read-only warehouse) is no error
        return False
    return True
