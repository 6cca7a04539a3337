"""The analytics warehouse: an Ibis connection (DuckDB file by default) plus point-in-time reads."""

from retain.warehouse.clock import AsOfDay, as_of_day
from retain.warehouse.connection import DEFAULT_DB, ENV_URL, connect, missing_duckdb_file, resolve_url
from retain.warehouse.point_in_time import AsOf, as_of_date, known_by, snapshot
from retain.warehouse.store import Warehouse

__all__ = [
    "DEFAULT_DB", "ENV_URL", "AsOf", "AsOfDay", "Warehouse", "as_of_date", "as_of_day", "connect", "known_by",
    "missing_duckdb_file", "resolve_url", "snapshot",
]
