"""``shieldwall run``: load, simulate with a progress bar, print tables, write files.

The run is written into a staging folder beside ``--out`` and moved into place only when it is
complete (report.rundir.StagedRun): an interrupted run leaves ``--out`` as it was, and never a
mix of an older run's files with a newer one's."""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console


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


def run_command(path: Path, *, replications: int, seed: int | None, out: Path | None, workers: int,
                html: bool = True, max_memory: str | None = None, engagements: int | None = None) -> None:
    from shieldwall.engine.budget import parse_bytes
    from shieldwall.engine.runner import run
    from shieldwall.report.console import plain_console, print_summary, printable
    from shieldwall.report.markdown import write_markdown_report
    from shieldwall.report.rundir import DEFAULT_RUNS, StagedRun, check_out_dir, new_run_folder
    from shieldwall.scenario.load import load_scenario

    console = plain_console()
    budget = parse_bytes(max_memory) if max_memory else None
    if out is not None:
        check_out_dir(out)
    scenario = load_scenario(path)
    reserved = out is None
    if out is None:  # a new folder each run, inside the folder `shieldwall serve` lists
        out = new_run_folder(DEFAULT_RUNS, scenario.name)
    with interrupted_message(console, out, reserved):
        with StagedRun(out, "raid", replications=replications, seed=seed, scenario_file=str(path)) as stage:
            bar, advance = steps_bar(console, printable(f"simulating {scenario.name}"), replications)
            with bar:
                result = run(scenario, replications=replications, seed=seed, workers=workers, out_dir=stage.path,
                             progress=advance, max_memory_bytes=budget, engagements=engagements)
            summary = result.summary()
            write_markdown_report(summary, stage.path / "report.md")
            if html:
                from shieldwall.report.html import write_report

                write_report(stage.path, shown_as=str(out), scenario=result.scenario)
            stage.commit()
    print_summary(console, summary)
    logged = f", {out / 'engagements.parquet'} (every engagement)" if result.engagement_replications else ""
    written = f"wrote {out / 'summary.json'}, {out / 'report.md'}, {out / 'replications'}/*.parquet{logged}, " \
              f"{out / 'events.parquet'} (replication 0)"
    console.print(Text(printable(written)))
    if html:
        console.print(Text(printable(f"wrote {out / 'report.html'} (open it in a browser; no network needed)")))


@contextmanager
def interrupted_message(console: "Console", out: Path, reserved: bool) -> Iterator[None]:
    """Ctrl-C or a failure during a run: say that nothing was written (the staging folder is gone,
    ``out`` is as it was; a folder reserved for this run is removed again), then let it end the
    command (exit 130 for Ctrl-C)."""
    try:
        yield
    except BaseException as exc:
        from shieldwall.report.console import printable

        if reserved:
            try:
                out.rmdir()  # still empty: the run never moved in
            except OSError:
                pass
        if isinstance(exc, KeyboardInterrupt):
            console.print(Text(printable(f"interrupted: nothing was written, {out} is as it was"
                                         + (" (removed: it was made for this run)" if reserved else ""))))
            raise typer.Exit(130) from None
        raise
