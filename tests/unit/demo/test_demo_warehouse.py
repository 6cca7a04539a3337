"""The demo company loads through ingestion with nothing quarantined, and the hidden health stays out."""

from __future__ import annotations


def test_demo_warehouse_loads_everything(demo_warehouse):
    wh = demo_warehouse
    assert wh.count("accounts") == 250
    for name in ("subscriptions", "usage", "survey_responses", "utterances", "opportunity_stages", "goals"):
        assert wh.count(name) > 0, name
    tables = set(wh.con.list_tables())
    assert not any("health" in name and not name.startswith(("result_", "_")) for name in tables)
    quarantine = wh.con.table("quarantine").count().execute() if "quarantine" in tables else 0
    assert quarantine == 0
    assert "health_weekly" in wh.demo_truth


def test_retention_metrics_count_the_win_backs(demo_warehouse):
    """Accounts that churned and came back are `reactivated` in the retention decomposition."""
    import datetime as dt

    from retain.metrics.retention import logo_retention

    wh = demo_warehouse
    spells = wh.demo_truth["spells"]
    assert (spells.spell_no > 1).any()
    frame = wh.execute(logo_retention(wh, dt.date(2026, 10, 31), grain="quarter", periods=8))
    assert frame.reactivated.sum() > 0
    assert (frame.end == frame.start - frame.churned + frame.new + frame.reactivated).all()
