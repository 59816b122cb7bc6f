"""Local worker processes that share one read-only object (a compiled scenario, a sweep's job):
it is handed to each worker once, when the pool starts, not with every task.

Used by the engine's runner (chunks of replications), campaigns and sweeps: one way to start
workers, so that all of them fork where that is safe and spawn elsewhere.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from typing import Any

_SHARED: Any = None  # in a worker: the pool's shared object


def worker_context() -> BaseContext:
    """Fork where it is safe (Linux, no other Python threads): workers then start in
    milliseconds with the compiled kernel already loaded. Otherwise (a web server's background
    run, Windows, macOS) spawn, which costs about a second per worker to import and load."""
    if "fork" in get_all_start_methods() and sys.platform.startswith("linux") and threading.active_count() == 1:
        return get_context("fork")
    return get_context("spawn")


def _keep(shared: Any) -> None:
    global _SHARED
    _SHARED = shared


def _call(fn: Callable[[Any, Any], Any], arg: Any) -> Any:
    return fn(_SHARED, arg)


def shared_pool(workers: int, shared: Any) -> ProcessPoolExecutor:
    """``workers`` processes, each holding ``shared``."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(), initializer=_keep,
                               initargs=(shared,))


def submit(pool: ProcessPoolExecutor, fn: Callable[[Any, Any], Any], arg: Any) -> Future:
    """Run ``fn(shared, arg)`` in one of ``shared_pool``'s workers (``fn`` must be importable)."""
    return pool.submit(_call, fn, arg)
