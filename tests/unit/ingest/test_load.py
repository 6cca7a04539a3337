"""Formats, upsert by key, attributes, defaults, UTC, Chinese text, product-event rollup, atomic loads, status."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest
from tests.unit.ingest.conftest import ACCOUNTS_CSV, NOW, rows, snapshot

from retain.ingest import engine, ingest_frames, ingest_path, status


def test_csv_json_jsonl_and_parquet_load_the_same_rows(wh, write, tmp_path):
    frame = pd.DataFrame({"account_id": ["A1", "A2"], "name": ["Acme", "环球科技"],
                          "created_at": ["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"]})
    write("accounts.json", json.dumps(frame.to_dict("records"), ensure_ascii=False), folder="json")
    write("accounts.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in frame.to_dict("records")),
          folder="jsonl")
    (tmp_path / "parquet").mkdir()
    frame.assign(created_at=pd.to_datetime(frame.created_at)).to_parquet(tmp_path / "parquet" / "accounts.parquet")
    write("accounts.csv", frame.to_csv(index=False), folder="csv")
    expected = [("A1", "Acme", "2024-01-01 00:00:00+00"), ("A2", "环球科技", "2024-02-01 00:00:00+00")]
    for folder in ("json", "jsonl", "parquet", "csv"):
        wh.con.con.execute("DELETE FROM accounts")
        report = ingest_path(wh, tmp_path / folder, now=NOW)
        assert report.result("accounts").loaded == 2, folder
        assert rows(wh, "SELECT account_id, name, created_at::VARCHAR FROM accounts ORDER BY 1") == expected, folder


def test_json_nested_values_are_kept_as_json_text(wh, write):
    path = write("accounts.jsonl", '{"account_id": "A1", "name": "Acme", "created_at": "2024-01-01", '
                                   '"crm": {"tier": "gold", "tags": [1, 2]}}\n')
    ingest_path(wh, path, now=NOW)
    attrs = json.loads(rows(wh, "SELECT attributes FROM accounts")[0][0])
    assert attrs == {"crm": {"tier": "gold", "tags": [1, 2]}}


def test_timestamps_are_normalised_to_utc(wh, write):
    path = write("accounts.csv", "account_id,name,created_at\nA1,a,2024-01-01T10:00:00+02:00\n"
                                 "A2,b,2024-01-01 10:00\nA3,c,2024-01-01T10:00:00.000+0000\nA4,d,2024-01-01\n")
    ingest_path(wh, path, now=NOW)
    assert rows(wh, "SELECT created_at::VARCHAR FROM accounts ORDER BY account_id") == [
        ("2024-01-01 08:00:00+00",), ("2024-01-01 10:00:00+00",), ("2024-01-01 10:00:00+00",),
        ("2024-01-01 00:00:00+00",)]


def test_chinese_text_round_trips(wh, write):
    text = "客户说价格太高，下周再联系。我们的竞争对手是谁？"
    write("conversations.csv", "conversation_id,started_at,language\nK1,2024-05-01T09:00:00Z,zh\n")
    write("utterances.csv", "conversation_id,seq,speaker,role,start_seconds,end_seconds,text\n"
                            f"K1,0,王经理,customer,0,4.5,{text}\nK1,1,李明,rep,4.5,9,好的，明白了\n")
    report = ingest_path(wh, write("extra_note.txt", "ignored").parent, now=NOW)
    assert report.result("utterances").loaded == 2
    assert rows(wh, "SELECT speaker, text FROM utterances ORDER BY seq") == [("王经理", text), ("李明", "好的，明白了")]


def test_reingest_changes_nothing_and_a_changed_row_replaces_the_old_one(wh, write):
    path = write("accounts.csv", ACCOUNTS_CSV)
    first = ingest_path(wh, path, now=NOW).results[0]
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    before = snapshot(wh)
    again = ingest_path(wh, path, now=NOW).results[0]
    assert (again.read, again.loaded, again.inserted, again.updated, again.unchanged) == (2, 2, 0, 0, 2)
    after = snapshot(wh)
    assert {k: v for k, v in after.items() if k != "loads"} == {k: v for k, v in before.items() if k != "loads"}
    write("accounts.csv", ACCOUNTS_CSV.replace("Globex", "Globex Corp"))
    changed = ingest_path(wh, path, now=NOW).results[0]
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    assert rows(wh, "SELECT name FROM accounts ORDER BY account_id") == [("Acme",), ("Globex Corp",)]


def test_extra_columns_go_to_attributes_and_defaults_fill_gaps(wh, write):
    write("accounts.csv", ACCOUNTS_CSV)
    path = write("support_tickets.csv", "ticket_id,account_id,opened_at,Plan Tier,priority\n"
                                        "T1,A1,2024-05-01,gold,\nT2,A1,2024-05-01,,HIGH\n")
    ingest_path(wh, path.parent, now=NOW)
    assert rows(wh, "SELECT ticket_id, priority, attributes FROM support_tickets ORDER BY 1") == [
        ("T1", "normal", '{"plan_tier":"gold"}'), ("T2", "high", None)]


def test_product_events_roll_up_into_usage_idempotently(wh, write):
    write("accounts.csv", ACCOUNTS_CSV)
    write("product_events.csv", "account_id,user_id,occurred_at,event_type,value\n"
                                "A1,u1,2024-05-01T09:00:00Z,report,\n"
                                "A1,u1,2024-05-01T10:00:00Z,report,2\n"
                                "A1,u2,2024-05-01T23:30:00-02:00,report,1\n"   # 01:30 UTC on 2 May
                                "A1,u2,2024-05-01T11:00:00Z,export,5\n")
    folder = write("usage.csv", "account_id,usage_on,feature\n").parent
    report = ingest_path(wh, folder, now=NOW)
    assert report.result("product_events").loaded == 4
    assert [(d.table, d.loaded, d.inserted) for d in report.derived] == [("usage", 3, 3)]
    expected = [("A1", "2024-05-01", "export", 1, 5.0), ("A1", "2024-05-01", "report", 1, 3.0),
                ("A1", "2024-05-02", "report", 1, 1.0)]
    query = "SELECT account_id, usage_on::VARCHAR, feature, active_users, events FROM usage ORDER BY 2, 3"
    assert rows(wh, query) == expected
    before = snapshot(wh)
    again = ingest_path(wh, folder, now=NOW)
    assert again.result("product_events").unchanged == 4
    assert [(d.inserted, d.updated) for d in again.derived] == [(0, 0)]
    assert rows(wh, query) == expected
    assert {k: v for k, v in snapshot(wh).items() if k != "loads"} == {
        k: v for k, v in before.items() if k != "loads"}
    assert rows(wh, "SELECT count(*) FROM product_events") == [(4,)]
    assert rows(wh, "SELECT table_name, source, inserted FROM loads WHERE source LIKE '%product_events%' "
                    "ORDER BY finished_at, table_name LIMIT 2") == [
        ("product_events", "product_events.csv", 4), ("usage", "rollup of product_events.csv", 3)]


def test_a_load_that_fails_midway_leaves_the_warehouse_as_before(wh, write, monkeypatch):
    ingest_path(wh, write("accounts.csv", ACCOUNTS_CSV, folder="first"), now=NOW)
    before = snapshot(wh)
    write("accounts.csv", ACCOUNTS_CSV + "A3,New,2024-03-01,smb\n")
    write("contacts.csv", "contact_id,account_id,created_at\nC1,A1,2024-03-01\n")
    folder = write("bad.csv", "x\n1\n", folder="data").parent
    (folder / "bad.csv").unlink()
    real = engine.upsert

    def failing(con, table, *args, **kwargs):
        if table.name == "contacts":
            raise RuntimeError("disk full (simulated)")
        return real(con, table, *args, **kwargs)

    monkeypatch.setattr(engine, "upsert", failing)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest_path(wh, folder, now=NOW)
    assert snapshot(wh) == before  # accounts.csv was upserted, then rolled back with everything else
    monkeypatch.setattr(engine, "upsert", real)
    report = ingest_path(wh, folder, now=NOW)
    assert report.result("accounts").inserted == 1 and report.result("contacts").inserted == 1


def test_frames_from_pandas_and_arrow(wh):
    accounts = pd.DataFrame({"account_id": ["A1", "A2"], "name": ["Acme", "Beta"],
                             "created_at": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
                             "employees": [10, 20], "tier": ["gold", None]})
    usage = pa.table({"account_id": ["A1", "A2", "A3"], "usage_on": pa.array(pd.to_datetime(
        ["2024-02-01"] * 3).date), "feature": ["all"] * 3, "active_users": [1, 2, 3], "events": [1.0, 2.0, 3.0]})
    report = ingest_frames(wh, {"usage": usage, "accounts": accounts}, now=NOW)
    assert [(r.table, r.read, r.loaded, r.quarantined) for r in report.results] == [
        ("accounts", 2, 2, 0), ("usage", 3, 2, 1)]
    assert report.errors["reason"].tolist() == ["'A3' not found in accounts.account_id"]
    assert rows(wh, "SELECT account_id, employees, attributes FROM accounts ORDER BY 1") == [
        ("A1", 10, '{"tier":"gold"}'), ("A2", 20, None)]


def test_strict_frames_write_nothing_and_return_every_error(wh):
    before = snapshot(wh)
    accounts = pd.DataFrame({"account_id": ["A1", "A1", "A3"], "name": ["a", "b", None],
                             "created_at": ["2024-01-01"] * 3})
    report = ingest_frames(wh, {"accounts": accounts}, strict=True, now=NOW)
    assert not report.committed and not report.ok
    assert report.errors[["row_number", "column_name"]].values.tolist() == [[2, "account_id"], [3, "name"]]
    assert snapshot(wh) == before


def test_status_counts_rows_dates_and_quarantine(wh, write):
    path = write("accounts.csv", ACCOUNTS_CSV + "A3,,2024-03-01,smb\n")
    ingest_path(wh, path, now=NOW)
    ingest_path(wh, path, now=NOW)  # the file's quarantine is replaced, not doubled
    frame = status(wh).set_index("table")
    assert frame.loc["accounts", "rows"] == 2
    assert str(frame.loc["accounts", "first_on"])[:10] == "2024-01-01"
    assert str(frame.loc["accounts", "last_on"])[:10] == "2024-02-01"
    assert frame.loc["accounts", "quarantined"] == 1
    assert frame.loc["usage", "rows"] == 0 and pd.isna(frame.loc["usage", "last_load"])


def test_json_records_with_mixed_types_and_nested_values(wh):
    records = [{"account_id": 1, "name": "x", "created_at": "2024-01-01", "employees": "3"},
               {"account_id": "A2", "name": "y", "created_at": "2024-01-01", "employees": 4, "crm": {"tier": 1}}]
    report = ingest_frames(wh, {"accounts": pd.DataFrame.from_records(records)}, strict=True, now=NOW)
    assert report.committed and report.loaded == 2
    assert rows(wh, "SELECT account_id, employees, attributes FROM accounts ORDER BY 1") == [
        ("1", 3, None), ("A2", 4, '{"crm":{"tier":1}}')]


def test_progress_is_reported_per_step(wh, write):
    write("accounts.csv", ACCOUNTS_CSV)
    folder = write("usage.csv", "account_id,usage_on,feature\nA1,2024-03-01,all\n").parent
    seen = []
    ingest_path(wh, folder, now=NOW, progress=lambda done, total, message: seen.append((done, total, message)))
    assert [s[:2] for s in seen] == [(i, 6) for i in range(1, 7)]
    assert seen[0][2] == "reading accounts.csv" and seen[-1][2] == "writing usage.csv"


def test_parquet_rows_are_numbered_as_in_the_file(wh, tmp_path):
    folder = tmp_path / "pq"
    folder.mkdir()
    pd.DataFrame({"account_id": ["A1", "A2", "A3"], "name": ["a", None, "c"],
                  "created_at": pd.to_datetime(["2024-01-01 10:00"] * 3),  # naive: read as UTC
                  "employees": [1, -5, 3]}).to_parquet(folder / "accounts.parquet", row_group_size=1)
    report = ingest_path(wh, folder, now=NOW)
    assert report.errors[["row_number", "column_name"]].values.tolist() == [[2, "employees"], [2, "name"]]
    assert rows(wh, "SELECT account_id, created_at::VARCHAR FROM accounts ORDER BY 1") == [
        ("A1", "2024-01-01 10:00:00+00"), ("A3", "2024-01-01 10:00:00+00")]
