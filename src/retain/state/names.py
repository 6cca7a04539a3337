"""The accounts list's name search on SQLite: an FTS5 trigram index over account names.

A substring search (``LIKE '%acme%'``) cannot use a B-tree index, so on 100k accounts it reads every name; the
trigram index answers patterns of three characters or more from the index (Chinese names included, since
trigrams are of characters). It holds a copy of ``(name, account_id)`` and is rebuilt whenever the snapshots
are (:func:`retain.state.publish.publish`), so it never drifts from them.
"""

from __future__ import annotations

from sqlalchemy import Connection, literal_column, select, table, text
from sqlalchemy.orm import Session

TABLE = "account_names"
MIN_LENGTH = 3  # shorter patterns have no trigram: FTS5 would scan, slower than LIKE on the table


def create_name_index(connection: Connection) -> None:
    connection.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} "
                            "USING fts5(name, account_id UNINDEXED, tokenize='trigram')"))
    rebuild_name_index(connection)


def rebuild_name_index(connection: Connection | Session) -> None:
    """Refill the index from ``account_snapshots`` (SQLite only; a no-op elsewhere)."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    if bind.dialect.name != "sqlite":
        return
    connection.execute(text(f"DELETE FROM {TABLE}"))
    connection.execute(text(f"INSERT INTO {TABLE} (name, account_id) SELECT name, account_id FROM account_snapshots"))


def name_matches(text_: str):
    """A SELECT of the ids whose name contains ``text_`` (any case), or None where the index cannot answer."""
    if len(text_) < MIN_LENGTH:
        return None
    phrase = '"' + text_.replace('"', '""') + '"'  # a quoted phrase of trigrams: a substring, operators inert
    return select(literal_column("account_id")).select_from(table(TABLE)).where(
        literal_column(TABLE).op("MATCH")(phrase))
