"""Scorecard validation in the MetricFlow style: a tuple of rules, each returning issues; all are collected.

Rules read the parsed YAML as plain data (so one broken part never hides the others); pydantic's structural
errors are added as issues too. Every issue names the file, the key path (and line) and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from retain.errors import ConfigError
from retain.health import spec as S
from retain.health.measures import MEASURES, MeasureKind

DEFAULT_FILE = "default_scorecard.yaml"


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    level: Level
    file: str
    key: str
    message: str
    fix: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.level.value}: {self.key or '(document)'}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


Path_ = tuple[str | int, ...]


def key_of(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _num(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _did_you_mean(word, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


# -- walking the raw document -----------------------------------------------------------------------------


def cards(doc: dict) -> Iterator[tuple[Path_, dict]]:
    if "components" in doc and "scorecards" not in doc:
        yield (), doc
        return
    for i, card in enumerate(doc.get("scorecards") or []):
        if isinstance(card, dict):
            yield ("scorecards", i), card


def _items(obj: dict, key: str, path: Path_) -> Iterator[tuple[Path_, dict]]:
    items = obj.get(key) or []
    if isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, dict):
                yield (*path, key, i), item


def components(doc: dict) -> Iterator[tuple[Path_, dict]]:
    for path, card in cards(doc):
        yield from _items(card, "components", path)


def measures(doc: dict) -> Iterator[tuple[Path_, dict]]:
    for path, comp in components(doc):
        yield from _items(comp, "measures", path)


def criticals(doc: dict) -> Iterator[tuple[Path_, dict]]:
    for path, card in cards(doc):
        yield from _items(card, "critical", path)


# -- rules ------------------------------------------------------------------------------------------------

Found = tuple[Level, Path_, str, str | None]


def rule_measure_names(doc: dict) -> Iterator[Found]:
    for path, item in [*measures(doc), *criticals(doc)]:
        name = item.get("measure")
        if isinstance(name, str) and name not in MEASURES:
            hint = _did_you_mean(name, MEASURES) or "use one of: " + ", ".join(sorted(MEASURES))
            yield Level.ERROR, (*path, "measure"), f"unknown measure '{name}'", hint


def rule_measure_params(doc: dict) -> Iterator[Found]:
    for path, item in [*measures(doc), *criticals(doc)]:
        mdef = MEASURES.get(item.get("measure"))
        for param in mdef.required if mdef is not None else ():
            if not item.get(param):
                yield Level.ERROR, path, f"measure '{mdef.name}' needs {REQUIRED_WHAT[param]}", REQUIRED_FIX[mdef.name]
        for param in ("window_days", "baseline_days", "values", "attribute"):
            if param not in item:
                continue
            if mdef is not None and param not in mdef.defaults:
                accepted = ", ".join(mdef.defaults) or "no parameters"
                yield (Level.ERROR, (*path, param), f"measure '{mdef.name}' takes no '{param}'",
                       f"remove it ({mdef.name} accepts {accepted})")
            value = _num(item[param])
            if param != "values" and value is not None and value <= 0:
                yield Level.ERROR, (*path, param), f"{param} must be a positive number of days, got {item[param]}", \
                    "use e.g. 30 or 90"
        window, base = _num(item.get("window_days")), _num(item.get("baseline_days"))
        if window is not None and base is not None and base <= window:
            yield (Level.WARNING, (*path, "baseline_days"), f"baseline_days ({base:g}) is not longer than "
                   f"window_days ({window:g})", "compare a short recent window with a longer baseline, e.g. 30 vs 90")


REQUIRED_WHAT = {"attribute": "the key to read", "values": "the products in `values`"}
REQUIRED_FIX = {"attribute": "add e.g. `attribute: seats_purchased` (a numeric key of accounts.attributes)",
                "category": "add e.g. `attribute: contract` (a text key of accounts.attributes)",
                "holds_product": "add e.g. `values: [support_plan]` (product ids)"}


def rule_measure_kinds(doc: dict) -> Iterator[Found]:
    """Text measures are scored by categories, number measures by bands, linear ranges or percentiles."""
    for path, item in measures(doc):
        scoring = item.get("scoring")
        name = item.get("measure") or ("category" if isinstance(scoring, dict) and scoring.get("kind") ==
                                       "categories" else "attribute" if item.get("attribute") else None)
        mdef = MEASURES.get(name)
        if mdef is None or not isinstance(scoring, dict) or "kind" not in scoring:
            continue
        text, by_category = mdef.kind is MeasureKind.CATEGORY, scoring.get("kind") == "categories"
        if text and not by_category:
            yield (Level.ERROR, (*path, "scoring", "kind"), f"measure '{name}' is text (a category): it cannot be "
                   f"scored by {scoring.get('kind')}", "use `kind: categories` with `points: {value: points}`")
        elif by_category and not text:
            yield (Level.ERROR, (*path, "scoring", "kind"), f"measure '{name}' is a number: it cannot be scored by "
                   "categories", "use bands, linear or percentile (or `measure: category` for a text attribute)")
    for path, item in criticals(doc):
        mdef = MEASURES.get(item.get("measure"))
        if mdef is not None and mdef.kind is MeasureKind.CATEGORY:
            yield (Level.ERROR, (*path, "measure"), f"critical factor on text measure '{mdef.name}': thresholds "
                   "compare numbers", "give the value few points in the measure's categories table instead")


def rule_categories(doc: dict) -> Iterator[Found]:
    """A categories table: text values (YAML reads a bare Yes/No/true as a boolean), points 0-100."""
    for path, item in measures(doc):
        scoring = item.get("scoring")
        if not isinstance(scoring, dict) or scoring.get("kind") != "categories":
            continue
        points = scoring.get("points")
        if not isinstance(points, dict):
            continue
        for value, score in points.items():
            where = (*path, "scoring", "points", value)
            if not isinstance(value, str):
                yield (Level.ERROR, where, f"value {value!r} was read as a {type(value).__name__}, not text",
                       f"quote it: '{value}': (YAML reads bare yes/no/true/false/numbers as such)")
            sc = _num(score)
            if sc is None:
                yield Level.ERROR, where, f"points of '{value}' are not a number ({score!r})", "use 0 to 100"
            elif not 0 <= sc <= 100:
                yield Level.ERROR, where, f"points of '{value}' ({sc:g}) are outside 0-100", "use 0 to 100"


def rule_weights(doc: dict) -> Iterator[Found]:
    groups = [(path, card, "components") for path, card in cards(doc)]
    groups += [(path, comp, "measures") for path, comp in components(doc)]
    for path, parent, key in groups:
        weights = []
        for ipath, item in _items(parent, key, path):
            w = _num(item.get("weight", 1.0))
            if w is not None and w < 0:
                yield Level.ERROR, (*ipath, "weight"), f"weight is negative ({w:g})", \
                    "use 0 to switch it off or a positive number (weights are normalised to %)"
            weights.append(w)
        if weights and all(w is not None and w <= 0 for w in weights):
            yield Level.ERROR, (*path, key), f"every {key[:-1]} weight is 0: nothing to score", \
                "give at least one a positive weight"


def rule_empty(doc: dict) -> Iterator[Found]:
    for path, card in cards(doc):
        if not card.get("components"):
            yield Level.ERROR, (*path, "components"), "a scorecard needs at least one component", \
                "add components with measures (see the default scorecard)"
    for path, comp in components(doc):
        if not comp.get("measures"):
            yield Level.ERROR, (*path, "measures"), "a component needs at least one measure", "add a measure"


def rule_bands(doc: dict) -> Iterator[Found]:
    for path, item in measures(doc):
        scoring = item.get("scoring")
        if not isinstance(scoring, dict):
            continue
        spath = (*path, "scoring")
        if scoring.get("kind") == "linear":
            low, high = _num(scoring.get("low")), _num(scoring.get("high"))
            if low is not None and low == high:
                yield Level.ERROR, spath, "linear range has low == high", "make low and high different"
            if low is not None and high is not None and low > high:
                yield Level.ERROR, spath, f"linear range has low ({low:g}) above high ({high:g})", \
                    "swap them and set direction: lower_is_better to reverse the scale"
        if scoring.get("kind") != "bands":
            continue
        spans = []
        for bpath, band in _items(scoring, "bands", spath):
            lo, hi, sc = _num(band.get("min")), _num(band.get("max")), _num(band.get("score"))
            if sc is not None and not 0 <= sc <= 100:
                yield Level.ERROR, (*bpath, "score"), f"band score {sc:g} is outside 0-100", "use 0 to 100"
            if lo is not None and hi is not None and lo >= hi:
                yield Level.ERROR, bpath, f"band min ({lo:g}) is not below max ({hi:g})", "bands are [min, max)"
                continue
            spans.append((bpath, -float("inf") if lo is None else lo, float("inf") if hi is None else hi))
        if not spans and "bands" in scoring:
            yield Level.ERROR, (*spath, "bands"), "no bands", "add bands with min, max and score"
        ordered = sorted(spans, key=lambda s: s[1])
        for (pa, lo_a, hi_a), (pb, lo_b, _hi_b) in zip(ordered, ordered[1:], strict=False):
            if lo_b < hi_a:
                yield (Level.ERROR, pb, f"band overlaps {key_of(pa)} ([{lo_a:g}, {hi_a:g}) and from {lo_b:g})",
                       "make each band start where the previous one ends (bands are [min, max))")
            elif lo_b > hi_a:
                yield (Level.WARNING, pb, f"gap between bands: values in [{hi_a:g}, {lo_b:g}) get no score "
                       "(not applicable)", f"start this band at {hi_a:g}")


def rule_grades(doc: dict) -> Iterator[Found]:
    for path, card in cards(doc):
        grades = card.get("grades")
        if not isinstance(grades, dict):
            continue
        red, green = _num(grades.get("red_below", 40)), _num(grades.get("green_from", 70))
        if red is not None and green is not None and red > green:
            yield Level.ERROR, (*path, "grades"), f"red_below ({red:g}) is above green_from ({green:g})", \
                "red_below must be at most green_from, e.g. 40 and 70"
        for name, value in (("red_below", red), ("green_from", green)):
            if value is not None and not 0 <= value <= 100:
                yield Level.ERROR, (*path, "grades", name), f"{name} {value:g} is outside 0-100", "use 0 to 100"


def rule_calibration(doc: dict) -> Iterator[Found]:
    for path, card in cards(doc):
        cal = card.get("calibration")
        points = cal.get("points") if isinstance(cal, dict) else None
        if not isinstance(points, list):
            continue
        pairs = [(_num(p.get("total")), _num(p.get("probability"))) for p in points if isinstance(p, dict)]
        pairs = [(t, q) for t, q in pairs if t is not None and q is not None]
        for i in range(1, len(pairs)):
            (t0, q0), (t1, q1) = pairs[i - 1], pairs[i]
            where = (*path, "calibration", "points", i)
            if t1 <= t0:
                yield Level.ERROR, where, f"totals must increase: {t1:g} after {t0:g}", "sort the points by total"
            elif q1 > q0:
                yield (Level.ERROR, where, f"churn probability rises with health: {q1:g} at {t1:g} after {q0:g} at "
                       f"{t0:g}", "a higher total must never mean a higher probability; lower it to at most "
                       f"{q0:g}")


def rule_critical(doc: dict) -> Iterator[Found]:
    for path, item in criticals(doc):
        has_cap, has_set = item.get("cap") is not None, item.get("set_to") is not None
        if has_cap == has_set:
            yield Level.ERROR, path, "a critical factor needs exactly one of 'cap' or 'set_to'", \
                "use cap: 40 to cap the total, or set_to: 0 to override it"
        for key in ("cap", "set_to"):
            value = _num(item.get(key))
            if value is not None and not 0 <= value <= 100:
                yield Level.ERROR, (*path, key), f"{key} {value:g} is outside 0-100", "use 0 to 100"


def rule_unique_names(doc: dict) -> Iterator[Found]:
    def dupes(items, what):
        seen = set()
        for path, item in items:
            name = item.get("name")
            if name in seen:
                yield Level.ERROR, (*path, "name"), f"duplicate {what} name '{name}'", f"give each {what} its own name"
            seen.add(name)

    yield from dupes(list(cards(doc)), "scorecard")
    for path, card in cards(doc):
        yield from dupes(list(_items(card, "components", path)), "component")
        yield from dupes(list(_items(card, "critical", path)), "critical factor")
    for path, comp in components(doc):
        yield from dupes(list(_items(comp, "measures", path)), "measure")


def rule_segments(doc: dict) -> Iterator[Found]:
    names = [card.get("name") for _, card in cards(doc)]
    default = doc.get("default")
    if default is not None and default not in names:
        yield Level.ERROR, ("default",), f"default scorecard '{default}' does not exist", \
            _did_you_mean(default, names) or f"use one of: {', '.join(map(str, names))}"
    conditions = ("segment", "industry", "region", "country", "min_arr", "max_arr")
    for path, rule in _items(doc, "rules", ()):
        name = rule.get("scorecard")
        if name is not None and name not in names:
            yield Level.ERROR, (*path, "scorecard"), f"rule names unknown scorecard '{name}'", \
                _did_you_mean(name, names) or f"use one of: {', '.join(map(str, names))}"
        if not any(rule.get(c) is not None for c in conditions):
            yield Level.WARNING, path, "rule has no condition: it matches every account and hides later rules", \
                "add a condition such as segment: [enterprise], or use 'default:'"


RULES: tuple[Callable[[dict], Iterator[Found]], ...] = (
    rule_empty, rule_measure_names, rule_measure_params, rule_measure_kinds, rule_categories, rule_weights,
    rule_bands, rule_grades, rule_critical, rule_unique_names, rule_segments, rule_calibration,
)

# -- structure (pydantic) and lines -----------------------------------------------------------------------


def _field_names() -> set[str]:
    names: set[str] = set()
    for obj in vars(S).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            names.update(obj.model_fields)
    return names


def _structural(doc: dict) -> Iterator[Found]:
    model = S.ScorecardSpec if ("components" in doc and "scorecards" not in doc) else S.ScorecardSetSpec
    try:
        model.model_validate(doc)
    except ValidationError as exc:
        for err in exc.errors():
            loc = _strip_tags(err["loc"])
            if err["type"] == "extra_forbidden":
                hint = _did_you_mean(loc[-1], _field_names()) or "remove it (see scorecard.schema.json)"
                yield Level.ERROR, loc, f"unknown key '{loc[-1]}'", hint
            elif err["type"] == "missing":
                yield Level.ERROR, loc, f"missing required key '{loc[-1]}'", "add it"
            else:
                yield Level.ERROR, loc, err["msg"], None


def _strip_tags(loc) -> Path_:
    """Drop the discriminator tag pydantic puts after ``scoring`` in a location."""
    out: list = []
    for i, part in enumerate(loc):
        if i > 0 and loc[i - 1] == "scoring" and part in {"bands", "linear", "percentile", "categories"}:
            continue
        out.append(part)
    return tuple(out)


def _line(root, path: Path_) -> int | None:
    node, line = root, None
    for part in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
    return node.start_mark.line + 1 if node is not None else line


def validate_text(text: str, file: str = "<scorecard>") -> list[Issue]:
    """Every issue of a scorecard YAML document, errors and warnings."""
    try:
        root = yaml.compose(text)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        return [Issue(Level.ERROR, file, "", f"YAML syntax error: {problem}",
                      "check indentation and colons near that line", line)]
    if not isinstance(doc, dict):
        return [Issue(Level.ERROR, file, "", "a scorecard file must be a mapping",
                      "start with 'version: 1' and 'scorecards:' (or 'name:' and 'components:')", 1)]
    found = list(_structural(doc))
    for rule in RULES:
        found.extend(rule(doc))
    issues, seen = [], set()
    for level, path, message, fix in found:
        issue = Issue(level, file, key_of(path), message, fix or None, _line(root, path))
        if (issue.key, issue.message) not in seen:
            seen.add((issue.key, issue.message))
            issues.append(issue)
    return sorted(issues, key=lambda i: (i.line or 0, i.key))


def validate_file(path: str | Path) -> list[Issue]:
    p = Path(path)
    if not p.exists():
        return [Issue(Level.ERROR, str(p), "", "file not found", "check the path")]
    return validate_text(p.read_text(encoding="utf-8"), str(p))


def default_path() -> Path:
    return Path(str(resources.files("retain.health").joinpath(DEFAULT_FILE)))


def load_scorecard(path: str | Path | None = None) -> S.ScorecardSetSpec:
    """Parse and validate a scorecard file (``None`` = the shipped default); a ``ConfigError`` lists every error."""
    p = Path(path) if path is not None else default_path()
    issues = validate_file(p)
    errors = [i for i in issues if i.level is Level.ERROR]
    if errors:
        raise ConfigError(f"{len(errors)} problem(s) in scorecard {p}:\n" + "\n".join(f"  {e}" for e in errors),
                          hint=f"run `retain validate {p}` and fix each key named")
    doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    if "components" in doc and "scorecards" not in doc:
        card = S.ScorecardSpec.model_validate(doc)
        return S.ScorecardSetSpec(scorecards=(card,))
    return S.ScorecardSetSpec.model_validate(doc)
