"""Column mappings: custom YAML, invalid files, and the built-in Salesforce and HubSpot exports."""

from __future__ import annotations

import pytest
from tests.unit.ingest.conftest import NOW, rows

from retain.errors import ConfigError, SchemaError
from retain.ingest import ingest_path, load_mapping


def test_custom_mapping_renames_columns_maps_values_and_fills_defaults(wh, write):
    mapping = write("crm.yaml", """
version: 1
tables:
  accounts:
    files: [companies]
    columns:
      account_id: Company Key
      name: [Company Name, Title]
      created_at: {source: Since, format: "%m/%d/%Y"}
      segment:
        source: Tier
        values: {Gold: enterprise, Silver: mid_market}
        default: smb
""", folder="cfg")
    write("companies.csv", "Company Key,Title,Since,Tier,Region\nK1,Acme,01/31/2024,GOLD,emea\n"
                           "K2,Beta,02/01/2024,,apac\nK3,Gamma,02/02/2024,Bronze,na\nK4,Delta,2024-02-02,,na\n")
    report = ingest_path(wh, write("x.md", "").parent, mapping=mapping, now=NOW)
    assert report.result("accounts").loaded == 3
    assert report.errors["reason"].tolist() == ["'2024-02-02' is not a timestamp in the format %m/%d/%Y"]
    assert rows(wh, "SELECT min(created_at)::VARCHAR FROM accounts") == [("2024-01-31 00:00:00+00",)]
    assert rows(wh, "SELECT account_id, name, segment, region FROM accounts ORDER BY 1") == [
        ("K1", "Acme", "enterprise", "emea"), ("K2", "Beta", "smb", "apac"), ("K3", "Gamma", "Bronze", "na")]


def test_invalid_mapping_names_the_file_the_key_and_the_fix(write):
    bad_key = write("m.yaml", "version: 1\ntables:\n  accounts:\n    columns:\n      acount_id: Id\n", folder="cfg")
    with pytest.raises(ConfigError) as info:
        load_mapping(bad_key)
    assert str(bad_key) in info.value.message
    assert "tables.accounts.columns.acount_id: unknown column of accounts (did you mean 'account_id'?)" in \
        info.value.message
    unknown_field = write("n.yaml", "version: 1\ntables:\n  accounts:\n    colums: {}\n", folder="cfg")
    with pytest.raises(ConfigError, match=r"tables\.accounts\.colums: Extra inputs are not permitted"):
        load_mapping(unknown_field)
    with pytest.raises(ConfigError, match="version: only version 1 exists"):
        load_mapping(write("v.yaml", "version: 2\ntables: {}\n", folder="cfg"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_mapping(write("y.yaml", "version: 1\ntables: [\n", folder="cfg"))
    with pytest.raises(ConfigError, match="not found"):
        load_mapping("no-such-mapping.yaml")


def test_salesforce_exports(wh, write):
    write("User.csv", "Id,Name,Email,ManagerId,Title\n005A,Ann Rep,ann@x.com,005B,AE\n005B,Bob Boss,bob@x.com,,VP\n")
    write("Account.csv", "Id,Name,Industry,Type,BillingCountry,OwnerId,CreatedDate,NumberOfEmployees,AccountSource\n"
                         "001A,Acme,Technology,Customer - Direct,US,005A,2024-01-15T10:00:00.000+0000,250,Web\n")
    write("Contact.csv", "Id,AccountId,FirstName,LastName,Name,Email,Phone,Title,CreatedDate\n"
                         "003A,001A,Jane,Doe,Jane Doe,jane@acme.com,555,CTO,2024-02-01T09:00:00.000+0000\n")
    folder = write("Opportunity.csv",
                   "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,IsWon,IsClosed,Type,LeadSource,OwnerId\n"
                   "006A,001A,Acme new,Closed Won,12000,2024-03-31,2024-02-01T00:00:00.000+0000,true,true,"
                   "New Customer,Web,005A\n"
                   "006B,001A,Acme upsell,Negotiation/Review,5000,2024-09-30,2024-04-01T00:00:00.000+0000,false,"
                   "false,Existing Customer - Upgrade,,005A\n").parent
    report = ingest_path(wh, folder, mapping="salesforce", now=NOW)
    assert [(r.table, r.loaded, r.quarantined) for r in report.results] == [
        ("team_members", 2, 0), ("accounts", 1, 0), ("contacts", 1, 0), ("opportunities", 2, 0)]
    assert rows(wh, "SELECT account_id, owner_id, country, employees, acquisition_channel, created_at::VARCHAR "
                    "FROM accounts") == [("001A", "005A", "US", 250, "inbound", "2024-01-15 10:00:00+00")]
    assert rows(wh, "SELECT opportunity_id, stage, opportunity_type, is_won, closed_at::VARCHAR, close_on::VARCHAR "
                    "FROM opportunities ORDER BY 1") == [
        ("006A", "closed_won", "new_business", True, "2024-03-31 00:00:00+00", "2024-03-31"),
        ("006B", "negotiation", "add_on", None, None, "2024-09-30")]
    assert rows(wh, "SELECT role, manager_id FROM team_members WHERE member_id = '005A'") == [("rep", "005B")]
    assert '"type":"Customer - Direct"' in rows(wh, "SELECT attributes FROM accounts")[0][0]


def test_hubspot_exports(wh, write):
    write("companies.csv", "Record ID,Company name,Company owner,Create Date,Industry,Country/Region,"
                           "Number of Employees\n101,Acme,Ann,2024-01-15 10:23,COMPUTER_SOFTWARE,Germany,40\n")
    write("contacts.csv", "Record ID,First Name,Last Name,Email,Phone Number,Job Title,Create Date,"
                          "Associated Company IDs (Primary)\n201,Jane,Doe,jane@acme.de,+49,CTO,2024-01-16 09:00,101\n")
    folder = write("deals.csv", "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Pipeline,Deal owner,"
                                "Deal Type,Associated Company IDs (Primary)\n"
                                "301,Acme deal,Closed Won,9000,2024-03-01,2024-01-20 11:00,Sales Pipeline,Ann,"
                                "New Business,101\n"
                                "302,Acme more,Contract Sent,3000,2024-08-01,2024-04-20 11:00,Sales Pipeline,Ann,"
                                "Existing Business,101\n").parent
    report = ingest_path(wh, folder, mapping="hubspot", now=NOW)
    assert [(r.table, r.loaded, r.quarantined) for r in report.results] == [
        ("accounts", 1, 0), ("contacts", 1, 0), ("opportunities", 2, 0)]
    assert rows(wh, "SELECT opportunity_id, stage, opportunity_type, is_won, closed_at::VARCHAR FROM opportunities "
                    "ORDER BY 1") == [("301", "closed_won", "new_business", True, "2024-03-01 00:00:00+00"),
                                      ("302", "contract_sent", "add_on", None, None)]
    assert rows(wh, "SELECT name, country, employees FROM accounts") == [("Acme", "Germany", 40)]


def test_wrong_export_for_the_mapping_lists_the_missing_source_columns(wh, write):
    path = write("Account.csv", "Record ID,Company name\n1,Acme\n")
    with pytest.raises(SchemaError) as info:
        ingest_path(wh, path, mapping="salesforce", now=NOW)
    assert "missing required columns for table 'accounts': account_id, name, created_at" in info.value.message
    assert "fix the source column names in the mapping file" in info.value.hint


def test_committed_json_schema_matches_the_spec():
    import json
    from importlib import resources

    from retain.ingest.mapping import MappingSpec

    committed = json.loads((resources.files("retain.ingest") / "mappings" / "mapping.schema.json").read_text())
    assert committed == json.loads(json.dumps(MappingSpec.model_json_schema())), (
        "regenerate src/retain/ingest/mappings/mapping.schema.json (see docs/ingest.md#mappings)")
