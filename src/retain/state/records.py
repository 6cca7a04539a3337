"""One account's whole record, read through the database driver with statements compiled once.

The API's account read is the hottest path of the server (an integration polls it for every account). Through
the ORM it spends most of its time building, caching and compiling the statement and wrapping the result; here
the three scoped statements (admin, manager, member) are compiled once per engine from the same clauses as
:mod:`retain.state.queries`, and a read is one driver ``execute`` on a pooled connection.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, String, bindparam, select

from retain.state.models import AccountDetail, AccountSnapshot, Role
from retain.state.queries import Scope, printable, scoped

SNAPSHOT_COLUMNS = tuple(c for c in AccountSnapshot.__table__.c if c.name != "at_risk")
JSON_COLUMNS = ("components", "reasons", "detail")


def _statements():
    """The account by id, restricted per role by the same clause as every other query (:func:`queries.scoped`),
    with the member id left as a parameter."""
    a = AccountSnapshot
    base = (select(*SNAPSHOT_COLUMNS, *(getattr(AccountDetail, c) for c in JSON_COLUMNS))
            .join_from(a, AccountDetail, isouter=True).where(a.account_id == bindparam("account_id")))
    member = bindparam("member_id", type_=String(128))
    return {role: scoped(base, Scope(role), member=member) for role in Role}


class AccountRecords:
    """``read(scope, account_id)``: the account's columns and its detail as plain JSON-ready values, or None when
    it does not exist or ``scope`` may not see it (the same rule as :func:`retain.state.queries.get_account`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._compiled = {}
        for role, stmt in _statements().items():
            compiled = stmt.compile(dialect=engine.dialect)
            self._compiled[role] = (str(compiled), compiled.positiontup)
        self.names = [c.name for c in SNAPSHOT_COLUMNS] + list(JSON_COLUMNS)

    def read(self, scope: Scope, account_id: str) -> dict[str, Any] | None:
        if not printable(account_id) or (scope.role is not Role.ADMIN and not scope.member_id):
            return None
        sql, order = self._compiled[scope.role]
        values = {"account_id": account_id, "member_id": scope.member_id}
        params: Any = [values[n] for n in order] if order is not None else values
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            finally:
                cursor.close()
            connection.commit()  # end the read transaction (PostgreSQL would otherwise hold it on the pooled conn)
        finally:
            connection.close()
        if row is None:
            return None
        record = dict(zip(self.names, row, strict=True))
        for name in JSON_COLUMNS:  # SQLite hands JSON back as text; psycopg has already decoded it
            if isinstance(record[name], str | bytes):
                record[name] = orjson.loads(record[name])
        return record
