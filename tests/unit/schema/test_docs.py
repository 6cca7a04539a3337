from pathlib import Path

from retain.schema import TABLES
from retain.schema.docs import render

DOC = Path(__file__).parents[3] / "docs" / "data-model.md"


def test_data_model_doc_matches_code():
    assert DOC.read_text(encoding="utf-8") == render(), "docs/data-model.md is stale: run `make docs`"


def test_every_reference_points_at_a_real_column():
    for table in TABLES.values():
        for col in table.columns:
            if col.references:
                other, name = col.references.split(".")
                assert TABLES[other].has(name), f"{table.name}.{col.name} -> {col.references}"
            if col.revealed_by:
                assert table.has(col.revealed_by)
        assert all(table.has(k) for k in table.key)
        assert not table.key or all(table.column(k).required for k in table.key), table.name
