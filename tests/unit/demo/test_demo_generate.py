"""The generator's contract: every canonical table with the model's columns, deterministic for a seed."""

from __future__ import annotations

import numpy as np
import pytest

from retain.demo import DemoSpec, generate, write_parquet
from retain.schema import TABLES


@pytest.fixture(scope="module")
def small():
    return generate(DemoSpec(accounts=80, years=1.5, seed=3))


def test_every_canonical_table_with_model_columns(small):
    tables = small.all_tables()
    # Snapshot labels are for one-row-per-customer exports; the demo company has real histories instead.
    expected = {name for name, spec in TABLES.items() if not spec.input_only} - {"outcome_labels"}
    assert set(tables) == expected
    for name, table in tables.items():
        assert set(table.column_names) <= set(TABLES[name].names), name
        assert set(TABLES[name].required) <= set(table.column_names), name
        assert table.num_rows > 0, name


def test_same_seed_same_data_other_seed_other_data(small):
    again = generate(DemoSpec(accounts=80, years=1.5, seed=3))
    for name, table in small.all_tables().items():
        assert table.equals(again.all_tables()[name]), name
    other = generate(DemoSpec(accounts=80, years=1.5, seed=4))
    assert not other.tables["subscriptions"].equals(small.tables["subscriptions"])


def test_written_files_are_byte_identical(small, tmp_path):
    write_parquet(small, tmp_path / "a")
    write_parquet(generate(DemoSpec(accounts=80, years=1.5, seed=3)), tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").glob("*.parquet"))
    assert len(names) == len(TABLES) - 2  # product_events is input-only; no snapshot labels
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "_hidden" / "health_weekly.parquet").exists()


def test_keys_unique_and_enumerations_respected(small):
    for name, table in small.all_tables().items():
        spec = TABLES[name]
        frame = table.to_pandas()
        assert not frame.duplicated(list(spec.key)).any(), name
        for col in spec.columns:
            if col.enum and col.name in frame:
                values = set(frame[col.name].dropna().unique())
                assert values <= set(col.enum), (name, col.name, values - set(col.enum))


def test_active_users_never_exceed_licences(small):
    usage = small.usage().to_pandas()
    subs = small.tables["subscriptions"].to_pandas()
    most = subs.groupby("account_id").quantity.max()
    assert (usage.active_users.to_numpy() <= most.reindex(usage.account_id).to_numpy()).all()
    assert (usage.active_users > 0).all()


def test_spec_rejects_nonsense():
    with pytest.raises(ValueError):
        DemoSpec(accounts=0)
    with pytest.raises(ValueError):
        DemoSpec(unknown=1)
    assert DemoSpec().accounts == 3000 and str(DemoSpec().end) == "2026-10-31"
    assert np.isclose(DemoSpec(years=2).years, 2)


def test_churn_events_agree_with_the_subscriptions(small):
    """One churn event per customer spell that ended, on its day; the others match subscription changes."""
    events = small.tables["churn_events"].to_pandas()
    spells = small.truth["spells"].dropna(subset=["churned_on"])
    churns = events[events.event_type == "churn"]
    assert len(churns) == len(spells) > 0
    got = sorted(zip(churns.account_id, churns.occurred_on.astype(str), strict=True))
    want = sorted(zip(spells.account_id, spells.churned_on.dt.date.astype(str), strict=True))
    assert got == want
    assert churns.reason.notna().all() and (churns.mrr_change < 0).all()
    assert (events.loc[events.event_type == "upgrade", "mrr_change"] > 0).all()
    assert (events.loc[events.event_type == "downgrade", "mrr_change"] < 0).all()
    assert (events.event_type == "reactivation").sum() == (small.truth["spells"].spell_no > 1).sum()
