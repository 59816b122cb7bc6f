"""``shieldwall sweep`` and ``shieldwall allocate``: many options, one table, a decision."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from shieldwall.errors import UsageError


def progress_bar(unit: str = "replications") -> tuple[Progress, Any]:
    """A bar with tasks done, replications per second and time left; refreshed by its caller
    (no thread of its own: worker processes may be forked while it is open)."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                   console=Console(stderr=True), auto_refresh=False, transient=False)
    task = bar.add_task("tasks", total=None, rate="")
    start = [time.perf_counter(), None]

    def update(done: int, total: int, reps: int) -> None:
        if start[1] is None:  # the rate counts this run's replications, not resumed ones
            start[1] = done
        elapsed = max(time.perf_counter() - start[0], 1e-9)
        bar.update(task, completed=done, total=total, rate=f"{reps / elapsed:,.0f} {unit}/s")
        bar.refresh()

    return bar, update


def sweep_command(path: Path, *, out: Path | None, workers: int, scheduler: str | None, resume: bool,
                  html: bool = True) -> None:
    from shieldwall.sweep import load_sweep, run_sweep

    if workers < 1:
        raise UsageError("--workers must be at least 1")
    loaded = load_sweep(path)
    out = out or Path("out") / "sweep" / path.stem
    console = Console(highlight=False, soft_wrap=True)
    from shieldwall.sweep.design import design_size

    console.print(Text(f"sweep {path}: {design_size(loaded.spec):,} points x {loaded.spec.replications:,} replications "
                  f"of {loaded.spec.base} ({loaded.kind}), design {loaded.spec.design.kind}"))
    bar, update = progress_bar()
    with bar:
        result = run_sweep(loaded, out, workers=workers, scheduler=scheduler, resume=resume, progress=update)
    run = result.pop("_run")
    console.print(f"{run['tasks_run']} tasks run on {run['backend']} in {run['wall_s']:.1f} s")
    for table in sweep_tables(result):
        console.print(table)
    if html:
        from shieldwall.report.sweep_html import write_sweep_report

        console.print(f"report: {write_sweep_report(out)}")
    console.print(f"results: {out / 'sweep.json'}, {out / 'points.parquet'}, shards in {out / 'shards'} "
                  "(DuckDB: shieldwall.sweep.store.SweepStore(DIR).connect())")


def sweep_tables(result: dict[str, Any]) -> list[Table]:
    tables = []
    for output, ranking in result["ranking"].items():
        has_sobol = any(r.get("ST") is not None or r.get("S1") is not None for r in ranking)
        t = Table(title=f"{output}: factors by importance", title_justify="left")
        t.add_column("factor")
        t.add_column("effect range", justify="right")
        if has_sobol:
            for col in ("S1 [95%]", "ST [95%]"):
                t.add_column(col, justify="right")
        for r in ranking:
            cells = [r["factor"], f"{r['effect_range']:,.3g}"]
            if has_sobol:
                cells += [_index(r.get("S1"), r.get("S1_conf")), _index(r.get("ST"), r.get("ST_conf"))]
            t.add_row(*map(Text, cells))
        tables.append(t)
        best = Table(title=f"{output}: best points (mean [95% CI])", title_justify="left")
        for col in ("point", "factors", output):
            best.add_column(col)
        for b in result["best"][output]:
            best.add_row(str(b["point"]), Text(", ".join(f"{k}={v}" for k, v in b["factors"].items())),
                         Text(f"{b['mean']:,.3g} [{b['ci95'][0]:,.3g}, {b['ci95'][1]:,.3g}]"))
        tables.append(best)
    return tables


def _index(value: float | None, conf: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} [{value - (conf or 0):.3f}, {value + (conf or 0):.3f}]"
