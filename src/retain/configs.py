"""Every YAML file a user edits, checked by one command (`retain validate`), whatever its kind.

Scorecards have their own rule-by-rule validator; the other kinds are pydantic specs whose loaders already
collect every problem. This module only recognises the kind of a file and turns each problem into an ``Issue``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import yaml

from retain.errors import ConfigError
from retain.health.validate import Issue, Level, validate_file


def _loader_issues(load: Callable[[Path], object], path: Path) -> list[Issue]:
    try:
        load(path)
    except ConfigError as exc:
        head, _, rest = exc.message.partition(": ")
        if head.strip() != str(path):
            return [Issue(Level.ERROR, str(path), "", exc.message, exc.hint)]
        rest = re.sub(r"^\d+ problem\(s\): ", "", rest)
        return [Issue(Level.ERROR, str(path), *_key_and_message(part), exc.hint) for part in rest.split("; ") if part]
    return []


def _key_and_message(problem: str) -> tuple[str, str]:
    key, sep, message = problem.partition(": ")
    return (key, message) if sep and " " not in key else ("", problem)


def _playbook(path: Path) -> list[Issue]:
    from retain.conversations.tracker_spec import load_playbook

    return _loader_issues(load_playbook, path)


def _mapping(path: Path) -> list[Issue]:
    from retain.ingest.mapping import load_mapping
    from retain.ingest.queries import check_mapping_queries

    issues = _loader_issues(load_mapping, path)
    if issues:
        return issues
    return [Issue(Level.WARNING if warn else Level.ERROR, str(path), p.key, p.message, p.hint)
            for warn, p in check_mapping_queries(load_mapping(path), path)]


def _profitability(path: Path) -> list[Issue]:
    from retain.metrics.profitability import load_profitability_spec

    return _loader_issues(load_profitability_spec, path)


def _rfm(path: Path) -> list[Issue]:
    from retain.metrics.rfm import load_rfm_spec

    return _loader_issues(load_rfm_spec, path)


# kind -> (top-level keys that identify it, validator)
KINDS: dict[str, tuple[frozenset[str], Callable[[Path], list[Issue]]]] = {
    "scorecard": (frozenset({"scorecards"}), validate_file),
    "trackers": (frozenset({"trackers", "sop", "compliance"}), _playbook),
    "mapping": (frozenset({"tables"}), _mapping),
    "profitability": (frozenset({"cost_per_ticket", "ticket_cost_by_priority", "window_months"}), _profitability),
    "rfm": (frozenset({"segments", "bins", "lookback_months"}), _rfm),
}


def _rules(path: Path) -> list[Issue]:
    from retain.action.spec import load_rules

    return _loader_issues(load_rules, path)


def _playbooks(path: Path) -> list[Issue]:
    from retain.action.spec import load_playbooks

    return _loader_issues(load_playbooks, path)


KINDS["rules"] = (frozenset({"rules"}), _rules)  # calls-to-action rules (retain.action)
KINDS["playbooks"] = (frozenset({"playbooks"}), _playbooks)


def _caps(path: Path) -> list[Issue]:
    from retain.delivery.caps import load_caps

    return _loader_issues(load_caps, path)


KINDS["caps"] = (frozenset({"caps", "exempt_categories", "exempt_roles"}), _caps)  # contact caps (retain.delivery)


def _plan_templates(path: Path) -> list[Issue]:
    from retain.action.plan_spec import load_plan_templates

    return _loader_issues(load_plan_templates, path)


KINDS["plan_templates"] = (frozenset({"plan_templates"}), _plan_templates)  # success-plan templates


def _programmes(path: Path) -> list[Issue]:
    from retain.surveys.spec import load_programmes

    return _loader_issues(load_programmes, path)


KINDS["survey_programmes"] = (frozenset({"programmes"}), _programmes)  # survey programmes (retain.surveys)


def _sales_goals(path: Path) -> list[Issue]:
    from retain.sales.goal_spec import load_goal_spec

    return _loader_issues(load_goal_spec, path)


KINDS["sales_goals"] = (frozenset({"goals"}), _sales_goals)  # unit and add-on-share goals (retain.sales)


def detect_kind(path: Path) -> str | None:
    """The kind of config file by its top-level keys (None when unreadable or unrecognised)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(data, dict):
        return None
    for kind, (keys, _) in KINDS.items():
        if keys & data.keys():
            return kind
    return None


def validate_config(path: str | Path, kind: str | None = None) -> list[Issue]:
    """Every problem of one config file; its kind is recognised from its keys unless given."""
    path = Path(path)
    if not path.exists():
        return [Issue(Level.ERROR, str(path), "", "file not found", "check the path")]
    if kind is not None and kind not in KINDS:
        return [Issue(Level.ERROR, str(path), "", f"unknown kind '{kind}'", f"use one of {', '.join(KINDS)}")]
    kind = kind or detect_kind(path) or "scorecard"  # the scorecard validator explains YAML errors best
    return KINDS[kind][1](path)
