"""Independent model fits side by side, one core each.

A validation fits every candidate on several folds (or past quarters), each fit independent of the others.
LightGBM's own OpenMP threads are a poor way to use two cores on frames of this size: the threads meet at a
barrier several times per boosting round, and with passive waiting (which keeps a shared machine usable) each
meeting costs a wake-up. On the demo's churn frame a 2-thread fit took 1.4 s where a 1-thread fit took 0.9 s.
So every fit runs on one thread (``num_threads=1`` in :data:`retain.models.candidates.LGB_PARAMS`, one BLAS
thread) and the fits run at the same time in a thread pool: LightGBM releases the GIL while it trains, and NumPy
and BLAS while they multiply, so a LightGBM fit and a logistic one share the two cores well. A fit's result does
not depend on the thread count or on which fits run beside it (tested).

BLAS is held at one thread for the whole pool (:func:`threadpoolctl.threadpool_limits` changes the process, not a
thread). A fit that limits BLAS itself (the fitted scorecard) then saves and restores that same one thread, so
fits entering and leaving their limits in any order leave it as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from threadpoolctl import threadpool_limits

MAX_WORKERS = 4  # fits in memory at once: each holds its training frame and LightGBM's binned copy of it

T = TypeVar("T")
R = TypeVar("R")


def workers() -> int:
    """The fits to run at once: the cores this process may use, at most :data:`MAX_WORKERS`."""
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def map_fits(fit: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fit(item) for item in items]``, up to :func:`workers` at a time, in the order of ``items``; the first
    exception raised by a fit propagates."""
    items = list(items)
    n = min(workers(), len(items))
    if n <= 1:
        return [fit(item) for item in items]
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(
            max_workers=n, thread_name_prefix="retain-fit") as pool:
        return list(pool.map(fit, items))
