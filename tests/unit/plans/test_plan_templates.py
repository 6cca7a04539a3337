"""Plan templates: the shipped file loads and validates; every mistake is named with its file and key, and
``retain validate`` recognises the kind."""

from __future__ import annotations

import textwrap

import pytest

from retain.action.plan_metrics import PlanMetric
from retain.action.plan_spec import DEFAULT_TEMPLATES, load_plan_templates
from retain.configs import detect_kind, validate_config
from retain.errors import ConfigError


def test_the_shipped_templates_cover_the_demo_segments_and_validate():
    spec = load_plan_templates()
    assert spec.for_segment("enterprise") == "enterprise" and spec.for_segment("mid_market") == "mid_market"
    assert spec.for_segment("smb") == "standard" and spec.for_segment(None) == spec.default == "standard"
    assert {o.metric for t in spec.plan_templates.values() for o in t.objectives} <= set(PlanMetric)
    assert detect_kind(DEFAULT_TEMPLATES) == "plan_templates"
    assert validate_config(DEFAULT_TEMPLATES) == []


def _file(tmp_path, text: str):
    path = tmp_path / "plans.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


BAD = """\
    version: 1
    default: standard
    plan_templates:
      standard:
        title: Success plan
        objectives:
          - {title: Licence use, metric: licence_use, target: 0.8, due_days: 90}
          - {title: Health, metric: health_total, target: 70, increase_pct: 10, due_days: 90}
          - {title: Renew, metric: in_service, target: 1, due: someday}
"""


def test_every_problem_names_the_file_and_the_key(tmp_path):
    path = _file(tmp_path, BAD)
    with pytest.raises(ConfigError) as caught:
        load_plan_templates(path)
    message = caught.value.message
    assert message.startswith(str(path))
    assert "plan_templates.standard.objectives.0.metric" in message
    assert "plan_templates.standard.objectives.1: Value error, give exactly one of 'target'" in message
    assert "plan_templates.standard.objectives.2.due" in message
    assert "docs/plans.md" in caught.value.hint
    issues = validate_config(path)
    assert {i.key for i in issues} == {"plan_templates.standard.objectives.0.metric",
                                       "plan_templates.standard.objectives.1",
                                       "plan_templates.standard.objectives.2.due"}
    assert all(i.file == str(path) for i in issues)


def test_a_default_that_does_not_exist_and_a_segment_listed_twice(tmp_path):
    path = _file(tmp_path, """\
        version: 1
        default: gold
        plan_templates:
          a: {title: Aaa, segments: [smb], objectives: [{title: Users, metric: active_users, target: 5, due_days: 9}]}
          b: {title: Bbb, segments: [smb], objectives: [{title: Users, metric: active_users, target: 5, due_days: 9}]}
    """)
    with pytest.raises(ConfigError, match="default: template 'gold' is not defined"):
        load_plan_templates(path)
    path.write_text(path.read_text().replace("default: gold", "default: a"))
    with pytest.raises(ConfigError, match="segment 'smb' is listed by templates 'a' and 'b'"):
        load_plan_templates(path)
