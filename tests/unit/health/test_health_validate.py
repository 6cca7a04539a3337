"""Scorecard validation: every problem reported with file, key (and line) and a fix; the schema is current."""

from __future__ import annotations

import json
import textwrap

import pytest

from retain.errors import ConfigError
from retain.health import load_scorecard, validate_file, validate_text
from retain.health.spec import json_schema
from retain.health.validate import Level, default_path

GOOD = """
version: 1
name: basic
components:
  - name: usage
    weight: 2
    measures:
      - name: util
        measure: license_utilization
        scoring: {kind: linear, low: 0.1, high: 0.8}
"""

BAD = """\
version: 1
default: standrd
rules:
  - scorecard: enterprize
    segment: [enterprise]
scorecards:
  - name: standard
    grades: {red_below: 80, green_from: 70}
    components:
      - name: usage
        weight: -5
        measures:
          - name: util
            measure: licence_utilisation
            scoring: {kind: linear, low: 0.5, high: 0.5}
          - name: tickets
            measure: tickets
            windw_days: 30
            scoring:
              kind: bands
              bands:
                - {max: 2, score: 100}
                - {min: 1, max: 4, score: 50}
                - {min: 6, score: 120}
          - name: products
            measure: products_held
            window_days: 30
            scoring: {kind: percentile}
    critical:
      - name: nps
        measure: last_nps
        op: "<="
        threshold: 4
"""


def issues_by_key(text):
    return {i.key: i for i in validate_text(text, "card.yaml")}


def test_good_file_and_shipped_default_are_valid(tmp_path):
    assert validate_text(GOOD) == []
    assert validate_file(default_path()) == []
    path = tmp_path / "one.yaml"
    path.write_text(GOOD)
    spec = load_scorecard(path)  # a single scorecard is wrapped into a set
    assert spec.default_name == "basic" and spec.scorecards[0].components[0].weight == 2


def test_all_issues_are_collected_with_file_key_line_and_fix():
    issues = validate_text(BAD, "card.yaml")
    by_key = {i.key: i for i in issues}
    m = "scorecards[0].components[0].measures"
    expected = {
        "default": "does not exist",
        "rules[0].scorecard": "unknown scorecard 'enterprize'",
        "scorecards[0].grades": "red_below (80) is above green_from (70)",
        "scorecards[0].components[0].weight": "weight is negative",
        f"{m}[0].measure": "unknown measure 'licence_utilisation'",
        f"{m}[0].scoring": "low == high",
        f"{m}[1].windw_days": "unknown key 'windw_days'",
        f"{m}[1].scoring.bands[1]": "band overlaps",
        f"{m}[1].scoring.bands[2]": "gap between bands",
        f"{m}[1].scoring.bands[2].score": "outside 0-100",
        f"{m}[2].window_days": "takes no 'window_days'",
        "scorecards[0].critical[0]": "exactly one of 'cap' or 'set_to'",
    }
    for key, text in expected.items():
        assert key in by_key, f"missing issue at {key}: {[str(i) for i in issues]}"
        assert text in by_key[key].message
        assert by_key[key].file == "card.yaml" and by_key[key].fix
    assert by_key["default"].fix == "did you mean 'standard'?"
    assert by_key["rules[0].scorecard"].fix == "use one of: standard"
    assert by_key[f"{m}[0].measure"].fix == "did you mean 'license_utilization'?"
    assert by_key[f"{m}[1].windw_days"].fix == "did you mean 'window_days'?"
    assert by_key["scorecards[0].components[0].weight"].line == 11
    assert by_key[f"{m}[0].measure"].line == 14
    assert by_key[f"{m}[1].scoring.bands[2]"].level is Level.WARNING
    assert "card.yaml:14: error: scorecards[0].components[0].measures[0].measure" in str(by_key[f"{m}[0].measure"])


def test_yaml_syntax_error_gives_the_line():
    text = "version: 1\nname: x\ncomponents:\n  - name: a\n    weight: [1, 2\n"
    (issue,) = validate_text(text, "broken.yaml")
    assert issue.level is Level.ERROR and "YAML syntax error" in issue.message and issue.line in (5, 6)


def test_structure_errors_and_empty_parts():
    text = textwrap.dedent("""
        version: 2
        scorecards:
          - name: s
            components: []
          - name: t
            components:
              - name: c
                weight: 0
                measures:
                  - name: m
                    measure: tickets
                    weight: 0
                    scoring: {kind: bandz}
    """)
    keys = issues_by_key(text)
    assert "version" in keys
    assert "scorecards[0].components" in keys
    assert "every component weight is 0" in keys["scorecards[1].components"].message
    assert "every measure weight is 0" in keys["scorecards[1].components[0].measures"].message
    assert any(k.startswith("scorecards[1].components[0].measures[0].scoring") for k in keys)


def test_load_scorecard_raises_one_config_error_listing_everything(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(ConfigError) as err:
        load_scorecard(path)
    text = str(err.value)
    assert "licence_utilisation" in text and "weight is negative" in text and "enterprize" in text
    assert "gap between bands" not in text  # warnings do not block loading


def test_missing_file(tmp_path):
    (issue,) = validate_file(tmp_path / "nope.yaml")
    assert issue.message == "file not found"


def test_committed_json_schema_is_current():
    committed = json.loads((default_path().parent / "schema" / "scorecard.schema.json").read_text())
    assert committed == json.loads(json.dumps(json_schema())), \
        "regenerate: python -m retain.health.spec > src/retain/health/schema/scorecard.schema.json"


def test_json_schema_accepts_the_default_and_rejects_unknown_keys():
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    import yaml

    validator = jsonschema_rs.validator_for(json_schema())
    doc = yaml.safe_load(default_path().read_text())
    assert validator.is_valid(doc)
    doc["scorecards"][0]["components"][0]["wieght"] = 3
    assert not validator.is_valid(doc)
