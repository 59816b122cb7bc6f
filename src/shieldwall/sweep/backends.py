"""Where tasks run: in this process (1 worker), in local worker processes, or on Dask (a
LocalCluster, or an existing cluster at ``tcp://HOST:PORT``). Every backend hands results back
to this process, which writes the shards: workers need no shared disk, and a result is on disk
before the next task is handed out for its slot.

At most ``2 x workers + 2`` tasks are in flight at once: workers never wait for work, memory
stays flat however many points a sweep has, and a crash loses only those tasks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from shieldwall.errors import UsageError
from shieldwall.parallel import shared_pool, submit
from shieldwall.sweep.tasks import Job, Task, TaskResult, run_task

OnResult = Callable[[Task, TaskResult], None]


def in_flight(workers: int) -> int:
    return 2 * workers + 2


class InlineBackend:
    """One worker: this process."""

    workers = 1
    description = "1 worker (this process)"

    def run(self, job: Job, tasks: Iterator[Task], on_result: OnResult) -> None:
        for task in tasks:
            on_result(task, run_task(job, task))

    def close(self) -> None:
        pass


class ProcessBackend:
    """``workers`` local processes. Fork where it is safe (Linux, no other threads here):
    workers then start with the engine loaded; spawn otherwise."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"{workers} local worker processes"

    def run(self, job: Job, tasks: Iterator[Task], on_result: OnResult) -> None:
        with shared_pool(self.workers, job) as pool:
            _drive(lambda task: submit(pool, run_task, task), tasks, on_result, in_flight(self.workers))

    def close(self) -> None:
        pass


def _drive(submit: Callable[[Task], Future], tasks: Iterator[Task], on_result: OnResult, limit: int) -> None:
    """Keep ``limit`` tasks in flight; hand each result over as it lands."""
    pending: dict[Future, Task] = {}
    try:
        for task in tasks:
            if len(pending) >= limit:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    on_result(pending.pop(future), future.result())
            pending[submit(task)] = task
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                on_result(pending.pop(future), future.result())
    finally:
        for future in pending:
            future.cancel()


class DaskBackend:
    """Dask distributed: ``scheduler="local"`` starts a LocalCluster of ``workers`` processes
    with one thread each (the engine holds a core per task); otherwise ``scheduler`` is the
    address of a running cluster (``tcp://HOST:PORT``, see docs/sweep.md), used as it is."""

    def __init__(self, scheduler: str, workers: int) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - a dependency of shieldwall
            raise UsageError("--scheduler needs Dask distributed: pip install 'dask[distributed]'") from None
        self.cluster = None
        if scheduler == "local":
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        n = sum(w.get("nthreads", 1) for w in self.client.scheduler_info().get("workers", {}).values())
        self.workers = max(1, n)
        where = "LocalCluster" if self.cluster is not None else scheduler
        self.description = f"Dask {where}, {self.workers} worker thread{'s' if self.workers != 1 else ''}"

    def run(self, job: Job, tasks: Iterator[Task], on_result: OnResult) -> None:
        from distributed import as_completed

        shared = self.client.scatter(job, broadcast=True)  # once per worker, not once per task
        limit = in_flight(self.workers)
        batch = as_completed()
        submitted: dict[str, Task] = {}
        tasks = iter(tasks)

        def submit_next() -> bool:
            task = next(tasks, None)
            if task is None:
                return False
            future = self.client.submit(run_task, shared, task, key=f"{task.name}-{job.key[:12]}", pure=False)
            submitted[future.key] = task
            batch.add(future)
            return True

        for _ in range(limit):
            if not submit_next():
                break
        for future in batch:
            result = future.result()
            on_result(submitted.pop(future.key), result)
            future.release()
            submit_next()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_backend(workers: int, scheduler: str | None) -> Any:
    if scheduler is not None:
        return DaskBackend(scheduler, workers)
    return InlineBackend() if workers <= 1 else ProcessBackend(workers)
