"""Defaults real exports need: generated keys, names from ids, created_at from first purchases, derived products,
survey scales."""

from __future__ import annotations

from tests.unit.ingest.conftest import NOW, rows

from retain.ingest import ingest_path

ACCOUNTS = "account_id,created_at\nA1,2024-01-01\n"


def test_repeated_events_without_ids_all_load_with_keys_from_file_and_row(wh, write):
    write("accounts.csv", ACCOUNTS)
    write("product_events.csv", "account_id,occurred_at,event_type,value\nA1,2024-03-01T10:00:00Z,search,1\n"
                                "A1,2024-03-01T10:00:00Z,search,1\nA1,2024-03-01T10:00:05Z,export,2\n")
    folder = write("x.md", "").parent
    report = ingest_path(wh, folder, now=NOW)
    assert report.result("product_events").loaded == 3 and report.quarantined == 0
    assert rows(wh, "SELECT event_id FROM product_events ORDER BY 1") == [
        ("product_events.csv:1",), ("product_events.csv:2",), ("product_events.csv:3",)]
    assert rows(wh, "SELECT feature, events FROM usage ORDER BY 1") == [("export", 2.0), ("search", 2.0)]
    again = ingest_path(wh, folder, now=NOW)
    assert again.result("product_events").unchanged == 3  # stable: re-loading changes nothing


def test_natural_key_makes_a_stable_key_and_repeats_are_duplicates(wh, write):
    write("accounts.csv", ACCOUNTS)
    write("subscriptions.csv", "account_id,product_id,started_on,mrr\nA1,P1,2024-01-01,10\nA1,P2,2024-01-01,5\n"
                               "A1,P1,2024-01-01,10\n")
    mapping = write("m.yaml", "version: 1\ntables:\n  subscriptions:\n"
                              "    natural_key: [account_id, product_id, started_on]\n", folder="cfg")
    report = ingest_path(wh, write("x.md", "").parent, mapping=mapping, now=NOW)
    sub = report.result("subscriptions")
    assert (sub.read, sub.loaded, sub.quarantined) == (3, 2, 1)
    assert report.errors["reason"].str.startswith("duplicate key (subscription_id=").tolist() == [True]
    keys = rows(wh, "SELECT subscription_id FROM subscriptions")
    assert all(len(k[0]) == 32 for k in keys)  # md5 of the natural key


def test_account_name_defaults_to_id_and_created_at_comes_from_first_purchase(wh, write):
    write("accounts.csv", "account_id,segment\nA1,smb\nA2,smb\nA3,smb\n")
    write("subscriptions.csv", "subscription_id,account_id,product_id,started_on,mrr\n"
                               "S1,A1,P1,2024-03-01,10\nS2,A1,P1,2024-01-15,10\n")
    write("transactions.csv", "transaction_id,account_id,occurred_at,amount\nT1,A2,2024-02-02T09:00:00Z,5\n")
    report = ingest_path(wh, write("x.md", "").parent, now=NOW)
    assert rows(wh, "SELECT account_id, name, created_at::VARCHAR FROM accounts ORDER BY 1") == [
        ("A1", "A1", "2024-01-15 00:00:00+00"), ("A2", "A2", "2024-02-02 09:00:00+00")]
    acc = report.result("accounts")
    assert (acc.read, acc.loaded, acc.quarantined) == (3, 2, 1)
    messages = [n.message for n in report.notes if n.table == "accounts"]
    assert "name is absent: each account's name is its id" in messages
    assert ("created_at is absent: derived for 2 account(s) from their first subscription or transaction; 1 "
            "account(s) had neither and were quarantined (created_at: required value is missing)") in messages
    derived = [(d.table, d.source, d.loaded) for d in report.derived]
    assert derived == [("products", "derived from subscriptions.csv", 1)]
    assert rows(wh, "SELECT product_id, name, seat_based FROM products") == [("P1", "P1", True)]


def test_products_are_not_derived_when_a_products_file_is_loaded(wh, write):
    write("accounts.csv", ACCOUNTS)
    write("products.csv", "product_id,name\nP1,Core\n")
    write("subscriptions.csv", "subscription_id,account_id,product_id,started_on,mrr\nS1,A1,P1,2024-01-01,1\n"
                               "S2,A1,P9,2024-01-01,1\n")
    report = ingest_path(wh, write("x.md", "").parent, now=NOW)
    assert report.errors["reason"].tolist() == ["'P9' not found in products.product_id"]


SURVEYS = ("response_id,account_id,responded_at,survey_type,score\nR1,A1,2024-02-01,nps,10\nR2,A1,2024-02-01,csat,7\n"
           "R3,A1,2024-02-01,ces,8\nR4,A1,2024-02-01,csat,5\nR5,A1,2024-02-01,csat,4\n")


def test_survey_scores_are_checked_against_their_scale(wh, write):
    write("accounts.csv", ACCOUNTS)
    write("survey_responses.csv", SURVEYS)
    report = ingest_path(wh, write("x.md", "").parent, now=NOW)
    survey = report.result("survey_responses")
    assert (survey.read, survey.loaded, survey.quarantined) == (5, 3, 2)
    assert report.errors[["row_number", "reason"]].values.tolist() == [
        [2, "7 is outside the csat scale 1-5"], [3, "8 is outside the ces scale 1-7"]]


def test_declared_scale_is_checked_and_rescaled(wh, write):
    write("accounts.csv", ACCOUNTS)
    write("survey_responses.csv", SURVEYS)
    mapping = write("m.yaml", "version: 1\ntables:\n  survey_responses:\n    scale: {csat: [5, 10], ces: [1, 10]}\n"
                              "    rescale: true\n", folder="cfg")
    report = ingest_path(wh, write("x.md", "").parent, mapping=mapping, now=NOW)
    assert report.errors[["row_number", "reason"]].values.tolist() == [
        [5, "4 is outside the csat scale 5-10 declared in the mapping"]]
    # csat 5-10 onto 1-5: 7 -> 1 + 2 * 4/5 = 2.6 -> 3, 5 -> 1; ces 1-10 onto 1-7: 8 -> 1 + 7 * 6/9 = 5.67 -> 6
    assert rows(wh, "SELECT response_id, score FROM survey_responses ORDER BY 1") == [
        ("R1", 10), ("R2", 3), ("R3", 6), ("R4", 1)]
