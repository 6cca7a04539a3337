"""Rule and playbook files: the shipped ones load, every mistake is named with its file and key, and
``retain validate`` recognises both kinds."""

from __future__ import annotations

import pytest
from tests.unit.action.act_company import rules_file

from retain.action import load_playbooks, load_rules
from retain.action.spec import TRIGGER_KINDS, CtaType
from retain.action.triggers import EVIDENCE, TRIGGERS
from retain.configs import detect_kind, validate_config
from retain.errors import ConfigError


def test_the_shipped_rules_have_one_rule_per_signal_and_name_existing_playbooks():
    config = load_rules()
    kinds = {r.trigger.kind for r in config.rules.rules}
    assert kinds == set(TRIGGER_KINDS) == set(TRIGGERS) == set(EVIDENCE)
    assert {r.type for r in config.rules.rules} == set(CtaType) - {CtaType.LIFECYCLE} | {CtaType.LIFECYCLE}
    assert all(r.playbook in config.playbooks.playbooks for r in config.rules.rules if r.playbook)
    assert load_playbooks().playbooks["save_play"].tasks[0].role == "csm"


def test_every_problem_names_the_file_and_the_key(tmp_path):
    path = rules_file(tmp_path, """\
        - name: churn
          type: risk
          reason: Churn risk
          trigger: {kind: churn_probability, above: 1.5}
          owner: boss
        - name: Bad Name
          type: nothing
          reason: x
          trigger: {kind: weather}
        """)
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    message = err.value.message
    assert message.startswith(f"{path}: ")
    for key in ("rules.0.trigger.churn_probability.above", "rules.0.owner", "rules.1.name", "rules.1.type",
                "rules.1.reason", "rules.1.trigger"):
        assert key in message, key
    assert "docs/action.md" in err.value.hint


def test_an_unknown_key_is_refused(tmp_path):
    path = rules_file(tmp_path, """\
        - {name: churn, type: risk, reason: Churn risk, trigger: {kind: churn_probability, abov: 0.5}}
        """)
    with pytest.raises(ConfigError, match=r"rules\.0\.trigger\.churn_probability\.abov: Extra inputs"):
        load_rules(path)


def test_a_playbook_that_does_not_exist_and_a_duplicate_name(tmp_path):
    path = rules_file(tmp_path, """\
        - {name: a, type: risk, reason: First, trigger: {kind: critical_factor}, playbook: nowhere}
        """)
    with pytest.raises(ConfigError, match=r"rules\.0\.playbook: playbook 'nowhere' is not defined"):
        load_rules(path)
    path = rules_file(tmp_path, """\
        - {name: a, type: risk, reason: First, trigger: {kind: critical_factor}}
        - {name: a, type: risk, reason: Second, trigger: {kind: critical_factor}}
        """)
    with pytest.raises(ConfigError, match="rule name 'a' is used twice"):
        load_rules(path)
    path = rules_file(tmp_path, "- {name: a, type: risk, reason: First, trigger: {kind: critical_factor}}\n",
                      playbooks_file="missing.yaml")
    with pytest.raises(ConfigError, match="playbooks_file: no file"):
        load_rules(path)


def test_priority_thresholds_must_be_ordered(tmp_path):
    path = rules_file(tmp_path, "- {name: a, type: risk, reason: First, trigger: {kind: critical_factor}}\n",
                      priority="{critical: 10, high: 20, medium: 5}")
    with pytest.raises(ConfigError, match="priority: .*ordered"):
        load_rules(path)


def test_retain_validate_recognises_rules_and_playbooks(tmp_path):
    path = rules_file(tmp_path, """\
        - {name: churn, type: risk, reason: Churn risk, trigger: {kind: churn_probability, above: 2}}
        """)
    assert detect_kind(path) == "rules"
    issues = validate_config(path)
    assert [(i.file, i.key) for i in issues] == [(str(path), "rules.0.trigger.churn_probability.above")]
    plays = tmp_path / "plays.yaml"
    plays.write_text("version: 1\nplaybooks:\n  p:\n    title: A play\n    tasks:\n      - {title: Do it, role: cfo}\n",
                     encoding="utf-8")
    assert detect_kind(plays) == "playbooks"
    assert [i.key for i in validate_config(plays)] == ["playbooks.p.tasks.0.role"]
    from retain.action.spec import DEFAULT_PLAYBOOKS, DEFAULT_RULES

    assert validate_config(DEFAULT_RULES) == [] and validate_config(DEFAULT_PLAYBOOKS) == []
