"""A warehouse file locked by another process: a retryable error that says who holds the lock.

DuckDB lets one process write a database file; another process opening it gets an IO error whose text names the
holder (``Conflicting lock is held in /usr/bin/python3 (PID 4242)``). Ingestion turns that into
:class:`WarehouseLockedError` (exit code 11 on the command line, 503 with ``Retry-After`` from the API).
"""

from __future__ import annotations

import re

from retain.errors import WarehouseError

_LOCK = re.compile(r'Could not set lock on file "(?P<file>[^"]+)": Conflicting lock is held in (?P<holder>.+?) '
                   r'\(PID (?P<pid>\d+)\)')
RETRY_AFTER_SECONDS = 5


class WarehouseLockedError(WarehouseError):
    """Another process holds the warehouse file; retry once it is done."""

    exit_code = 11

    def __init__(self, message: str, *, hint: str | None = None, pid: int | None = None,
                 holder: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.pid, self.holder = pid, holder


def locked_error(exc: BaseException | None) -> WarehouseLockedError | None:
    """The lock error behind ``exc`` (or its causes), if a lock is what failed."""
    seen = 0
    while exc is not None and seen < 5:
        found = _LOCK.search(str(exc))
        if found:
            pid = int(found["pid"])
            return WarehouseLockedError(
                f"the warehouse {found['file']} is locked by another process: {found['holder']} (PID {pid})",
                hint=f"retry when that process has finished (see `ps -p {pid}`); a DuckDB file takes one writer",
                pid=pid, holder=found["holder"])
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None
