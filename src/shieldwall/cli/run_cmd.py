"""``shieldwall run``: load, simulate with a progress bar, print tables, write files.

The run is written into a staging folder beside ``--out`` and moved into place only when it is
complete (report.rundir.StagedRun): an interrupted run leaves ``--out`` as it was, and never a
mix of an older run's files with a newer one's."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text


def progress_columns() -> tuple:
    """The bar's columns; the description is user text (a scenario's name), never markup."""
    return (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def steps_bar(console: Console, description: str, total: int) -> tuple[Progress, Callable[[int], None]]:
    """A transient bar shown on a terminal, and the callback that advances it by n steps. It is
    refreshed by that callback, with no thread of its own: while another thread runs, worker
    processes are spawned instead of forked (``shieldwall.parallel.worker_context``) and start cold,
    each importing and loading everything again (a parallel campaign took longer than one
    process in a terminal)."""
    bar = Progress(*progress_columns(), console=console, transient=True, disable=not console.is_terminal,
                   auto_refresh=False)
    task = bar.add_task(description, total=total)
    shown = [0.0]  # when it was last drawn: at most ten times a second (a night can take a millisecond)

    def advance(n: int) -> None:
        bar.advance(task, n)
        if time.monotonic() - shown[0] >= 0.1 or bar.tasks[0].finished:
            bar.refresh()
            shown[0] = time.monotonic()

    return bar, advance


def run_command(path: Path, *, replications: int, seed: int | None, out: Path, workers: int,
                html: bool = True, max_memory: str | None = None) -> None:
    from shieldwall.engine.budget import parse_bytes
    from shieldwall.engine.runner import run
    from shieldwall.report.console import plain_console, print_summary, printable
    from shieldwall.report.markdown import write_markdown_report
    from shieldwall.report.rundir import StagedRun, check_out_dir
    from shieldwall.scenario.load import load_scenario

    console = plain_console()
    budget = parse_bytes(max_memory) if max_memory else None
    check_out_dir(out)
    scenario = load_scenario(path)
    with StagedRun(out, "raid", replications=replications, seed=seed, scenario_file=str(path)) as stage:
        bar, advance = steps_bar(console, printable(f"simulating {scenario.name}"), replications)
        with bar:
            result = run(scenario, replications=replications, seed=seed, workers=workers, out_dir=stage.path,
                         progress=advance, max_memory_bytes=budget)
        summary = result.summary()
        write_markdown_report(summary, stage.path / "report.md")
        if html:
            from shieldwall.report.html import write_report

            write_report(stage.path, shown_as=str(out))
        stage.commit()
    print_summary(console, summary)
    written = f"wrote {out / 'summary.json'}, {out / 'report.md'}, {out / 'replications'}/*.parquet, " \
              f"{out / 'events.parquet'} (replication 0)"
    console.print(Text(printable(written)))
    if html:
        console.print(Text(printable(f"wrote {out / 'report.html'} (open it in a browser; no network needed)")))
