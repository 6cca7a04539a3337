from pathlib import Path

from retain.results.docs import render

DOC = Path(__file__).parents[3] / "docs" / "results.md"


def test_results_doc_matches_code():
    assert DOC.read_text(encoding="utf-8") == render(), "docs/results.md is stale: run `make docs`"
