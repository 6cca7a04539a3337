"""Each class of bad input: its message, and read = loaded + quarantined."""

from __future__ import annotations

import json

import pytest
from tests.unit.ingest.conftest import ACCOUNTS_CSV, NOW, rows, snapshot

from retain.errors import IngestError, SchemaError
from retain.ingest import ingest_path, quarantined_rows


def _reasons(report) -> list[tuple[int, str, str]]:
    return [tuple(r) for r in report.errors[["row_number", "column_name", "reason"]].itertuples(index=False)]


def _balanced(report) -> None:
    for r in report.results:
        assert r.read == r.loaded + r.quarantined


def test_missing_column_writes_nothing(wh, write):
    path = write("accounts.csv", "acount_id,name,created_at\nA1,Acme,2024-01-01\n")
    before = snapshot(wh)
    with pytest.raises(SchemaError) as info:
        ingest_path(wh, path, now=NOW)
    assert "missing required column for table 'accounts': account_id" in info.value.message
    assert "closest found column is 'acount_id'" in info.value.message
    assert snapshot(wh) == before


def test_bad_type_is_quarantined_with_the_value(wh, write):
    path = write("accounts.csv", "account_id,name,created_at,employees\nA1,Acme,2024-01-01,12\n"
                                 "A2,Beta,not a date,x12\nA3,Gamma,2024-01-01,2.5\nA4,Delta,2024-01-01,3.0\n")
    report = ingest_path(wh, path, now=NOW)
    _balanced(report)
    assert (report.results[0].read, report.results[0].loaded, report.results[0].quarantined) == (4, 2, 2)
    assert _reasons(report) == [
        (2, "created_at", "'not a date' is not a date-time like 2024-01-31T09:30:00Z"),
        (2, "employees", "'x12' is not a whole number"),
        (3, "employees", "'2.5' is not a whole number"),
    ]
    assert rows(wh, "SELECT account_id, employees FROM accounts ORDER BY 1") == [("A1", 12), ("A4", 3)]


def test_duplicate_key_names_the_first_row(wh, write):
    path = write("accounts.csv", "account_id,name,created_at\nA1,Acme,2024-01-01\nA2,B,2024-01-01\n"
                                 "A1,Acme again,2024-01-02\n")
    report = ingest_path(wh, path, now=NOW)
    _balanced(report)
    assert _reasons(report) == [(3, "account_id", "duplicate key (account_id=A1): the same key is first at row 1")]
    assert rows(wh, "SELECT name FROM accounts WHERE account_id = 'A1'") == [("Acme",)]


def test_composite_key_duplicates(wh, write):
    write("accounts.csv", ACCOUNTS_CSV)
    path = write("usage.csv", "account_id,usage_on,feature,events\nA1,2024-03-01,core,1\nA1,2024-03-01,core,2\n"
                              "A1,2024-03-01,reports,3\n")
    report = ingest_path(wh, path.parent, now=NOW)
    assert report.result("usage").quarantined == 1
    assert report.errors["reason"].iloc[0] == ("duplicate key (account_id=A1, usage_on=2024-03-01, feature=core): "
                                               "the same key is first at row 1")


def test_orphan_reference_is_quarantined_but_same_load_rows_resolve(wh, write):
    write("accounts.csv", ACCOUNTS_CSV)
    write("contacts.csv", "contact_id,account_id,created_at\nC1,A1,2024-03-01\nC2,A9,2024-03-01\n")
    report = ingest_path(wh, write("usage.csv", "account_id,usage_on,feature\nA2,2024-03-01,all\n").parent, now=NOW)
    _balanced(report)
    assert report.result("contacts").quarantined == 1
    assert _reasons(report) == [(2, "account_id", "'A9' not found in accounts.account_id")]
    assert report.result("usage").loaded == 1


def test_self_reference_within_the_same_file_is_fine(wh, write):
    path = write("accounts.csv", "account_id,name,created_at,parent_account_id\nA2,Sub,2024-01-01,A1\n"
                                 "A1,Parent,2024-01-01,\nA3,Orphan,2024-01-01,A7\n")
    report = ingest_path(wh, path, now=NOW)
    assert report.results[0].loaded == 2
    assert _reasons(report) == [(3, "parent_account_id", "'A7' not found in accounts.account_id nor in this file")]


def test_bad_dates_order_and_future(wh, write):
    write("accounts.csv", ACCOUNTS_CSV)
    write("products.csv", "product_id,name\nP1,Core\n")
    path = write("subscriptions.csv",
                 "subscription_id,account_id,product_id,started_on,ended_on,mrr\n"
                 "S1,A1,P1,2024-02-01,2024-01-01,100\n"   # ends before it starts
                 "S2,A1,P1,2025-06-02,,100\n"             # within now + 1 day: fine
                 "S3,A1,P1,2025-06-03,,100\n"             # beyond now + 1 day
                 "S4,A1,P1,2024-01-01,2024-03-01,100\n")
    report = ingest_path(wh, path.parent, now=NOW)
    _balanced(report)
    assert report.result("subscriptions").quarantined == 2
    reasons = [r for r in _reasons(report)]
    assert reasons[0] == (1, "ended_on", "ended_on 2024-01-01 is before started_on 2024-02-01")
    assert reasons[1][:2] == (3, "started_on")
    assert reasons[1][2] == "2025-06-03 is in the future (after the load time 2025-06-01 12:00 UTC + 1 day)"


def test_enumerations_are_matched_case_insensitively(wh, write):
    path = write("team_members.csv", "member_id,name,role\nM1,Ann,CSM\nM2,Bob, Rep \nM3,Cy,wizard\n")
    report = ingest_path(wh, path, now=NOW)
    assert rows(wh, "SELECT member_id, role FROM team_members ORDER BY 1") == [("M1", "csm"), ("M2", "rep")]
    assert _reasons(report) == [(3, "role", "'wizard' is not one of: rep, csm, manager, executive, sdr, support, "
                                            "other")]


def test_minimum_and_maximum(wh, write):
    write("accounts.csv", ACCOUNTS_CSV)
    path = write("survey_responses.csv", "response_id,account_id,responded_at,survey_type,score\n"
                                         "R1,A1,2024-05-01,nps,11\nR2,A1,2024-05-01,NPS,-1\nR3,A1,2024-05-01,nps,9\n")
    report = ingest_path(wh, path.parent, now=NOW)
    assert [r[2] for r in _reasons(report)] == ["11 is above the maximum 10", "-1 is below the minimum 0"]


def test_several_reasons_for_one_row_are_all_recorded(wh, write):
    path = write("accounts.csv", "account_id,name,created_at,employees\nA1,,2031-01-01,-3\n")
    report = ingest_path(wh, path, now=NOW)
    assert report.results[0].quarantined == 1
    assert sorted(r[1] for r in _reasons(report)) == ["created_at", "employees", "name"]
    stored = quarantined_rows(wh)
    assert len(stored) == 3
    assert json.loads(stored["raw_row"].iloc[0]) == {"account_id": "A1", "name": None, "created_at": "2031-01-01",
                                                     "employees": "-3"}


def test_wrong_encoding_names_the_file_and_the_fix(wh, write):
    path = write("accounts.csv", "account_id,name,created_at\nA1,北京公司,2024-01-01\n".encode("gbk"))
    before = snapshot(wh)
    with pytest.raises(IngestError) as info:
        ingest_path(wh, path, now=NOW)
    assert "accounts.csv: the file is not UTF-8 encoded" in info.value.message
    assert "re-save it as UTF-8" in info.value.hint
    assert snapshot(wh) == before


def test_latin1_bad_bytes_far_into_the_file_are_caught(wh, write):
    body = "".join(f"A{i},Name {i},2024-01-01\n" for i in range(5000))
    path = write("accounts.csv", ("account_id,name,created_at\n" + body + "A9999,Café,2024-01-01\n").encode("latin-1"))
    with pytest.raises(IngestError, match="not UTF-8"):
        ingest_path(wh, path, now=NOW)
    assert rows(wh, "SELECT count(*) FROM accounts") == [(0,)]


def test_empty_file_has_a_clear_message(wh, write):
    path = write("accounts.csv", "")
    with pytest.raises(IngestError, match="accounts.csv: the file is empty"):
        ingest_path(wh, path, now=NOW)


def test_header_only_file_loads_nothing(wh, write):
    report = ingest_path(wh, write("accounts.csv", "account_id,name,created_at\n"), now=NOW)
    assert (report.read, report.loaded, report.quarantined) == (0, 0, 0)


def _huge_field(wh, write, size: int) -> None:
    huge = "x" * size
    path = write("accounts.csv", f"account_id,name,created_at,notes\nA1,Acme,2024-01-01,{huge}\nA2,B,2024-01-01,ok\n")
    report = ingest_path(wh, path, now=NOW)
    _balanced(report)
    assert _reasons(report) == [(1, "notes", f"value is {size:,} bytes long; the limit is 1,000,000")]
    assert rows(wh, "SELECT account_id, attributes FROM accounts") == [("A2", '{"notes":"ok"}')]
    raw = json.loads(quarantined_rows(wh)["raw_row"].iloc[0])
    assert raw["notes"].endswith("...[cut]") and len(raw["notes"]) < 10_100


def test_huge_field_is_quarantined_with_a_clear_reason(wh, write):
    _huge_field(wh, write, 2_500_000)  # longer than DuckDB's default 2 MB line limit too


@pytest.mark.slow
def test_ten_megabyte_field(wh, write):
    _huge_field(wh, write, 10_000_000)


def test_unreadable_csv_line_is_a_clear_error(wh, write):
    path = write("accounts.csv", 'account_id,name,created_at\nA1,"Acme,2024-01-01\n')
    with pytest.raises(IngestError, match="accounts.csv: cannot be read: CSV Error on Line: 2"):
        ingest_path(wh, path, now=NOW)
    path = write("accounts.csv", "account_id,name,created_at\nA1,Acme,2024-01-01\nA2,B,2024-01-01,extra\n")
    with pytest.raises(IngestError, match="Expected Number of Columns: 3 Found: 4"):
        ingest_path(wh, path, now=NOW)


def test_unknown_file_in_a_folder_is_refused_with_the_closest_table(wh, write):
    write("acounts.csv", ACCOUNTS_CSV)
    with pytest.raises(SchemaError, match=r"'acounts.csv' \(did you mean accounts\?\)"):
        ingest_path(wh, write("usage.csv", "account_id,usage_on,feature\n").parent, now=NOW)


def test_malformed_json_and_non_object_records(wh, write):
    path = write("accounts.json", '[{"account_id": "A1", "name": "x", "created_at": "2024-01-01"},\n {"name": }]')
    with pytest.raises(IngestError, match="accounts.json: cannot be read: Malformed JSON") as info:
        ingest_path(wh, path, now=NOW)
    assert "json.tool" in info.value.hint
    with pytest.raises(IngestError, match="record 2 is not a JSON object"):
        ingest_path(wh, write("accounts.jsonl", '{"account_id": "A1"}\n[1, 2]\n'), now=NOW)
