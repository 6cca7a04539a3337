"""Loads that go wrong say so: overlapping subscriptions, conflicting keys across files, values overwritten by
defaults (and --merge), dry runs that write nothing."""

from __future__ import annotations

from tests.unit.ingest.conftest import NOW, rows, snapshot

from retain.ingest import ingest_path

ACCOUNTS = "account_id,name,created_at\nA1,Acme,2024-01-01\n"
SUBS = ("subscription_id,account_id,product_id,started_on,ended_on,mrr\n"
        "S1,A1,P1,2024-01-01,2024-07-01,10\n"   # row 1
        "S2,A1,P1,2024-07-01,,12\n"             # row 2: starts the day S1 ends: no overlap
        "S3,A1,P1,2024-03-01,2024-05-01,5\n"    # row 3: inside S1
        "S4,A1,P2,2024-03-01,,5\n")             # row 4: another product


def test_overlapping_subscriptions_are_quarantined_by_default(wh, write):
    write("accounts.csv", ACCOUNTS)
    write("subscriptions.csv", SUBS)
    report = ingest_path(wh, write("x.md", "").parent, now=NOW)
    sub = report.result("subscriptions")
    assert (sub.read, sub.loaded, sub.quarantined) == (4, 3, 1)
    assert report.errors[["row_number", "column_name", "reason"]].values.tolist() == [
        [3, "started_on", "period 2024-03-01 to 2024-05-01 overlaps subscription S1 (2024-01-01 to 2024-07-01) of "
                          "the same account and product; if both are licences, declare overlap: separate_licences "
                          "for subscriptions in the mapping"]]
    [note] = [n for n in report.notes if n.kind.value == "overlap"]
    assert note.message.startswith("1 subscription row(s) overlap an earlier period")
    assert note.examples == ("S3 and S1 (account A1, product P1)",)


def test_overlaps_declared_as_separate_licences_load_and_are_reported(wh, write):
    write("accounts.csv", ACCOUNTS)
    write("subscriptions.csv", SUBS)
    mapping = write("m.yaml", "version: 1\ntables:\n  subscriptions:\n    overlap: separate_licences\n", folder="cfg")
    report = ingest_path(wh, write("x.md", "").parent, mapping=mapping, now=NOW)
    assert report.result("subscriptions").loaded == 4 and report.quarantined == 0
    assert [n.message for n in report.notes if n.kind.value == "overlap"] == [
        "1 subscription row(s) overlap an earlier period of the same account and product: loaded as separate "
        "licences (summed)"]


def test_a_later_load_overlapping_stored_rows_is_caught_and_reloading_is_not(wh, write):
    write("accounts.csv", ACCOUNTS)
    write("subscriptions.csv", SUBS)
    folder = write("x.md", "").parent
    ingest_path(wh, folder, now=NOW)
    again = ingest_path(wh, folder, now=NOW)
    assert again.result("subscriptions").quarantined == 1 and again.result("subscriptions").unchanged == 3
    later = write("subscriptions.csv", "subscription_id,account_id,product_id,started_on,mrr\n"
                                       "S9,A1,P2,2024-06-01,5\n", folder="later")
    report = ingest_path(wh, later, now=NOW)
    assert report.errors["reason"].str.contains("overlaps subscription S4").tolist() == [True]


def test_two_files_giving_one_key_are_a_conflict(wh, write):
    write("accounts.csv", ACCOUNTS + "A2,Beta,2024-01-01\n")
    mapping = write("m.yaml", "version: 1\ntables:\n  accounts:\n    files: [crm_accounts]\n", folder="cfg")
    write("crm_accounts.csv", "account_id,name,created_at\nA1,Acme Inc,2024-01-01\nA2,Beta,2024-01-01\n")
    report = ingest_path(wh, write("x.md", "").parent, mapping=mapping, now=NOW)
    assert [(r.source, r.read, r.loaded, r.quarantined) for r in report.results] == [
        ("accounts.csv", 2, 2, 0), ("crm_accounts.csv", 2, 1, 1)]
    assert report.errors["reason"].tolist() == [
        "conflict: key (account_id=A1) is also in accounts.csv (row 1) with other values; that row is kept"]
    assert rows(wh, "SELECT name FROM accounts WHERE account_id = 'A1'") == [("Acme",)]


def test_absent_columns_overwriting_stored_values_are_reported_per_column_and_merge_keeps_them(wh, write):
    write("accounts.csv", "account_id,name,created_at,segment,industry,plan\nA1,Acme,2024-01-01,smb,retail,gold\n"
                          "A2,Beta,2024-01-01,smb,,silver\n")
    ingest_path(wh, write("x.md", "").parent, now=NOW)
    later = write("accounts.csv", "account_id,name,created_at\nA1,Acme,2024-01-01\nA2,Beta 2,2024-01-01\n",
                  folder="later")
    report = ingest_path(wh, later, now=NOW, dry_run=True)
    [note] = report.notes
    assert note.message == ("stored values replaced by defaults because these columns are absent from accounts.csv: "
                            "segment (2 rows), industry (1 row), attributes (2 rows); use --merge to keep the stored "
                            "values")
    merged = ingest_path(wh, later, now=NOW, merge=True)
    assert merged.notes[0].kind.value == "merged"
    assert merged.result("accounts").updated == 1  # only the name of A2 changed
    assert rows(wh, "SELECT account_id, name, segment, industry, attributes FROM accounts ORDER BY 1") == [
        ("A1", "Acme", "smb", "retail", '{"plan":"gold"}'), ("A2", "Beta 2", "smb", None, '{"plan":"silver"}')]


def test_dry_run_writes_nothing_and_shows_counts_samples_and_reasons(wh, write):
    write("accounts.csv", ACCOUNTS + "A2,,2024-01-01\n")
    write("subscriptions.csv", SUBS)
    before = snapshot(wh)
    report = ingest_path(wh, write("x.md", "").parent, now=NOW, dry_run=True)
    assert snapshot(wh) == before
    assert report.dry_run and not report.committed
    assert [(r.table, r.read, r.loaded, r.quarantined) for r in report.results] == [
        ("accounts", 2, 1, 1), ("subscriptions", 4, 3, 1)]
    assert report.samples["accounts.csv"]["account_id"].tolist() == ["A1"]
    assert report.samples["subscriptions.csv"]["subscription_id"].tolist() == ["S1", "S2", "S4"]
    assert set(report.errors["column_name"]) == {"name", "started_on"}
    assert report.derived[0].table == "products"  # would be derived: not written either
