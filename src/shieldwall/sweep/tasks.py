"""Tasks: a point and a range of the engine's seed chunks. A task runs exactly those chunks of
the point's own run (``engine.runner.simulate_chunks``: the seeds are spawned from the sweep's
seed per chunk), so a point's replications are the same whichever worker, backend or split ran
them, and every point sees the same random numbers (common random numbers).

A campaign point is one task: a campaign draws each night's raids for all replications at once
and simulates the replications that have a raid in chunks of the engine, so replication r's
numbers depend on the others'; splitting it would change its results. Its variant is built (and
checked) where the task is made, so workers need none of its files."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shieldwall.errors import ShieldwallError


@dataclass(frozen=True)
class Job:
    """What every task of a sweep shares (sent to each worker once)."""

    key: str  # the sweep's fingerprint: a worker's cache never mixes two sweeps
    kind: str  # "raid" or "campaign"
    base: Any  # Scenario (raid); unused for campaigns, whose tasks carry their variant
    seed: int
    replications: int
    quantities: tuple[str, ...]


@dataclass(frozen=True)
class Task:
    point: int
    chunks: range  # engine seed chunks; a campaign's is range(0, 1), the whole run
    changes: dict[str, Any]
    variant: Any = None  # campaigns: the checked LoadedCampaign of this point

    @property
    def name(self) -> str:
        """Its shard's name: unique per task, so a task's results are written at most once."""
        return f"p{self.point:06d}-c{self.chunks.start:05d}"


@dataclass
class TaskResult:
    point: int
    first_replication: int
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    engine_s: float = 0.0  # variation, compile and simulation: the work itself
    error: str | None = None


def task_name(point: int, first_chunk: int) -> str:
    return Task(point, range(first_chunk, first_chunk + 1), {}).name


def make_tasks(kind: str, n_points: int, replications: int, task_replications: int) -> list[tuple[int, range]]:
    """(point, chunk range) of every task, in point order."""
    from shieldwall.engine.runner import CHUNK_SIZE

    if kind == "campaign":
        return [(p, range(0, 1)) for p in range(n_points)]
    n_chunks = -(-replications // CHUNK_SIZE)
    per = max(1, task_replications // CHUNK_SIZE)
    return [(p, range(c, min(c + per, n_chunks))) for p in range(n_points) for c in range(0, n_chunks, per)]


# -- the worker's side -------------------------------------------------------------------------

_CACHE: dict[tuple[str, int], tuple[Any, Any]] = {}  # (sweep, point) -> (scenario, compiled)
_CACHE_SIZE = 2


def _compiled(job: Job, task: Task) -> tuple[Any, Any]:
    """A point's variant, compiled once per worker while its chunks keep coming."""
    key = (job.key, task.point)
    if key not in _CACHE:
        from shieldwall.engine.compile import compile_scenario
        from shieldwall.scenario.vary import vary_scenario

        scenario = vary_scenario(job.base, task.changes, label=f"point {task.point}")
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (scenario, compile_scenario(scenario, job.seed))
    return _CACHE[key]


def run_task(job: Job, task: Task) -> TaskResult:
    """Simulate one task; a user mistake comes back as ``error`` (exceptions with their own
    fields do not survive pickling between processes)."""
    start = time.perf_counter()
    try:
        if job.kind == "campaign":
            from shieldwall.campaign.run import run_campaign
            from shieldwall.sweep.outputs import campaign_quantities

            result = run_campaign(task.variant, replications=job.replications, seed=job.seed)
            columns = campaign_quantities(result, list(job.quantities))
            first = 0
        else:
            from shieldwall.engine.runner import CHUNK_SIZE, simulate_chunks
            from shieldwall.sweep.outputs import raid_quantities

            scenario, compiled = _compiled(job, task)
            raid = simulate_chunks(compiled, scenario, replications=job.replications, seed=job.seed,
                                   chunks=task.chunks)
            columns = raid_quantities(raid, list(job.quantities))
            first = task.chunks.start * CHUNK_SIZE
    except ShieldwallError as exc:
        return TaskResult(task.point, 0, error=str(exc))
    return TaskResult(task.point, first, columns, time.perf_counter() - start)


def iter_tasks(kind: str, specs: list[tuple[int, range]], changes: list[dict[str, Any]],
               build_variant: Any) -> Iterator[Task]:
    """Tasks made as they are needed (a campaign variant is built when its task is next)."""
    for point, chunks in specs:
        variant = build_variant(point) if kind == "campaign" else None
        yield Task(point, chunks, changes[point], variant)
