"""Names beside ids: what every table a person reads shows next to an account, member, lead or contact id.

The rules, in one place:

- each id column a table shows gets a ``*_name`` column right after it (``owner_id`` -> ``owner_name``);
- a name that several rows of its source table share is followed by the id in brackets ("Alex Kim (m_007)"),
  so two people with one name never read as one;
- the join happens in the engine (an Ibis left join on the id), never in a Python loop; rows keep their order.
"""

from __future__ import annotations

from enum import StrEnum

import ibis
import ibis.expr.types as ir
import pandas as pd

from retain.warehouse.point_in_time import AsOf
from retain.warehouse.store import Warehouse


class Named(StrEnum):
    """Kinds of entity whose ids are shown with a name."""

    ACCOUNT = "account"
    MEMBER = "member"
    LEAD = "lead"
    CONTACT = "contact"
    OPPORTUNITY = "opportunity"


# kind -> (table, key column, name column)
SOURCES: dict[Named, tuple[str, str, str]] = {
    Named.ACCOUNT: ("accounts", "account_id", "name"),
    Named.MEMBER: ("team_members", "member_id", "name"),
    Named.LEAD: ("leads", "lead_id", "company"),
    Named.CONTACT: ("contacts", "contact_id", "name"),
    Named.OPPORTUNITY: ("opportunities", "opportunity_id", "name"),
}

# id column -> the kind it names (the columns the schema declares as references to these keys)
ID_COLUMNS: dict[str, Named] = {
    "account_id": Named.ACCOUNT,
    "member_id": Named.MEMBER,
    "owner_id": Named.MEMBER,
    "csm_id": Named.MEMBER,
    "manager_id": Named.MEMBER,
    "lead_id": Named.LEAD,
    "contact_id": Named.CONTACT,
    "opportunity_id": Named.OPPORTUNITY,
}
ENTITY_ID = "entity_id"  # with ``entity_type`` (tags): the kind is given per row
_ORDER = "_names_row"


def name_column(id_column: str) -> str:
    """``owner_id`` -> ``owner_name``; ``entity_id`` -> ``entity_name``."""
    return id_column.removesuffix("_id") + "_name"


def labels(wh: Warehouse, kind: Named, as_of: AsOf | None = None) -> ir.Table:
    """``(id, label)`` of every ``kind`` (as known at ``as_of`` when given); repeated names carry their id."""
    table, key, name = SOURCES[kind]
    source = wh.as_of(table, as_of) if as_of is not None else wh.raw(table)
    rows = source.select(id=source[key].cast("string"), name=source[name].cast("string"))
    rows = rows.group_by("id").agg(name=rows.name.max())  # one row per id, even where history holds versions
    # one row per id here, so a count is the distinct count (Spark has no COUNT(DISTINCT) over a window)
    shared = rows.id.count().over(ibis.window(group_by=rows.name)) > 1
    label = ibis.cases((rows.name.isnull(), rows.id), (shared, rows.name.concat(" (", rows.id, ")")),
                       else_=rows.name)
    return rows.select("id", label=label)


def _entity_labels(wh: Warehouse, as_of: AsOf | None) -> ir.Table:
    return ibis.union(*(labels(wh, kind, as_of).mutate(kind=ibis.literal(kind.value)) for kind in Named))


def with_names(wh: Warehouse, data: ir.Table | pd.DataFrame, *, as_of: AsOf | None = None,
               columns: tuple[str, ...] | None = None, order_by: str | tuple[str, ...] = ()) -> ir.Table:
    """``data`` with a ``*_name`` column right after each id column in it (``columns``: which; default all known).

    A DataFrame keeps its row order; an Ibis table is ordered by ``order_by`` (descending when the name starts
    with ``-``), since a join does not keep order. An unknown id gets an empty name.
    """
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
        data = ibis.memtable(frame.assign(**{_ORDER: range(len(frame))}))
    shown = list(data.columns)
    wanted = [c for c in (columns or shown) if c in ID_COLUMNS or (c == ENTITY_ID and "entity_type" in shown)]
    out = data
    for col in wanted:
        new = name_column(col)
        if col == ENTITY_ID:
            names = _entity_labels(wh, as_of)
            names = names.select(_key=names.id, _kind=names.kind, **{new: names.label})
            cond = [out[col].cast("string") == names._key, out.entity_type == names._kind]
        else:
            names = labels(wh, ID_COLUMNS[col], as_of)
            names = names.select(_key=names.id, **{new: names.label})
            cond = [out[col].cast("string") == names._key]
        out = out.left_join(names, cond).drop(*(c for c in ("_key", "_kind") if c in names.columns))
    order = [c for c in shown if c != _ORDER]
    for col in reversed(wanted):
        order.insert(order.index(col) + 1, name_column(col))
    keys = [_ORDER] if _ORDER in shown else [ibis.desc(k[1:]) if k.startswith("-") else k
                                               for k in ((order_by,) if isinstance(order_by, str) else order_by)]
    return out.order_by(keys).select(*order) if keys else out.select(*order)
