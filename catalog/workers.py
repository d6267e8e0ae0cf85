"""One pool of worker processes per process, for CPU-bound work on big batches (parsing RDF
pages, rendering records). On a two-core machine this roughly halves imports and harvests.

Workers are forked, not spawned (spawn would re-run the caller's main script), and only from a
process that runs a single thread, so no lock held by another thread can be inherited: the CLI
(imports, harvests, the scheduler) gets workers, the threaded web server and test servers do
the work in line. ``ODAPP_WORKERS=0`` turns them off.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

_pool: ProcessPoolExecutor | None = None


def worker_count() -> int:
    configured = os.environ.get("ODAPP_WORKERS")
    if configured is not None:
        return max(0, int(configured))
    return os.cpu_count() or 1


def pool() -> ProcessPoolExecutor | None:
    """The shared pool, or None where work must stay in this process."""
    global _pool
    if _pool is not None:
        return _pool
    if worker_count() < 2 or threading.active_count() != 1:
        return None
    _pool = ProcessPoolExecutor(worker_count(), mp_context=multiprocessing.get_context("fork"))
    atexit.register(_pool.shutdown, cancel_futures=True)
    return _pool
