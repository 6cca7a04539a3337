"""Every stored result is declared, and the declarations are consistent."""

import re
from pathlib import Path

import pytest

from retain import results
from retain.errors import ResultError
from retain.results import RESULTS, AdoptionTier, HealthGrade
from retain.state import published

SRC = Path(__file__).parents[3] / "src" / "retain"


def test_keys_are_declared_never_null_columns():
    for result in RESULTS.values():
        assert result.key, result.name
        for key in result.key:
            assert result.has(key) and not result.column(key).nullable, f"{result.name}.{key}"
        assert len(set(result.names)) == len(result.names), result.name
        assert "as_of" not in result.names, f"{result.name}: the warehouse adds as_of"
        assert re.fullmatch(r"retain(\.\w+)+", result.producer), result.producer


def test_every_producer_exists():
    import importlib

    for result in RESULTS.values():
        module, _, attr = result.producer.rpartition(".")
        while module and not _importable(importlib, module):  # a method: retain.x.Class.method
            module, _, cls = module.rpartition(".")
            attr = f"{cls}.{attr}"
        target = importlib.import_module(module)
        for part in attr.split("."):
            target = getattr(target, part)
        assert callable(target), result.producer


def _importable(importlib, module: str) -> bool:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError:
        return False
    return True


def test_every_literal_name_stored_in_src_is_declared():
    stored = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        stored |= set(re.findall(r"store_result\(\s*\"(\w+)\"", text))
        stored |= set(re.findall(r"\bstore\(wh, \"(\w+)\"", text))
    stored |= {"propensity", "clv", "demo_spec"}  # stored through a module constant
    assert stored and stored <= set(RESULTS), stored - set(RESULTS)


def test_every_published_result_is_declared_with_its_scope_columns():
    for name, result in published.RESULTS.items():
        spec = results.spec(name)
        for column in (result.member_column, result.account_column):
            assert column is None or spec.has(column), f"{name}.{column}"


def test_an_undeclared_name_is_refused_with_a_hint():
    with pytest.raises(ResultError, match="'health_score' is not declared") as err:
        results.spec("health_score")
    assert "health_scores" in err.value.hint


def test_closed_vocabularies():
    grades = RESULTS["health_scores"].column("grade")
    assert grades.values == tuple(g.value for g in HealthGrade) == ("red", "yellow", "green")
    assert RESULTS["propensity"].column("adoption_tier").values == ("low", "medium", "high")
    from retain.models.adoption import TIERS

    assert tuple(t.value for t in AdoptionTier) == TIERS
