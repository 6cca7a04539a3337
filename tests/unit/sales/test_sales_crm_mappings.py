"""The built-in Salesforce and HubSpot mappings load opportunity stage history (OpportunityHistory, deal stage
history) into ``opportunity_stages``, with the CRM probability on the 0-1 scale, the expected close date of each
row (pushes) and the CRM forecast category normalised to pipeline, best_case, commit, omitted, closed."""

from __future__ import annotations

import datetime as dt

import pytest

from retain.ingest.pipeline import ingest_path
from retain.sales.features import deal_features
from retain.warehouse import Warehouse


def write(folder, name: str, text: str) -> None:
    (folder / name).write_text(text.strip() + "\n", encoding="utf-8")


def test_salesforce_opportunity_history(tmp_path):
    write(tmp_path, "User.csv", "Id,Name\nu1,Una")
    write(tmp_path, "Account.csv", "Id,Name,CreatedDate,OwnerId\nA1,Acme,2025-01-01T00:00:00Z,u1")
    write(tmp_path, "Opportunity.csv", "Id,AccountId,Name,CreatedDate,OwnerId,Amount,CloseDate,StageName,Type,"
          "IsWon,IsClosed,Probability,ForecastCategoryName\n"
          "O1,A1,Acme deal,2026-03-01T09:00:00Z,u1,5000,2026-06-30,Proposal/Price Quote,New Customer,false,false,50,"
          "Best Case")
    write(tmp_path, "OpportunityHistory.csv", "Id,OpportunityId,CreatedDate,StageName,Amount,Probability,CloseDate,"
          "ForecastCategory\n"
          "H1,O1,2026-03-01T09:00:00Z,Prospecting,4000,10,2026-05-31,Pipeline\n"
          "H2,O1,2026-04-02T09:00:00Z,Qualification,4000,20,2026-05-31,Pipeline\n"
          "H3,O1,2026-04-20T09:00:00Z,Qualification,4500,20,2026-06-30,BestCase\n"
          "H4,O1,2026-05-03T09:00:00Z,Proposal/Price Quote,5000,50,2026-06-30,Forecast")
    wh = Warehouse.open(":memory:")
    ingest_path(wh, tmp_path, mapping="salesforce")
    stages = wh.execute(wh.raw("opportunity_stages").order_by("entered_at"))
    assert stages["stage"].tolist() == ["prospecting", "qualification", "qualification", "proposal"]
    assert stages["probability"].tolist() == pytest.approx([0.1, 0.2, 0.2, 0.5])
    f = wh.execute(deal_features(wh, [dt.date(2026, 4, 25)])).iloc[0]
    # an amount change in the same stage is not a stage entry, nor a revisit
    assert f["stage"] == "qualification" and f["stage_entries"] == 2 and f["stage_revisits"] == 0
    assert f["amount"] == 4500 and f["amount_changes"] == 1 and f["crm_probability"] == pytest.approx(0.2)
    assert f["days_in_stage"] == pytest.approx(23 + 15 / 24)  # in qualification since 04-02 09:00
    # CloseDate and ForecastCategory per history row: Forecast is Salesforce's API name of Commit
    assert [str(v)[:10] for v in stages["close_on"]] == ["2026-05-31", "2026-05-31", "2026-06-30", "2026-06-30"]
    assert stages["forecast_category"].tolist() == ["pipeline", "pipeline", "best_case", "commit"]
    assert f["close_date_pushes"] == 1 and f["days_pushed"] == 30 and f["forecast_category"] == "best_case"
    assert wh.execute(wh.raw("opportunities"))["forecast_category"].tolist() == ["best_case"]


def test_hubspot_deal_stage_history(tmp_path):
    write(tmp_path, "companies.csv", "Record ID,Company name,Create Date\nC1,Acme,2025-01-01")
    write(tmp_path, "deals.csv", "Record ID,Associated Company IDs (Primary),Deal Name,Create Date,Amount,"
          "Close Date,Deal Stage,Deal Type,Deal probability,Forecast category\n"
          "D1,C1,Acme deal,2026-03-01,5000,2026-06-30,Contract Sent,New Business,0.9,Upside")
    write(tmp_path, "deal_stage_history.csv", "Record ID,Timestamp,Deal Stage,Deal probability,Close Date,"
          "Forecast category\n"
          "D1,2026-03-01T10:00:00Z,Appointment Scheduled,0.2,2026-05-31,Not forecasted\n"
          "D1,2026-04-01T10:00:00Z,Contract Sent,0.9,2026-06-30,COMMIT")
    wh = Warehouse.open(":memory:")
    ingest_path(wh, tmp_path, mapping="hubspot")
    stages = wh.execute(wh.raw("opportunity_stages").order_by("entered_at"))
    assert stages["stage"].tolist() == ["appointment_scheduled", "contract_sent"]
    assert stages["probability"].tolist() == pytest.approx([0.2, 0.9])
    f = wh.execute(deal_features(wh, [dt.date(2026, 3, 15)])).iloc[0]
    assert f["stage"] == "appointment_scheduled" and f["crm_probability"] == pytest.approx(0.2)
    # labels and internal values both map; a category outside the vocabulary is empty, the deal still loads
    assert stages["forecast_category"].tolist() == ["omitted", "commit"]
    assert [str(v)[:10] for v in stages["close_on"]] == ["2026-05-31", "2026-06-30"]
    deals = wh.execute(wh.raw("opportunities"))
    assert len(deals) == 1 and deals["forecast_category"].isna().all()
    g = wh.execute(deal_features(wh, [dt.date(2026, 4, 15)])).iloc[0]
    assert g["close_date_pushes"] == 1 and g["days_pushed"] == 30 and g["forecast_category"] == "commit"
