"""Close-date pushes as point-in-time deal features: counted from the stage history known by the day, never from
rows recorded later; no history (or an export without the columns) is 0 pushes, not a failure."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from retain.sales.close_dates import pushes
from retain.sales.features import NUMERIC, deal_features
from retain.sales.scores import phrase
from retain.warehouse import Warehouse


def ts(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=9, tzinfo=dt.UTC)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def put(wh: Warehouse, name: str, rows: list[dict]) -> None:
    schema = wh.raw(name).schema().to_pyarrow()
    wh.con.insert(name, ibis.memtable(pa.Table.from_pylist(rows, schema=schema)))


# o1's history: 02-28, pushed to 03-31 (+31), pulled in to 03-15 (not a push), a row without a date, pushed to 04-30
# (+46 from 03-15). o2 has no history. o3 is won on 05-20: its export close date is the day it closed.
HISTORY = [
    {"opportunity_id": "o1", "entered_at": ts("2026-01-05"), "stage": "prospecting", "close_on": d("2026-02-28")},
    {"opportunity_id": "o1", "entered_at": ts("2026-02-10"), "stage": "discovery", "close_on": d("2026-03-31")},
    {"opportunity_id": "o1", "entered_at": ts("2026-03-01"), "stage": "discovery", "close_on": d("2026-03-15")},
    {"opportunity_id": "o1", "entered_at": ts("2026-03-20"), "stage": "proposal"},
    {"opportunity_id": "o1", "entered_at": ts("2026-04-02"), "stage": "proposal", "close_on": d("2026-04-30")},
]


def build(history: list[dict] = HISTORY) -> Warehouse:
    wh = Warehouse.open(":memory:")
    put(
        wh,
        "opportunities",
        [
            {
                "opportunity_id": "o1",
                "created_at": ts("2026-01-05"),
                "opportunity_type": "new_business",
                "stage": "proposal",
                "amount": 1000.0,
                "close_on": d("2026-04-30"),
            },
            {
                "opportunity_id": "o2",
                "created_at": ts("2026-02-01"),
                "opportunity_type": "add_on",
                "stage": "discovery",
                "amount": 500.0,
                "close_on": d("2026-03-10"),
            },
            {
                "opportunity_id": "o3",
                "created_at": ts("2026-02-01"),
                "opportunity_type": "add_on",
                "stage": "closed_won",
                "amount": 700.0,
                "close_on": d("2026-05-20"),
                "closed_at": ts("2026-05-20"),
                "is_won": True,
            },
        ],
    )
    put(wh, "opportunity_stages", history)
    return wh


def features(wh: Warehouse, day: str) -> dict[str, dict]:
    """Per deal its features, with ``close_on`` as a date (None when unknown)."""
    frame = wh.execute(deal_features(wh, [d(day)]))
    frame["close_on"] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in frame["close_on"]]
    return {r["opportunity_id"]: r for r in frame.to_dict("records")}


def test_pushes_days_pushed_and_the_close_date_as_known_by_the_day():
    wh = build()
    march = features(wh, "2026-03-25")["o1"]
    assert (march["close_date_pushes"], march["days_pushed"]) == (1.0, 31.0)  # a pull-in is not a push
    assert march["close_on"] == d("2026-03-15") and march["close_date_passed"] == 1.0
    april = features(wh, "2026-04-05")["o1"]
    assert (april["close_date_pushes"], april["days_pushed"]) == (2.0, 31.0 + 46.0)
    assert april["close_on"] == d("2026-04-30") and april["close_date_passed"] == 0.0
    assert {"close_date_pushes", "days_pushed", "close_date_passed"} <= set(NUMERIC)


def test_pushes_recorded_after_the_day_do_not_change_the_features():
    later = [
        *HISTORY,
        {"opportunity_id": "o1", "entered_at": ts("2026-04-10"), "stage": "proposal", "close_on": d("2026-06-30")},
        {"opportunity_id": "o3", "entered_at": ts("2026-04-20"), "stage": "proposal", "close_on": d("2026-05-31")},
    ]
    columns = ["close_on", "close_date_pushes", "days_pushed", "close_date_passed"]
    before = features(build(), "2026-04-05")
    after = features(build(later), "2026-04-05")
    assert [before["o1"][c] for c in columns] == [after["o1"][c] for c in columns]
    assert features(build(later), "2026-04-12")["o1"]["close_date_pushes"] == 3.0  # counted once known


def test_no_history_is_zero_pushes_and_a_closed_deal_never_shows_its_final_date():
    f = features(build(), "2026-04-05")
    o2, o3 = f["o2"], f["o3"]
    assert (o2["close_date_pushes"], o2["days_pushed"]) == (0.0, 0.0)
    assert o2["close_on"] == d("2026-03-10") and o2["close_date_passed"] == 1.0  # open today: the export's date
    # o3 closed on 05-20: its exported close date is when it closed, unknown on 04-05
    assert o3["close_on"] is None
    assert o3["close_date_passed"] == 0.0 and o3["close_date_pushes"] == 0.0


def test_an_export_without_the_columns_still_builds_features():
    wh = build()
    wh.con.raw_sql("ALTER TABLE opportunity_stages DROP COLUMN close_on")
    wh.con.raw_sql("ALTER TABLE opportunity_stages DROP COLUMN forecast_category")
    wh.con.raw_sql("ALTER TABLE opportunities DROP COLUMN forecast_category")
    f = features(wh, "2026-04-05")
    assert {r["close_date_pushes"] for r in f.values()} == {0.0}
    assert f["o1"]["close_on"] == d("2026-04-30") and pd.isna(f["o1"]["forecast_category"])


@pytest.mark.parametrize(
    ("feature", "value", "lowers", "text"),
    [
        ("close_date_pushes", 3.0, True, "close date pushed 3 time(s)"),
        ("days_pushed", 45.0, True, "close date pushed back 45 days in all"),
        ("close_date_passed", 1.0, True, "expected close date has passed"),
        ("close_date_pushes", 0.0, False, "close date never pushed"),
    ],
)
def test_reasons_in_plain_words(feature, value, lowers, text):
    assert phrase(feature, value, lowers) == text


def test_the_demo_history_slips_more_often_on_deals_it_loses(demo_warehouse):
    """The demo writes a close date and a category on every history row; its lost deals pushed more often."""
    wh = demo_warehouse
    stages = wh.execute(
        wh.raw("opportunity_stages").select("opportunity_id", "entered_at", "close_on", "forecast_category")
    )
    assert stages["close_on"].notna().all() and stages["forecast_category"].notna().all()
    per_deal = wh.execute(pushes(wh).group_by("opportunity_id").aggregate(n=ibis._.push.sum()))
    opps = wh.execute(wh.raw("opportunities").select("opportunity_id", "is_won", "close_on", "forecast_category"))
    deals = opps.merge(per_deal, on="opportunity_id", how="left").fillna({"n": 0})
    lost, won = deals.loc[deals["is_won"] == False, "n"], deals.loc[deals["is_won"] == True, "n"]  # noqa: E712
    assert 0.05 < (deals["n"] > 0).mean() < 0.9
    assert lost.mean() > 1.5 * won.mean()
    last = stages.sort_values("entered_at").groupby("opportunity_id").tail(1).set_index("opportunity_id")
    final = deals.set_index("opportunity_id")["close_on"].map(pd.Timestamp).reindex(last.index)
    assert (final == last["close_on"].map(pd.Timestamp)).all()  # the deal's close date is where its pushes led
    assert deals["forecast_category"].notna().all()
