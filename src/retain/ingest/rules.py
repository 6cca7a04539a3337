"""Typing and validation rules, compiled to DuckDB SQL over a staged source (no Python row loop).

:func:`typed_select` turns a staged source into one row per input row with every canonical column typed,
``attributes`` (extra columns as JSON) and ``__errs``: the list of ``{column, reason}`` problems the row has.
Checks that need other rows (key uniqueness, references) live in :mod:`retain.ingest.engine`.
"""

from __future__ import annotations

import datetime as dt

from retain.ingest.columns import ColumnPlan, normalise_name
from retain.ingest.mapping import CANONICAL_SCALES, SurveyType, Unmapped
from retain.ingest.sources import Staged, lit, q
from retain.schema import Column, DType

MAX_VALUE_BYTES = 1_000_000  # longer text values are quarantined (a 10 MB cell is no customer data)
SHOWN_CHARS = 60  # how much of a bad value a reason quotes
ERR_TYPE = "STRUCT(column_name VARCHAR, reason VARCHAR)"
_TRIMMED = (DType.STRING, DType.JSON, DType.BOOL)

_EXPECTED = {
    DType.INT: "a whole number",
    DType.FLOAT: "a number",
    DType.BOOL: "true/false",
    DType.DATE: "a date like 2024-01-31",
    DType.TIMESTAMP: "a date-time like 2024-01-31T09:30:00Z",
}


def _is_text(sql_type: str) -> bool:
    return sql_type.upper() == "VARCHAR"


def source_value(plan: ColumnPlan, staged: Staged, column: str) -> tuple[str, str]:
    """SQL for the (mapped) source value of ``column`` and its DuckDB type; ``NULL`` when absent."""
    spec = plan.maps.get(column)
    src = plan.sources.get(column)
    if src is None and column in plan.generated:
        expr, sql_type = plan.generated[column]
    elif src is None:
        expr, sql_type = "NULL::VARCHAR", "VARCHAR"
    else:
        sql_type = staged.types[src]
        expr = q(src)
        col = plan.table.column(column)
        if _is_text(sql_type) and (col.enum or col.dtype in _TRIMMED or (spec is not None and spec.values)):
            expr = f"NULLIF(trim({q(src)}), '')"  # numbers, dates and times parse with spaces around them
    if spec is not None and spec.values:
        text = expr if _is_text(sql_type) else f"CAST({expr} AS VARCHAR)"
        whens = " ".join(
            f"WHEN {lit(k.strip().lower())} THEN {'NULL' if v is None else lit(v)}" for k, v in spec.values.items()
        )
        other = text if spec.other is Unmapped.KEEP else "NULL"
        expr, sql_type = f"(CASE lower({text}) {whens} ELSE {other} END)", "VARCHAR"
    if spec is not None and spec.default is not None:
        if not _is_text(sql_type):
            expr, sql_type = f"CAST({expr} AS VARCHAR)", "VARCHAR"
        expr = f"COALESCE({expr}, {lit(spec.default)})"
    if spec is not None and spec.only_if:
        conditions = []
        by_norm = {normalise_name(c): c for c in staged.columns}
        for name, allowed in spec.only_if.items():
            cond = by_norm.get(normalise_name(name))
            if cond is None:  # the column deciding it is absent: keep nothing rather than guess
                conditions.append("false")
                continue
            values = ", ".join(lit(v.strip().lower()) for v in allowed)
            conditions.append(f"lower(trim(CAST({q(cond)} AS VARCHAR))) IN ({values})")
        expr = f"(CASE WHEN {' AND '.join(conditions)} THEN {expr} END)"
    if column in plan.fallbacks:  # e.g. an account's name: its id when the export has none
        other, other_type = source_value(plan, staged, plan.fallbacks[column])
        text = expr if _is_text(sql_type) else f"CAST({expr} AS VARCHAR)"
        other = other if _is_text(other_type) else f"CAST({other} AS VARCHAR)"
        expr, sql_type = f"COALESCE(NULLIF(trim({text}), ''), {other})", "VARCHAR"
    return expr, sql_type


def typed_value(col: Column, expr: str, sql_type: str) -> str:
    """SQL turning a source value into ``col``'s type; NULL when it does not convert."""
    native = sql_type.upper()
    text = _is_text(native)
    if col.enum:
        value = expr if text else f"CAST({expr} AS VARCHAR)"
        return rf"regexp_replace(lower({value}), '[\s\-]+', '_', 'g')"
    if col.dtype is DType.STRING or col.dtype is DType.JSON:
        return expr if text else f"CAST({expr} AS VARCHAR)"
    if col.dtype is DType.INT:
        if native in {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"}:
            return f"CAST({expr} AS BIGINT)"
        d = f"TRY_CAST({expr} AS DOUBLE)"
        if text:  # fast path for plain integers; decimals must be whole (the cast alone would round 2.5)
            plain = f"NOT (contains({expr}, '.') OR contains({expr}, 'e') OR contains({expr}, 'E'))"
            return (f"(CASE WHEN {plain} THEN TRY_CAST({expr} AS BIGINT) "
                    f"WHEN {d} = trunc({d}) THEN TRY_CAST({d} AS BIGINT) END)")
        return f"(CASE WHEN {d} = trunc({d}) THEN TRY_CAST({d} AS BIGINT) END)"
    if col.dtype is DType.FLOAT:
        d = f"TRY_CAST({expr} AS DOUBLE)"
        return f"(CASE WHEN isfinite({d}) THEN {d} END)"
    if col.dtype is DType.BOOL:
        return f"TRY_CAST({expr} AS BOOLEAN)"
    if col.dtype is DType.DATE:
        if text:
            return f"COALESCE(TRY_CAST({expr} AS DATE), CAST(TRY_CAST({expr} AS TIMESTAMPTZ) AS DATE))"
        return f"TRY_CAST({expr} AS DATE)"
    if col.dtype is DType.TIMESTAMP:
        return f"TRY_CAST({expr} AS TIMESTAMPTZ)"
    raise NotImplementedError(col.dtype)


def attributes_value(plan: ColumnPlan, staged: Staged) -> str:
    """Extra columns as a JSON object (``NULL`` when all are empty), merged into a source ``attributes``."""
    parts = []
    for key, src in plan.extras.items():
        value = q(src)
        if _is_text(staged.types[src]):  # text holding a JSON object or array (nested JSON input) stays nested
            text = f"NULLIF(trim({q(src)}), '')"
            value = (f"COALESCE(TRY_CAST(CASE WHEN left({text}, 1) IN ('{{', '[') THEN {text} END AS JSON), "
                     f"to_json({text}))")
        parts.append((key, value))
    extras = None
    if parts:
        obj = "json_object(" + ", ".join(f"{lit(k)}, {v}" for k, v in parts) + ")"
        empty = " AND ".join(f"{v} IS NULL" for _, v in parts)
        extras = f"(CASE WHEN {empty} THEN NULL ELSE {obj} END)"
    base = None
    if plan.attributes_source:
        base = f"TRY_CAST(NULLIF(trim(CAST({q(plan.attributes_source)} AS VARCHAR)), '') AS JSON)"
    if base and extras:
        return f"CAST(json_merge_patch(COALESCE({base}, '{{}}'::JSON), COALESCE({extras}, '{{}}'::JSON)) AS VARCHAR)"
    if base or extras:
        return f"CAST({base or extras} AS VARCHAR)"
    return "NULL::VARCHAR"


def raw_row_json(staged: Staged, column=q) -> str:
    """The source row as JSON text for the quarantine (very long values cut to 10,000 characters).

    ``column(name)`` gives the SQL for the source column ``name`` (its staged name by default).
    """
    parts = []
    for name in staged.columns:
        value = column(name)
        if _is_text(staged.types[name]):
            value = f"(CASE WHEN length({value}) > 10000 THEN left({value}, 10000) || '...[cut]' ELSE {value} END)"
        parts.append(f"{lit(name)}, {value}")
    return "CAST(json_object(" + ", ".join(parts) + ") AS VARCHAR)" if parts else "'{}'"


def _scales(plan: ColumnPlan) -> dict[str, tuple[float, float, bool]]:
    """Survey type -> (low, high, declared by the mapping) of the scores as exported."""
    out = {str(k): (lo, hi, False) for k, (lo, hi) in CANONICAL_SCALES.items()}
    out.update({str(k): (lo, hi, True) for k, (lo, hi) in plan.scale.items()})
    return out


def _final_value(plan: ColumnPlan, column: str) -> str:
    """The stored value of ``column`` from its typed value: survey scores rescaled when the mapping asks."""
    typed = q("__t_" + column)
    if plan.table.name != "survey_responses" or column != "score" or not plan.rescale:
        return typed
    whens = []
    for kind, (lo, hi) in plan.scale.items():
        clo, chi = CANONICAL_SCALES[SurveyType(kind)]
        factor = (chi - clo) / (hi - lo)
        whens.append(f"WHEN {lit(str(kind))} THEN CAST(round({clo!r} + ({typed} - {lo!r}) * {factor!r}) AS BIGINT)")
    return f"(CASE {q('__t_survey_type')} {' '.join(whens)} ELSE {typed} END)"


def _scale_check(plan: ColumnPlan) -> tuple[str, str, str]:
    """Scores outside the scale of their survey type (canonical, or the one the mapping declares)."""
    score, kind = q("__t_score"), q("__t_survey_type")
    whens = []
    col = plan.table.column("score")
    for name, (lo, hi, declared) in _scales(plan).items():
        where = " declared in the mapping" if declared else ""
        outside = f"({score} < {lo!r} OR {score} > {hi!r})"
        if not declared:  # values beyond the column's own bounds already have their reason
            outside += f" AND {score} BETWEEN {col.minimum!r} AND {col.maximum!r}"
        whens.append(f"WHEN {kind} = {lit(name)} AND {outside} THEN "
                     f"printf('%d is outside the {name} scale {lo:g}-{hi:g}{where}', {score})")
    reason = f"(CASE {' '.join(whens)} END)"
    return "score", f"{reason} IS NOT NULL", reason


def _err(column: str, condition: str, reason: str) -> str:
    return f"CASE WHEN {condition} THEN {{'column_name': {lit(column)}, 'reason': {reason}}} END"


def _shown(expr: str) -> str:
    return f"left(CAST({expr} AS VARCHAR), {SHOWN_CHARS})"


def _checks(plan: ColumnPlan, staged: Staged, now: dt.datetime) -> list[tuple[str, str, str]]:
    """(column, failing condition, reason SQL) for every per-row check of the table."""
    table = plan.table
    checks = []
    for name in staged.columns:
        if _is_text(staged.types[name]):
            label = next((c for c, s in plan.sources.items() if s == name), None)
            label = label or next((k for k, v in plan.extras.items() if v == name), name)
            length = q("__len_" + name)
            checks.append((label, f"{length} > {MAX_VALUE_BYTES}",
                           f"printf('value is %,d bytes long; the limit is {MAX_VALUE_BYTES:,}', {length})"))
    for col in table.columns:
        s, t, v = q("__s_" + col.name), q("__t_" + col.name), q(col.name)
        shown = _shown(f"COALESCE(CAST({s} AS VARCHAR), CAST({v} AS VARCHAR))")  # the value as the file wrote it
        if col.required:
            checks.append((col.name, f"{v} IS NULL AND {s} IS NULL", "'required value is missing'"))
        if col.enum:
            allowed = ", ".join(lit(e) for e in col.enum)
            checks.append((col.name, f"{s} IS NOT NULL AND {t} NOT IN ({allowed})",
                           f"printf('''%s'' is not one of: {', '.join(col.enum)}', {_shown(s)})"))
        elif col.dtype in _EXPECTED:
            fmt = plan.maps[col.name].format if col.name in plan.maps else None
            expected = f"a {col.dtype.value} in the format {fmt}" if fmt else _EXPECTED[col.dtype]
            expected = expected.replace("%", "%%").replace("'", "''")  # inside a printf SQL literal
            checks.append((col.name, f"{s} IS NOT NULL AND {t} IS NULL",
                           f"printf('''%s'' is not {expected}', {_shown(s)})"))
        if col.minimum is not None:
            checks.append((col.name, f"{v} < {col.minimum!r}",
                           f"printf('%s is below the minimum {col.minimum:g}', {shown})"))
        if col.maximum is not None:
            checks.append((col.name, f"{v} > {col.maximum!r}",
                           f"printf('%s is above the maximum {col.maximum:g}', {shown})"))
    if table.name == "survey_responses":
        checks.append(_scale_check(plan))
    for order in table.date_orders:
        a, b = q(order.earlier), q(order.later)
        checks.append((order.later, f"{b} < {a}",
                       f"printf('{order.later} %s is before {order.earlier} %s', {_shown(b)}, {_shown(a)})"))
    limit = now + dt.timedelta(days=1)
    for col in table.columns:
        if col.dtype is DType.TIMESTAMP:
            bound = f"TIMESTAMPTZ {lit(limit.isoformat())}"
        elif col.dtype is DType.DATE and col.name == table.known_at:
            bound = f"DATE {lit(limit.date().isoformat())}"
        else:
            continue
        checks.append((col.name, f"{q(col.name)} > {bound}",
                       f"printf('%s is in the future (after the load time {now:%Y-%m-%d %H:%M} UTC + 1 day)', "
                       f"{_shown(q(col.name))})"))
    return checks


def typed_select(plan: ColumnPlan, staged: Staged, now: dt.datetime) -> str:
    """SQL: ``__row``, the table's stored columns, ``__errs`` (every problem of the row, NULL when none) and
    ``__raw`` (the source row as JSON, only for rows with problems: the staged source can go right after)."""
    table = plan.table
    texts = [n for n in staged.columns if _is_text(staged.types[n])]
    raw = {name: q(f"__raw_{i}") for i, name in enumerate(staged.columns)}  # the source row, for bad rows
    layer1 = [f"{staged.row_number} AS __row", f"{attributes_value(plan, staged)} AS attributes"]
    layer1 += [f"strlen({q(n)}) AS {q('__len_' + n)}" for n in texts]
    layer1 += [f"{q(name)} AS {alias}" for name, alias in raw.items()]
    layer2 = ["*"]
    for col in table.columns:  # each source value is computed once (l1), then typed from its column (l2)
        expr, sql_type = source_value(plan, staged, col.name)
        layer1.append(f"{expr} AS {q('__s_' + col.name)}")
        spec = plan.maps.get(col.name)
        if spec is not None and spec.format and col.dtype in (DType.DATE, DType.TIMESTAMP):
            parsed = f"try_strptime(CAST({q('__s_' + col.name)} AS VARCHAR), {lit(spec.format)})"
            typed = f"CAST({parsed} AS {col.dtype.sql})"
        else:
            typed = typed_value(col, q("__s_" + col.name), sql_type)
        layer2.append(f"{typed} AS {q('__t_' + col.name)}")
    layer3 = ["*"] + [f"{_final_value(plan, c.name)} AS {q(c.name)}" for c in table.columns]
    layer4 = ["__row", "attributes"] + [q("__len_" + n) for n in texts] + list(raw.values())
    for col in table.columns:
        value = q(col.name)
        layer4 += [q("__s_" + col.name), q("__t_" + col.name),
                   f"COALESCE({value}, {col.default}) AS {value}" if col.default else value]
    checks = _checks(plan, staged, now)
    # Reasons are only built for rows where a check fails: a valid row costs one OR of booleans.
    if checks:
        any_bad = "(" + " OR ".join(f"({cond})" for _, cond, _ in checks) + ") IS TRUE"
        listed = ", ".join(_err(column, cond, reason) for column, cond, reason in checks)
        errs = f"CASE WHEN {any_bad} THEN list_filter([{listed}], lambda e: e IS NOT NULL) END"
        raw_json = f"CASE WHEN {any_bad} THEN {raw_row_json(staged, raw.__getitem__)} END"
    else:
        errs, raw_json = f"NULL::{ERR_TYPE}[]", "NULL::VARCHAR"
    stored = [q(c.name) for c in table.columns] + (["attributes"] if table.attributes else [])
    return (
        f"SELECT __row, {', '.join(stored)}, {errs} AS __errs, {raw_json} AS __raw FROM ("
        f"SELECT {', '.join(layer4)} FROM ("
        f"SELECT {', '.join(layer3)} FROM ("
        f"SELECT {', '.join(layer2)} FROM ("
        f"SELECT {', '.join(layer1)} FROM {q(staged.name)}"
        f") AS l1) AS l2) AS l3) AS l4"
    )
