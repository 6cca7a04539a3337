"""The results layer: every stored result declared once (columns, key, grain, producer, meaning).

A sibling of :mod:`retain.schema`: the schema declares what is loaded, this declares what is computed and stored.
The warehouse validates a frame against its spec when storing (:func:`conform`) and rebuilds a stored table whose
layout differs; ``retain publish`` reads columns by the declared names; ``docs/results.md`` is generated from it.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from retain.errors import ResultError
from retain.results.model import AdoptionTier, Grain, HealthGrade, ResultColumn, ResultSpec
from retain.results.specs import RESULTS

__all__ = ["RESULTS", "AdoptionTier", "Grain", "HealthGrade", "ResultColumn", "ResultSpec",
           "conform", "null_keys", "problems", "spec"]


def spec(name: str) -> ResultSpec:
    """The result called ``name``; a :class:`~retain.errors.ResultError` naming the closest match otherwise."""
    from difflib import get_close_matches

    try:
        return RESULTS[name]
    except KeyError:
        close = get_close_matches(name, RESULTS, n=1)
        hint = (f"did you mean '{close[0]}'?" if close
                else "declare it in retain.results.specs (every stored result has a spec)")
        raise ResultError(f"result '{name}' is not declared", hint=hint) from None


def problems(result: ResultSpec, schema: ibis.Schema) -> list[str]:
    """Every way a table of ``schema`` does not fit ``result`` (all of them, not just the first)."""
    out = [f"unexpected column '{n}'" for n in schema.names if not result.has(n)]
    for col in result.columns:
        if col.name not in schema:
            if not col.nullable:
                out.append(f"missing column '{col.name}' ({col.type_name}, never null)")
        elif not col.accepts(schema[col.name]):
            out.append(f"column '{col.name}' is {schema[col.name]}, which does not cast to {col.type_name}")
    return out


def conform(result: ResultSpec, table: ir.Table) -> ir.Table:
    """``table`` with exactly the declared columns, in order and cast to their types (an absent nullable column
    as null); a :class:`~retain.errors.ResultError` listing every problem when it does not fit."""
    found = problems(result, table.schema())
    if found:
        raise ResultError(f"result '{result.name}' does not fit its spec: " + "; ".join(found),
                          hint=f"produce the columns declared for '{result.name}' (retain.results.specs; "
                               "listed in docs/results.md)")
    return table.select(**{c.name: (table[c.name].cast(c.ibis) if c.name in table.columns
                                    else ibis.null(c.ibis)) for c in result.columns})


def null_keys(result: ResultSpec, frame) -> list[str]:
    """Never-null columns of ``result`` holding a null in ``frame`` (a pandas DataFrame or an Arrow table)."""
    pandas = hasattr(frame, "iloc")
    names = set(frame.columns if pandas else frame.column_names)
    out = []
    for col in result.columns:
        if col.nullable or col.name not in names:
            continue
        nulls = int(frame[col.name].isna().sum()) if pandas else frame.column(col.name).null_count
        if nulls:
            out.append(col.name)
    return out
