"""``run_sweep``: the points of a sweep file, their tasks on a backend, the shards, and at the
end the points table and sweep.json (analysis: ``shieldwall.sweep.analysis``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shieldwall.errors import ScenarioError, ShieldwallError
from shieldwall.sweep.backends import make_backend
from shieldwall.sweep.design import changes_of, design_points
from shieldwall.sweep.outputs import quantity_of
from shieldwall.sweep.spec import LoadedSweep, spec_json
from shieldwall.sweep.store import SweepStore, atomic_write_text
from shieldwall.sweep.tasks import Job, Task, TaskResult, iter_tasks, make_tasks

Progress = Callable[[int, int, int], Any]  # (tasks done, tasks in all, replications done)


class TaskFailed(ShieldwallError):
    """A point the base cannot take (found by a worker): its message says which and why."""


def run_sweep(loaded: LoadedSweep, out_dir: str | Path, *, workers: int = 1, scheduler: str | None = None,
              resume: bool = False, progress: Progress | None = None, backend: Any = None) -> dict[str, Any]:
    """Run (or finish) the sweep into ``out_dir``; returns what sweep.json holds."""
    from shieldwall.sweep.analysis import analyse, points_table

    spec = loaded.spec
    points = design_points(loaded)
    labels = [f.label for f in spec.factors]
    store = SweepStore(out_dir)
    fingerprint = loaded.fingerprint()
    design = {"point": list(range(len(points))), **{label: [p[label] for p in points] for label in labels}}
    store.prepare(fingerprint, {"sweep_file": loaded.file, "spec": json.loads(spec_json(loaded))}, design,
                  resume=resume)
    specs = make_tasks(loaded.kind, len(points), spec.replications, spec.task_replications)
    done = store.done()
    todo = [(p, c) for p, c in specs if Task(p, c, {}).name not in done]
    changes = [changes_of(loaded, p) for p in points]
    quantities = tuple(dict.fromkeys(quantity_of(o) for o in spec.outputs))
    job = Job(fingerprint, loaded.kind, loaded.base if loaded.kind == "raid" else None, spec.seed,
              spec.replications, quantities)

    def build_variant(point: int) -> Any:
        return loaded.vary(changes[point], f"{loaded.file}: point {point} ({_describe(points[point])})")

    finished = len(specs) - len(todo)
    reps_done = [0]
    engine_s = [0.0]

    def on_result(task: Task, result: TaskResult) -> None:
        nonlocal finished
        if result.error is not None:
            raise TaskFailed(f"point {task.point} ({_describe(points[task.point])}):\n{result.error}")
        store.write_shard(task.name, task.point, result.first_replication, result.columns)
        finished += 1
        reps_done[0] += len(next(iter(result.columns.values())))
        engine_s[0] += result.engine_s
        if progress:
            progress(finished, len(specs), reps_done[0])

    if progress:
        progress(finished, len(specs), 0)
    start = time.perf_counter()
    own = backend is None
    backend = make_backend(workers, scheduler) if own else backend
    try:
        backend.run(job, iter_tasks(loaded.kind, todo, changes, build_variant), on_result)
    except ScenarioError as exc:  # a campaign variant checked here
        raise TaskFailed(str(exc)) from None
    finally:
        if own:
            backend.close()
    wall = time.perf_counter() - start

    rows = store.replications()
    table = points_table(loaded, points, rows)
    store.write_points(table)
    result = analyse(loaded, points, table, rows)
    atomic_write_text(Path(out_dir) / "sweep.json", json.dumps(result, indent=2, sort_keys=False) + "\n")
    result["_run"] = {"tasks_run": len(todo), "wall_s": wall, "engine_s": engine_s[0],
                      "backend": backend.description}
    return result


def _describe(point: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in point.items())
