"""The analytics warehouse: an Ibis connection (DuckDB file by default) plus point-in-time reads."""

from retain.warehouse.connection import DEFAULT_DB, ENV_URL, connect, resolve_url
from retain.warehouse.point_in_time import AsOf, as_of_date, known_by, snapshot
from retain.warehouse.store import Warehouse

__all__ = [
    "DEFAULT_DB", "ENV_URL", "AsOf", "Warehouse", "as_of_date", "connect", "known_by", "resolve_url", "snapshot",
]
