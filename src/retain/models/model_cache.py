"""Trained models remembered in the warehouse, so a run on unchanged data does not validate and train again.

The main job chooses and trains the churn and upsell models as of a day; on the same data and day the answer is
the same (every fit is seeded), so it is remembered like the fitted scorecard (:mod:`retain.health.fit_cache`): a
small table, ``model_fit_cache`` (not a declared result: it holds models, not rows about accounts), keyed by the
as-of day, the run's options and a *fingerprint* of the data — :func:`retain.health.fit_cache.fingerprint` (row
counts of every canonical table and the load ledger) with :data:`CACHE_VERSION` and Retain's version, so any load
or a Retain that trains differently misses and retrains. The payload is JSON: each model in its file format
(``ChosenModel.save``), the adoption tiers, the notes and the churn model's validation (``BacktestResult``).
A warehouse that cannot be written (read-only) simply is not remembered in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

import ibis
import pandas as pd

from retain.health.fit_cache import fingerprint as data_fingerprint
from retain.models.adoption import AdoptionTiers
from retain.models.backtest import BacktestResult
from retain.models.propensity import ChosenModel
from retain.warehouse import Warehouse

TABLE = "model_fit_cache"
CACHE_VERSION = "1"  # raise when training changes what it learns
SCHEMA = ibis.schema({"as_of": "date", "options": "string", "fingerprint": "string", "payload": "string",
                      "fitted_at": "timestamp('UTC')"})
_FRAMES = ("summary", "per_date")  # the BacktestResult fields that are tables


def fingerprint(wh: Warehouse) -> str:
    """The data's fingerprint with this cache's version and Retain's (one query)."""
    from retain import __version__

    text = json.dumps([CACHE_VERSION, __version__, data_fingerprint(wh)])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _model_text(model: ChosenModel | AdoptionTiers | None) -> str | None:
    if model is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        return model.save(Path(tmp) / "model.json").read_text()


def _model_from(text: str | None, kind: type):
    if text is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.json"
        path.write_text(text)
        return kind.load(path)


def _backtest_dict(result: BacktestResult | None) -> dict | None:
    if result is None:
        return None
    data = asdict(result)
    for name in _FRAMES:
        data[name] = json.loads(getattr(result, name).to_json(orient="split", date_format="iso", index=False))
    return json.loads(json.dumps(data, default=str))


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.date.astype(object).where(values.notna(), None)


def _backtest_from(data: dict | None) -> BacktestResult | None:
    if data is None:
        return None
    frames = {name: pd.DataFrame(data[name]["data"], columns=data[name]["columns"]) for name in _FRAMES}
    for col in ("test_date", "trained_until"):
        if col in frames["per_date"]:
            frames["per_date"][col] = _dates(frames["per_date"][col])
    fields = {**data, **frames, "test_dates": tuple(dt.date.fromisoformat(str(d)[:10]) for d in data["test_dates"]),
              "notes": tuple(data["notes"])}
    return BacktestResult(**fields)


def encode(churn: ChosenModel | None, upsell: ChosenModel | None, tiers: AdoptionTiers | None, notes: list[str],
           backtest: BacktestResult | None) -> str:
    """The payload: the models in their file formats, the notes and the churn validation."""
    return json.dumps({"churn": _model_text(churn), "upsell": _model_text(upsell), "tiers": _model_text(tiers),
                       "notes": list(notes), "backtest": _backtest_dict(backtest)})


def decode(payload: str) -> tuple[ChosenModel | None, ChosenModel | None, AdoptionTiers | None, list[str],
                                  BacktestResult | None]:
    data = json.loads(payload)
    return (_model_from(data["churn"], ChosenModel), _model_from(data["upsell"], ChosenModel),
            _model_from(data["tiers"], AdoptionTiers), list(data["notes"]), _backtest_from(data["backtest"]))


def recall(wh: Warehouse, day: dt.date, options: str, print_: str) -> str | None:
    """The remembered payload for this day, options and fingerprint (the latest), if any."""
    if TABLE not in wh.con.list_tables():
        return None
    t = wh.con.table(TABLE)
    hit = t.filter((t.as_of == ibis.literal(day, type="date")) & (t.options == options)
                   & (t.fingerprint == print_)).order_by(ibis.desc("fitted_at")).limit(1)
    found = wh.execute(hit.select("payload"))
    return None if found.empty else str(found["payload"].iloc[0])


def remember(wh: Warehouse, day: dt.date, options: str, print_: str, payload: str) -> bool:
    """Store a payload; entries for the same day and options with another fingerprint are dropped (stale). False
    when the warehouse refuses writes."""
    row = pd.DataFrame({"as_of": [day], "options": [options], "fingerprint": [print_], "payload": [payload],
                        "fitted_at": [pd.Timestamp.now(tz="UTC")]})
    try:
        if TABLE not in wh.con.list_tables():
            wh.con.create_table(TABLE, schema=SCHEMA)
        else:
            wh.con.raw_sql(f"DELETE FROM {TABLE} WHERE as_of = DATE '{day.isoformat()}' AND options = "
                           f"'{options.replace(chr(39), chr(39) * 2)}'")
        wh.con.insert(TABLE, ibis.memtable(row).cast(SCHEMA))
    except Exception:  # noqa: BLE001 - a cache that cannot be written (read-only warehouse) is no error
        return False
    return True
