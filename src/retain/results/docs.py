"""Render the declared results as Markdown (``docs/results.md``; a test keeps them in step)."""

from __future__ import annotations

from retain.results.model import ResultColumn, ResultSpec
from retain.results.specs import RESULTS

INTRO = """# Retain stored results

Generated from `retain.results` by `make docs` (`python -m retain.results.docs`); a test fails when this file and
the code disagree. Every result Retain computes and keeps is stored in the warehouse as a table `result_<name>`,
declared once with its columns, key, grain and the function that produces it.

**Storing.** `Warehouse.store_result(name, frame, as_of)` refuses a name declared nowhere, a frame with a column
the result does not declare, a missing never-null column, a column whose type does not cast to the declared one
and a null in a never-null column, naming the result and the column. A nullable column the frame lacks is stored
as null. A stored table whose layout differs from the declaration (an older Retain's) is rebuilt by the
warehouse. A result stored per date has an `as_of` date column and one set of rows per date; storing a date
again replaces that date's rows.

**Reading.** `retain publish` and the pages read these results by the column names declared here.
"""


def _column_row(col: ResultColumn) -> str:
    rules = []
    if col.values:
        rules.append("one of " + ", ".join(f"`{v}`" for v in col.values))
    return (f"| `{col.name}` | {col.type_name} | {'' if col.nullable else 'never'} | {col.meaning} | "
            f"{'; '.join(rules)} |")


def render_result(result: ResultSpec) -> str:
    lines = [f"## `{result.name}`", "", result.meaning, ""]
    lines.append(f"- Table: `result_{result.name}`")
    lines.append(f"- Grain: {result.grain.value}" + (", per `as_of` date" if result.dated else ", not dated"))
    lines.append(f"- Key: {', '.join(f'`{k}`' for k in result.key)}" + (" and `as_of`" if result.dated else ""))
    lines.append(f"- Produced by: `{result.producer}`")
    lines += ["", "| column | type | null | meaning | values |", "|---|---|---|---|---|"]
    lines += [_column_row(c) for c in result.columns]
    return "\n".join(lines)


def render() -> str:
    index = "\n".join(f"- [`{r.name}`](#{r.name}): {r.meaning}" for r in RESULTS.values())
    return INTRO + "\n" + index + "\n\n" + "\n\n".join(render_result(r) for r in RESULTS.values()) + "\n"


if __name__ == "__main__":
    print(render(), end="")
